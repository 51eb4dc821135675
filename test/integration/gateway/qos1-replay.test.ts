import { expect } from 'chai';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { WireClient, type WireKind } from '../../helpers/wire-client.js';
import type { Frame } from '../../../src/protocol/codec.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined): string => new TextDecoder().decode(b ?? new Uint8Array());

async function sendQos1(from: WireClient, to: string, body: string, clientMsgId: string): Promise<Frame> {
  const id = from.send({ send: { toUser: to, payload: bytes(body), qos: 1, clientMsgId } });
  return from.next((f) => f.id === id);
}

async function collect(c: WireClient, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) out.push(await c.nextBody('deliver'));
  return out;
}

/**
 * Each guarantee runs once per transport of the recipient (`kind`); the sender, and the recipient
 * when it comes back, use the next transport in the list, so every pair of transports meets.
 */
const KINDS: readonly WireKind[] = ['ws', 'tcp', 'wt'];

describe('gateway: QoS-1 storage, replay and dedup', function () {
  let gw: GatewayProcess;
  let certHashes: string[] = [];
  const clients: WireClient[] = [];
  const login = async (
    kind: WireKind,
    user: string,
    opts: { deviceId?: string; lastSeq?: number } = {},
  ): Promise<WireClient> => {
    const c = await WireClient.login(gw.urls[kind], await testToken(user), { ...opts, certHashes });
    clients.push(c);
    return c;
  };

  before(async () => {
    gw = await GatewayProcess.start([], { wt: true });
    certHashes = await gw.wtCertHashes();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  after(async () => {
    await gw.cleanup();
  });

  for (const [i, kind] of KINDS.entries()) {
    const other = KINDS[(i + 1) % KINDS.length]!;

    it(`replays unacked messages in order after the recipient drops mid-stream (${kind})`, async () => {
      const alice = await login(other, `r-alice-${kind}`);
      let bob = await login(kind, `r-bob-${kind}`, { deviceId: 'phone' });
      for (let i = 1; i <= 5; i++)
        expect((await sendQos1(alice, `r-bob-${kind}`, `m${i}`, `c${i}`)).body).to.equal('sendAck');
      const first = await collect(bob, 5);
      expect(first.map((f) => f.deliver?.seq)).to.deep.equal([1, 2, 3, 4, 5]);
      bob.send({ ack: { seq: 2 } });
      // Make sure the ack was processed before the drop: a ping round trip is ordered after it.
      const pid = bob.send({ ping: { timestampMs: 1 } });
      await bob.next((f) => f.id === pid || f.body === 'pong');
      bob.destroy();

      for (let i = 6; i <= 8; i++) await sendQos1(alice, `r-bob-${kind}`, `m${i}`, `c${i}`);
      bob = await login(other, `r-bob-${kind}`, { deviceId: 'phone' });
      const again = await collect(bob, 6);
      expect(again.map((f) => f.deliver?.seq)).to.deep.equal([3, 4, 5, 6, 7, 8]);
      expect(again.map((f) => text(f.deliver?.payload))).to.deep.equal(['m3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    });

    it(`honours the client-supplied last_seq on resume (${kind})`, async () => {
      const alice = await login(other, `l-alice-${kind}`);
      for (let i = 1; i <= 4; i++) await sendQos1(alice, `l-bob-${kind}`, `x${i}`, `x${i}`);
      const bob = await login(kind, `l-bob-${kind}`, { lastSeq: 3 });
      const got = await collect(bob, 1);
      expect(got[0]?.deliver?.seq).to.equal(4);
    });

    it(`stores messages for an offline user and delivers them on connect (${kind})`, async () => {
      const alice = await login(other, `o-alice-${kind}`);
      await sendQos1(alice, `o-dave-${kind}`, 'while you were out', 'o1');
      const dave = await login(kind, `o-dave-${kind}`);
      const [d] = await collect(dave, 1);
      expect(text(d?.deliver?.payload)).to.equal('while you were out');
      expect(d?.deliver?.fromUser).to.equal(`o-alice-${kind}`);
    });

    it(`deduplicates by client message id and returns the first ack (${kind})`, async () => {
      const alice = await login(other, `d-alice-${kind}`);
      const bob = await login(kind, `d-bob-${kind}`);
      const a1 = await sendQos1(alice, `d-bob-${kind}`, 'once', 'same-id');
      const a2 = await sendQos1(alice, `d-bob-${kind}`, 'once', 'same-id');
      expect(a2.sendAck?.duplicate).to.equal(true);
      expect(a2.sendAck?.serverId).to.equal(a1.sendAck?.serverId);
      expect(a2.sendAck?.seq).to.equal(a1.sendAck?.seq);
      await sendQos1(alice, `d-bob-${kind}`, 'next', 'other-id');
      const got = await collect(bob, 2);
      expect(got.map((f) => text(f.deliver?.payload))).to.deep.equal(['once', 'next']);
    });
  }

  it("gives a new device the user's retained history, and last_seq = the end of the log starts it from now", async () => {
    const alice = await login('ws', 'h-alice');
    const old = await login('tcp', 'h-bob', { deviceId: 'old-phone' });
    for (let i = 1; i <= 3; i++) await sendQos1(alice, 'h-bob', `h${i}`, `h${i}`);
    const seen = await collect(old, 3);
    old.send({ ack: { seq: seen[2]!.deliver!.seq } });
    // The replay follows the AuthResult without any further frame from the client (docs/protocol.md §5).
    const fresh = await login('tcp', 'h-bob', { deviceId: 'new-phone' });
    expect((await collect(fresh, 3)).map((f) => text(f.deliver?.payload))).to.deep.equal(['h1', 'h2', 'h3']);
    const fromNow = await login('tcp', 'h-bob', {
      deviceId: 'newer-phone',
      lastSeq: Number(seen[2]!.deliver!.seq),
    });
    await sendQos1(alice, 'h-bob', 'h4', 'h4');
    const [next] = await collect(fromNow, 1);
    expect(text(next?.deliver?.payload)).to.equal('h4');
    expect(fromNow.frames.filter((f) => f.body === 'deliver')).to.have.length(0);
  });
});
