import { expect } from 'chai';
import { DisconnectCode } from '../../../src/errors.js';
import { REPLACED_REASON } from '../../../src/session/registry.js';
import { WebTransportConnectError } from '../../../src/webtransport/index.js';
import { GatewayProcess, testToken, OPEN_PERMISSIONS } from '../../helpers/gateway-process.js';
import { WireClient } from '../../helpers/wire-client.js';
import { certHashes, WtWireClient } from './wt-wire-client.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

/** Datagrams may be lost (RFC 9221): send again until one arrives. */
async function untilReceived<T>(attempt: () => void, received: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 5; i++) {
    attempt();
    try {
      return await received();
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** The HTTP status a refused CONNECT failed with. */
async function refusal(attempt: Promise<unknown>): Promise<number | null> {
  try {
    await attempt;
  } catch (err) {
    if (err instanceof WebTransportConnectError) return err.status;
    throw err;
  }
  throw new Error('the session was accepted');
}

describe('gateway over WebTransport (Node client, real `ferry start`)', function () {
  this.timeout(30_000 * TIME_FACTOR);
  let gw: GatewayProcess;
  let hashes: string[];
  const clients: { close(): void }[] = [];

  before(async function () {
    gw = await GatewayProcess.start(['--auth-deadline', '1s', ...OPEN_PERMISSIONS], { wt: true });
    hashes = (await certHashes(gw.urls.admin)).hashes.map((h) => h.value);
  });
  afterEach(function () {
    for (const c of clients.splice(0)) c.close();
  });
  after(async function () {
    await gw?.cleanup();
  });

  async function login(user: string, deviceId = ''): Promise<WtWireClient> {
    const c = await WtWireClient.login(gw.urls.wt, hashes, await testToken(user), deviceId);
    clients.push(c);
    return c;
  }

  it('listens on a free UDP port and names it in the banner and the ready log', function () {
    expect(gw.urls.wt).to.match(/^https:\/\/127\.0\.0\.1:\d+\/wt$/);
    expect(gw.stderr).to.match(new RegExp(`WebTransport +${gw.urls.wt.replace(/[.]/g, '\\.')}`));
  });

  it('authenticates and exchanges QoS-1 messages with a WebSocket client; presence says wt', async function () {
    const alice = await login('n-alice');
    const bob = await WireClient.login(gw.urls.ws, await testToken('n-bob'));
    clients.push(bob);

    alice.send({ send: { toUser: 'n-bob', payload: Buffer.from('hi bob'), qos: 1, clientMsgId: 'a1' } });
    expect((await alice.nextBody('sendAck')).sendAck?.seq).to.be.above(0);
    const d = await bob.nextBody('deliver');
    expect(Buffer.from(d.deliver!.payload!).toString()).to.equal('hi bob');
    bob.send({ ack: { seq: d.deliver!.seq } });

    bob.send({ send: { toUser: 'n-alice', payload: Buffer.from('hi alice'), qos: 1, clientMsgId: 'b1' } });
    const back = await alice.nextBody('deliver');
    expect(back.deliver).to.deep.include({ fromUser: 'n-bob', qos: 1 });
    alice.send({ ack: { seq: back.deliver!.seq } });

    bob.send({ presenceQuery: { userIds: ['n-alice'] } });
    const p = await bob.nextBody('presenceResult');
    expect(p.presenceResult?.users?.[0]?.devices?.map((x) => x.transport)).to.deep.equal(['wt']);
  });

  it('carries ephemeral frames as datagrams both ways', async function () {
    const alice = await login('n-carol');
    const bob = await login('n-dave');
    const dg = await untilReceived(
      () =>
        alice.sendDatagram({ send: { toUser: 'n-dave', payload: Buffer.from('typing'), ephemeral: true } }),
      () => bob.nextDatagram(1000 * TIME_FACTOR),
    );
    expect(dg.deliver).to.deep.include({ fromUser: 'n-carol', ephemeral: true });
    expect(Buffer.from(dg.deliver!.payload!).toString()).to.equal('typing');
  });

  it('refuses a second bidi stream with 4503 and keeps the session', async function () {
    const alice = await login('n-erin');
    alice.openExtraStream();
    await alice.until(() => alice.refusedStreams.length > 0, 5000 * TIME_FACTOR, 'the reset');
    expect(alice.refusedStreams).to.deep.equal([DisconnectCode.PROTOCOL_VIOLATION]);
    alice.send({ ping: { timestampMs: 7 } });
    expect((await alice.nextBody('pong')).pong?.timestampMs).to.equal(7);
    expect(alice.closed).to.equal(false);
  });

  it('closes the session with 4503 when a datagram carries a non-ephemeral frame', async function () {
    const alice = await login('n-frank');
    alice.sendDatagram({ send: { toUser: 'n-x', payload: Buffer.from('x'), qos: 1, clientMsgId: 'm' } });
    const closed = await alice.waitClosed(5000 * TIME_FACTOR);
    expect(closed.code).to.equal(DisconnectCode.PROTOCOL_VIOLATION);
    expect((await alice.nextBody('disconnect')).disconnect?.code).to.equal(DisconnectCode.PROTOCOL_VIOLATION);
  });

  it('replaces a device with 4505: the Disconnect frame, then the session close with code and reason', async function () {
    const first = await login('n-gina', 'phone');
    await login('n-gina', 'phone');
    const closed = await first.waitClosed(5000 * TIME_FACTOR);
    expect(closed).to.deep.equal({ code: DisconnectCode.REPLACED, reason: REPLACED_REASON });
    const f = await first.nextBody('disconnect');
    expect(f.disconnect).to.deep.include({ code: DisconnectCode.REPLACED, reconnect: false });
  });

  it('closes with 4005 when the client does not authenticate in time', async function () {
    const idle = await WtWireClient.connect(gw.urls.wt, hashes);
    clients.push(idle);
    const closed = await idle.waitClosed(10_000 * TIME_FACTOR);
    expect(closed.code).to.equal(DisconnectCode.AUTH_TIMEOUT);
  });

  it('refuses another path with 404', async function () {
    const url = gw.urls.wt.replace(/\/wt$/, '/nope');
    expect(await refusal(WtWireClient.connect(url, hashes))).to.equal(404);
  });

  it('refuses a certificate hash that does not match', async function () {
    let failed: unknown = null;
    await WtWireClient.connect(gw.urls.wt, [Buffer.alloc(32).toString('base64')]).catch((e: unknown) => {
      failed = e;
    });
    expect(failed).to.be.instanceOf(Error);
  });

  it('checks Origin against ws.allowedOrigins: 403 for others; allowed and absent origins pass', async function () {
    const strict = await GatewayProcess.start(['--ws-origins', 'https://app.example.com'], { wt: true });
    try {
      const h = (await certHashes(strict.urls.admin)).hashes.map((x) => x.value);
      const evil = WtWireClient.connect(strict.urls.wt, h, { origin: 'https://evil.example.com' });
      expect(await refusal(evil)).to.equal(403);
      const good = await WtWireClient.connect(strict.urls.wt, h, { origin: 'https://app.example.com' });
      const none = await WtWireClient.connect(strict.urls.wt, h);
      good.close();
      none.close();
    } finally {
      await strict.cleanup();
    }
  });

  it('refuses a QUIC connection over the per-IP limit during its handshake: CONNECTION_REFUSED, reason 4007', async function () {
    const small = await GatewayProcess.start(['--connections-per-ip', '1'], { wt: true });
    try {
      const h = (await certHashes(small.urls.admin)).hashes.map((x) => x.value);
      const first = await WtWireClient.login(small.urls.wt, h, await testToken('n-ivy'));
      // docs/protocol.md §6.2: RFC 9000 CONNECTION_REFUSED (0x2), the Ferry code first in the reason.
      const err = await WtWireClient.connect(small.urls.wt, h).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(WebTransportConnectError);
      expect((err as Error).message)
        .to.include('code 2')
        .and.include('4007 too many connections');
      first.close();
    } finally {
      await small.cleanup();
    }
  });

  it('drains on SIGTERM: open sessions get 4001 GOING_AWAY and the node exits 0', async function () {
    const alice = await login('n-hank');
    const exit = gw.terminate(20_000 * TIME_FACTOR);
    const closed = await alice.waitClosed(15_000 * TIME_FACTOR);
    expect(closed.code).to.equal(DisconnectCode.GOING_AWAY);
    const f = await alice.nextBody('disconnect');
    expect(f.disconnect).to.deep.include({ code: DisconnectCode.GOING_AWAY, reconnect: true });
    expect(await exit).to.equal(0);
  });
});
