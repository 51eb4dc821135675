import { expect } from 'chai';
import { connect, createClient, FerryClient, type TransportKind } from '../../../client/src/node.js';
import { GatewayProcess, testToken, OPEN_PERMISSIONS } from '../../helpers/gateway-process.js';
import { certHashesOf, Inbox } from './helpers.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

const FAST_BACKOFF = { initialMs: 50, maxMs: 500 };

describe('client SDK (Node) against a real node', function () {
  this.timeout(30_000 * TIME_FACTOR);
  let gw: GatewayProcess;
  let hashes: string[];
  const clients: FerryClient[] = [];

  before(async function () {
    gw = await GatewayProcess.start([...OPEN_PERMISSIONS], { wt: true });
    hashes = await certHashesOf(gw.urls.admin);
  });
  afterEach(async function () {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  after(async function () {
    await gw?.cleanup();
  });

  function urlOf(kind: TransportKind): string {
    return kind === 'ws' ? gw.urls.ws : kind === 'tcp' ? gw.urls.tcp : gw.urls.wt;
  }

  async function login(
    user: string,
    kind: TransportKind,
    opts: { deviceId?: string } = {},
  ): Promise<FerryClient> {
    const c = await connect({
      url: urlOf(kind),
      token: await testToken(user),
      certHashes: hashes,
      backoff: FAST_BACKOFF,
      ...opts,
    });
    clients.push(c);
    return c;
  }

  for (const kind of ['ws', 'tcp', 'wt'] as const) {
    describe(`over ${kind}`, function () {
      it('authenticates, sends QoS 1 with an ack, receives, queries presence and pings', async function () {
        const alice = await login(`${kind}-alice`, kind);
        const bob = await login(`${kind}-bob`, kind);
        expect(alice.connection).to.include({ transport: kind, userId: `${kind}-alice` });
        const inbox = new Inbox(bob);
        const acks: number[] = [];
        alice.on('ack', (a) => acks.push(a.seq));

        const ack = await alice.send(`${kind}-bob`, 'hello', { qos: 1 });
        expect(ack.seq).to.be.above(0);
        expect(ack.duplicate).to.equal(false);
        expect(acks).to.deep.equal([ack.seq]);
        await inbox.until(() => inbox.messages.length === 1, 5000 * TIME_FACTOR);
        expect(inbox.messages[0]).to.include({ from: `${kind}-alice`, seq: ack.seq, qos: 1, topic: '' });
        expect(inbox.texts()).to.deep.equal(['hello']);

        const q0 = await alice.send(`${kind}-bob`, new Uint8Array([1, 2, 3]), { qos: 0 });
        expect(q0.seq).to.equal(0);
        await inbox.until(() => inbox.messages.length === 2, 5000 * TIME_FACTOR);
        expect([...inbox.messages[1]!.payload]).to.deep.equal([1, 2, 3]);

        const presence = await alice.presence([`${kind}-bob`, 'nobody']);
        expect(presence[0]).to.include({ userId: `${kind}-bob`, online: true });
        expect(presence[0]!.devices[0]).to.include({ transport: kind });
        expect(presence[1]).to.include({ userId: 'nobody', online: false });
        expect(await alice.ping()).to.be.a('number');
      });

      it('publishes to topic subscribers', async function () {
        const alice = await login(`${kind}-pub`, kind);
        const bob = await login(`${kind}-sub`, kind);
        const inbox = new Inbox(bob);
        await bob.subscribe(`room/${kind}`);
        const ack = await alice.publish(`room/${kind}`, 'to the room');
        await inbox.until(() => inbox.messages.length === 1, 5000 * TIME_FACTOR);
        expect(inbox.messages[0]).to.include({ topic: `room/${kind}`, seq: ack.seq, from: `${kind}-pub` });
      });
    });
  }

  it('delivers messages sent while the recipient was offline when it reconnects, once', async function () {
    const alice = await login('off-alice', 'ws');
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push((await alice.send('off-bob', `m${i}`)).seq);
    const bob = await login('off-bob', 'tcp', { deviceId: 'phone' });
    const inbox = new Inbox(bob);
    await inbox.until(() => inbox.messages.length === 5, 5000 * TIME_FACTOR);
    expect(inbox.texts()).to.deep.equal(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(bob.lastSeq).to.equal(Math.max(...sent));
  });

  it('stops without reconnecting when the token is refused (4504)', async function () {
    const client = createClient({ url: gw.urls.ws, token: 'not-a-jwt', backoff: FAST_BACKOFF });
    clients.push(client);
    const disconnects: { code: number; willReconnect: boolean }[] = [];
    client.on('disconnect', (d) => disconnects.push(d));
    const err = await client.start().then(
      () => null,
      (e: unknown) => e as Error & { disconnectCode: number },
    );
    expect(err?.disconnectCode).to.equal(4504);
    expect(disconnects).to.deep.equal([{ ...disconnects[0], code: 4504, willReconnect: false }]);
    expect(client.state).to.equal('closed');
  });
});
