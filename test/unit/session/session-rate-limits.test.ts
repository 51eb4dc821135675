import { expect } from 'chai';
import { DisconnectCode, ReplyCode } from '../../../src/errors.js';
import {
  encodeFrame,
  encodeFramePrefixed,
  prefixLength,
  type Frame,
  type FrameInit,
} from '../../../src/protocol/codec.js';
import type { FerryConfig } from '../../../src/config/schema.js';
import type { FakeConnection } from '../../helpers/fake-connection.js';
import { paddedPing } from '../../helpers/padded-ping.js';
import { SessionHarness, bytes, settle } from '../../helpers/session-harness.js';

/** docs/protocol.md §5.10 with small numbers: 5 frames/s (burst 10), a quarter per control frame. */
function limits(more: (c: FerryConfig) => void = () => {}): { config: (c: FerryConfig) => void } {
  return {
    config: (c) => {
      c.limits.framesPerSecond = 5;
      c.limits.floodToleranceSeconds = 1;
      c.session.idleTimeoutMs = 0;
      c.session.heartbeatMs = 3_600_000;
      more(c);
    },
  };
}

/** `n` copies of a frame in one read, framed for the connection. */
function burst(conn: FakeConnection, n: number, frame: (i: number) => FrameInit): void {
  if (conn.framing === 'stream') {
    conn.sendBytes(Buffer.concat(Array.from({ length: n }, (_, i) => encodeFramePrefixed(frame(i)))));
  } else {
    for (let i = 0; i < n; i++) conn.sendBytes(encodeFrame(frame(i)));
  }
}

const bodies = (frames: Frame[]): string[] => frames.map((f) => f.body ?? '');

describe('session: every frame costs budget (docs/protocol.md §5.10)', () => {
  let h: SessionHarness;
  afterEach(async () => {
    await h.close();
  });

  for (const kind of ['ws', 'tcp'] as const) {
    it(`${kind}: holds a Ping flood back without answering it, then cuts it with 4006`, async () => {
      h = await SessionHarness.create(limits());
      const c = await h.login('flooder', { kind });
      burst(c, 400, (i) => ({ id: 10 + i, ping: { timestampMs: i } }));
      // 9 tokens left of the burst of 10 after Authenticate: 36 Pings at a quarter each; then reading stops.
      expect(bodies(c.take())).to.deep.equal(Array(36).fill('pong'));
      expect(c.paused).to.equal(true);
      // Each 50 ms buys one more Ping; nothing else goes out: no Error frame answers a held Ping.
      for (let i = 0; i < 10; i++) h.clock.advance(50);
      expect(bodies(c.take())).to.deep.equal(Array(10).fill('pong'));
      expect(c.closed).to.equal(null);
      // Over the limit for the flood tolerance (1 s): 4006, and the connection is told why.
      for (let i = 0; i < 20 && c.closed === null; i++) h.clock.advance(50);
      expect(c.closed?.code).to.equal(DisconnectCode.FLOOD);
      expect(c.disconnectFrame()).to.deep.include({ code: 4006, reconnect: true });
      expect(c.paused, 'read again, so that the close handshake can complete').to.equal(false);
      expect(bodies(c.take()).filter((b) => b !== 'pong' && b !== 'disconnect')).to.deep.equal([]);
      expect(await h.metric('ferry_disconnects_total', { code: '4006' })).to.equal(1);
      expect(await h.metric('ferry_rate_limited_total', { action: 'held' })).to.be.greaterThan(0);
      expect(await h.metric('ferry_rate_limited_total', { action: 'refused' })).to.equal(0);
      expect(h.clock.pendingTimers, 'no resume timer outlives the session').to.equal(0);
    });
  }

  for (const [name, frame] of [
    ['Pong', { pong: { timestampMs: 1 } }],
    ['Ack', { ack: { seq: 1 } }],
  ] as const) {
    it(`cuts a ${name} flood with 4006 (they are charged, never free)`, async () => {
      h = await SessionHarness.create(limits());
      const c = await h.login('flooder', { kind: 'tcp' });
      burst(c, 400, () => frame);
      expect(c.paused).to.equal(true);
      for (let i = 0; i < 40 && c.closed === null; i++) h.clock.advance(50);
      expect(c.closed?.code).to.equal(DisconnectCode.FLOOD);
      expect(bodies(c.take())).to.deep.equal(['disconnect']);
    });
  }

  it('answers requests over the limit with 104 while its budget lasts, then holds the rest: none is lost', async () => {
    h = await SessionHarness.create(limits((c) => (c.limits.floodToleranceSeconds = 60)));
    const c = await h.login('bulk', { kind: 'ws' });
    const ids = Array.from({ length: 20 }, (_, i) => 100 + i);
    burst(c, 20, (i) => ({ id: ids[i], send: { toUser: 'nobody', payload: bytes('x') } }));
    await settle();
    const answers = c.take();
    // The burst (9 sends after Authenticate), 5 refusals (the 104 budget: framesPerSecond a second),
    // then a hold. (A SendAck comes once the router has answered, a 104 at once.)
    const byId = (fs: Frame[]) => [...fs].sort((x, y) => x.id - y.id).map((f) => [f.id, f.body]);
    expect(byId(answers)).to.deep.equal(ids.slice(0, 14).map((id, i) => [id, i < 9 ? 'sendAck' : 'error']));
    const refused = answers.filter((f) => f.body === 'error');
    expect(refused[0]?.error).to.deep.include({ code: ReplyCode.RATE_LIMITED, retryable: true });
    expect(refused[0]?.error?.retryAfterMs).to.equal(200); // one frame token at 5/s
    expect(c.paused).to.equal(true);
    // The held ones are served as tokens come back, in order, until a new second brings a new 104
    // budget: the last is refused then. Every request got exactly one answer.
    for (let i = 0; i < 5; i++) h.clock.advance(200);
    await settle();
    const later = c.take();
    expect(byId(later)).to.deep.equal([...ids.slice(14, 19).map((id) => [id, 'sendAck']), [119, 'error']]);
    expect(c.paused).to.equal(false);
    expect(c.closed).to.equal(null);
    expect(await h.metric('ferry_rate_limited_total', { action: 'refused' })).to.equal(6);
    expect(await h.metric('ferry_errors_total', { code: '104' })).to.equal(6);
  });

  it('keeps what a WebSocket had read before it paused, in order, behind the held frame', async () => {
    h = await SessionHarness.create(limits((c) => (c.limits.floodToleranceSeconds = 60)));
    const c = await h.login('ws-user', { kind: 'ws' });
    burst(c, 37, (i) => ({ id: 10 + i, ping: { timestampMs: i } })); // 36 fit, the 37th waits
    expect(c.paused).to.equal(true);
    // ws may still hand over messages from its last socket read after pause(): they queue.
    c.handler?.onData(encodeFrame({ id: 99, ping: { timestampMs: 99 } }));
    expect(c.take()).to.have.length(36);
    h.clock.advance(50);
    h.clock.advance(50);
    expect(c.take().map((f) => f.id)).to.deep.equal([46, 99]);
    expect(c.paused).to.equal(false);
  });

  it('applies a held Ack once it fits: the cursor moves, nothing is dropped', async () => {
    h = await SessionHarness.create(limits((c) => (c.limits.floodToleranceSeconds = 60)));
    const alice = await h.login('alice');
    const bob = await h.login('bob', { kind: 'tcp' });
    alice.send({ id: 1, send: { toUser: 'bob', payload: bytes('m1'), qos: 1, clientMsgId: 'm1' } });
    await settle();
    expect(bob.delivers().map((d) => d.seq)).to.deep.equal([1]);
    burst(bob, 37, (i) => (i < 36 ? { id: 10 + i, ping: { timestampMs: i } } : { ack: { seq: 1 } }));
    expect(bob.paused).to.equal(true);
    expect(await h.store.userCursor('bob', 'default')).to.equal(0);
    h.clock.advance(50);
    await settle();
    expect(await h.store.userCursor('bob', 'default')).to.equal(1);
  });

  it('charges the bytes of a padded Ping in full', async () => {
    h = await SessionHarness.create({
      config: (c) => {
        c.limits.framesPerSecond = 1000;
        c.limits.bytesPerSecond = 64 * 1024;
        c.limits.floodToleranceSeconds = 60;
      },
    });
    const c = await h.login('padder', { kind: 'tcp' });
    const frame = prefixLength(paddedPing(5, 60 * 1024)); // a quarter frame, but 60 KiB of bytes
    c.sendBytes(Buffer.concat([frame, frame, frame]));
    expect(bodies(c.take())).to.deep.equal(['pong', 'pong']); // the 128 KiB burst holds two, not three
    expect(c.paused).to.equal(true);
    h.clock.advance(1000); // 64 KiB more
    expect(bodies(c.take())).to.deep.equal(['pong']);
    expect(c.paused).to.equal(false);
  });

  it('charges frames before authentication too, and cuts a pre-auth flood with 4006', async () => {
    h = await SessionHarness.create(limits((c) => (c.limits.framesPerSecond = 2)));
    h.auth.hang = true; // AuthResult never comes: frames pile up behind Authenticate
    const c = h.connect({ kind: 'tcp' });
    c.send({ id: 1, authenticate: { token: h.auth.issue('early'), deviceId: '', lastSeq: 0 } });
    // 3 of the 4 burst tokens left: 12 Pings fit, the 13th waits (well before the 32-frame cap).
    burst(c, 100, (i) => ({ id: 2 + i, ping: { timestampMs: i } }));
    expect(c.paused).to.equal(true);
    expect(c.closed).to.equal(null);
    for (let i = 0; i < 20 && c.closed === null; i++) h.clock.advance(125);
    expect(c.closed?.code).to.equal(DisconnectCode.FLOOD);
  });

  it('stops reading a connection it has closed once 64 KiB more arrive (no parsing junk during the linger)', async () => {
    h = await SessionHarness.create(limits());
    const c = await h.login('garbage', { kind: 'ws' });
    c.sendBytes(Buffer.from('ffffffffffffffffffff', 'hex'));
    expect(c.closed?.code).to.equal(DisconnectCode.BAD_FRAME);
    c.handler?.onData(Buffer.alloc(32 * 1024)); // a peer's last words are still read...
    expect(c.paused).to.equal(false);
    c.handler?.onData(Buffer.alloc(33 * 1024)); // ...a flood is not
    expect(c.paused).to.equal(true);
  });

  it('drops datagrams over the limit (never holds them) and cuts a datagram flood with 4006', async () => {
    h = await SessionHarness.create(limits());
    const c = await h.login('dgram', { kind: 'wt', supportsDatagrams: true, maxDatagramBytes: 1200 });
    const typing = encodeFrame({ send: { toUser: 'nobody', payload: bytes('.'), ephemeral: true } });
    for (let i = 0; i < 30; i++) c.handler?.onDatagram(typing);
    expect(c.paused).to.equal(false);
    expect(await h.metric('ferry_rate_limited_total', { action: 'dropped' })).to.equal(21); // 9 fit
    for (let i = 0; i < 30 && c.closed === null; i++) {
      h.clock.advance(100);
      for (let j = 0; j < 5; j++) c.handler?.onDatagram(typing);
    }
    expect(c.closed?.code).to.equal(DisconnectCode.FLOOD);
  });
});
