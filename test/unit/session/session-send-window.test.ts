import { expect } from 'chai';
import type { FerryConfig } from '../../../src/config/schema.js';
import { encodeFrame, encodeFramePrefixed, type Frame, type FrameInit } from '../../../src/protocol/codec.js';
import type { FakeConnection } from '../../helpers/fake-connection.js';
import { GatedStore } from '../../helpers/gated-store.js';
import { SessionHarness, bytes, settle } from '../../helpers/session-harness.js';

/** `n` frames in one read, framed for the connection (a WebSocket gets one message each). */
function burst(conn: FakeConnection, n: number, frame: (i: number) => FrameInit): void {
  if (conn.framing === 'stream') {
    conn.sendBytes(Buffer.concat(Array.from({ length: n }, (_, i) => encodeFramePrefixed(frame(i)))));
  } else {
    for (let i = 0; i < n; i++) conn.sendBytes(encodeFrame(frame(i)));
  }
}

const qos1 = (i: number): FrameInit => ({
  id: 100 + i,
  send: { toUser: 'bob', payload: bytes(`m${i}`), qos: 1, clientMsgId: `c${i}` },
});
const ackIds = (frames: Frame[]): number[] => frames.filter((f) => f.body === 'sendAck').map((f) => f.id);

describe('session: send window (session.maxInflightSends, docs/protocol.md §5.3)', () => {
  let h: SessionHarness;
  let gated: GatedStore;

  async function create(more: (c: FerryConfig) => void = () => {}): Promise<void> {
    h = await SessionHarness.create({
      config: (c) => {
        c.session.maxInflightSends = 3;
        c.session.idleTimeoutMs = 0;
        c.session.heartbeatMs = 3_600_000;
        c.limits.framesPerSecond = 1000;
        more(c);
      },
      store: (real) => (gated = new GatedStore(real)).store,
    });
  }
  afterEach(async () => {
    gated.releaseAll();
    await h.close();
  });

  for (const kind of ['tcp', 'ws'] as const) {
    it(`${kind}: stops reading at the window and reads again as answers come, in order, nothing lost`, async () => {
      await create();
      const c = await h.login('alice', { kind });
      burst(c, 10, qos1);
      await settle();
      expect(gated.started, 'three sends reached the store').to.equal(3);
      expect(c.paused).to.equal(true);
      gated.release(1);
      await settle();
      expect(ackIds(c.take())).to.deep.equal([100]);
      expect(gated.started, 'one answer, one more send').to.equal(4);
      expect(c.paused).to.equal(true);
      gated.releaseAll();
      await settle();
      expect(ackIds(c.take())).to.deep.equal([101, 102, 103, 104, 105, 106, 107, 108, 109]);
      expect(c.paused).to.equal(false);
      expect(c.closed).to.equal(null);
      expect(await h.metric('ferry_overload_total', { action: 'held' })).to.be.greaterThan(0);
      expect(await h.store.lastUserSeq('bob')).to.equal(10);
    });
  }

  it('lets a Ping through on a full window while no request is held in front of it', async () => {
    await create();
    const c = await h.login('alice', { kind: 'tcp' });
    burst(c, 3, qos1);
    await settle();
    expect(c.paused).to.equal(false);
    c.send({ id: 7, ping: { timestampMs: 1 } });
    expect(c.take().map((f) => f.body)).to.deep.equal(['pong']);
    c.send(qos1(3));
    expect(c.paused).to.equal(true);
    expect(gated.started).to.equal(3);
  });

  it('counts QoS-1 publishes too, but not QoS-0 sends', async () => {
    await create();
    const c = await h.login('alice', { kind: 'tcp' });
    burst(c, 5, (i) => ({ id: 200 + i, send: { toUser: 'bob', payload: bytes('q0') } }));
    await settle();
    expect(c.take().filter((f) => f.body === 'sendAck')).to.have.length(5);
    burst(c, 4, (i) => ({
      id: 300 + i,
      publish: { topic: 'room', payload: bytes('p'), qos: 1, clientMsgId: `p${i}` },
    }));
    await settle();
    expect(c.paused).to.equal(true);
    expect(gated.started).to.equal(3);
  });

  it('stays paused until both the window and the rate limit let go', async () => {
    await create((c) => {
      c.limits.framesPerSecond = 5; // a bucket of 10 (Authenticate + 9), five 104s a second
      c.limits.floodToleranceSeconds = 60;
    });
    const c = await h.login('alice', { kind: 'tcp' });
    const qos0 = (i: number): FrameInit => ({ id: 200 + i, send: { toUser: 'bob', payload: bytes('q0') } });
    burst(c, 2, qos1); // two of three window slots
    burst(c, 12, qos0); // 7 fit, 5 are answered 104: the bucket and the reply budget are spent
    await settle();
    expect(c.take().filter((f) => f.body === 'error')).to.have.length(5);
    // Two more QoS-1 sends in one read: the first waits for a token (a rate hold, timer 200 ms) ...
    burst(c, 2, (i) => qos1(2 + i));
    expect(c.paused).to.equal(true);
    expect(gated.started).to.equal(2);
    h.clock.advance(200);
    await settle();
    // ... then goes, filling the window; the second waits for the window now (no timer) ...
    expect(gated.started).to.equal(3);
    expect(c.paused).to.equal(true);
    expect(h.clock.pendingTimers, 'a window hold waits for an answer, not for a timer').to.equal(0);
    gated.release(1);
    await settle();
    // ... and when an answer frees a slot it has no token (nor 104 budget): held for the rate again.
    expect(gated.started).to.equal(3);
    expect(c.paused).to.equal(true);
    h.clock.advance(200);
    await settle();
    expect(gated.started).to.equal(4);
    expect(c.paused, 'read again only once neither holds it').to.equal(false);
    expect(c.closed).to.equal(null);
    expect(await h.metric('ferry_overload_total', { action: 'held' })).to.equal(1);
  });

  it('does not count a long wait for the window as time over the rate limit (no 4006 for it)', async () => {
    await create((c) => {
      c.limits.framesPerSecond = 5;
      c.limits.floodToleranceSeconds = 1;
    });
    const c = await h.login('alice', { kind: 'tcp' });
    const qos0 = (i: number): FrameInit => ({ id: 200 + i, send: { toUser: 'bob', payload: bytes('q0') } });
    burst(c, 10, qos0); // the 10th is over the limit: answered 104, a streak starts
    h.clock.advance(600); // three tokens back
    burst(c, 4, qos1); // three go (the window is full), the fourth waits for the window
    await settle();
    expect(c.paused).to.equal(true);
    for (let i = 0; i < 50; i++) h.clock.advance(100); // 5 s with the store stuck
    gated.releaseAll();
    await settle();
    expect(c.paused).to.equal(false);
    // Over the limit again now: a new streak (104s), not the old one stretched over the wait (4006).
    burst(c, 12, (i) => qos0(20 + i));
    await settle();
    expect(c.closed).to.equal(null);
    expect(c.take().filter((f) => f.error?.code === 104).length).to.be.greaterThan(0);
  });

  it('after a 109 BUSY reads no request before its retry_after_ms, then goes on (no 109 per frame)', async () => {
    await create((c) => (c.store.maxPendingAppends = 2));
    const other = await h.login('carol', { kind: 'tcp' });
    burst(other, 2, qos1); // carol takes both node slots
    const c = await h.login('alice', { kind: 'tcp' });
    burst(c, 10, qos1);
    await settle();
    const first = c.take();
    // The first refused request is answered 109 before the next frame of the same read is looked at:
    // the other nine wait, undecoded.
    expect(first.map((f) => f.error?.code)).to.deep.equal([109]);
    const retryAfter = first[0]!.error!.retryAfterMs!;
    expect(retryAfter).to.be.greaterThan(0);
    expect(c.paused, 'held until retry_after_ms has passed').to.equal(true);
    gated.releaseAll(); // carol's sends are stored: slots free
    await settle();
    expect(c.take()).to.deep.equal([]);
    h.clock.advance(retryAfter);
    await settle();
    // Read again: two take the node's two slots, the third is refused again, and the rest waits once
    // more instead of being answered 109 one by one.
    const second = c.take();
    expect(ackIds(second)).to.deep.equal([101, 102]);
    expect(second.filter((f) => f.body === 'error').map((f) => f.id)).to.deep.equal([103]);
    expect(c.paused).to.equal(true);
    expect(await h.metric('ferry_overload_total', { action: 'busy' })).to.equal(2);
    expect(await h.store.lastUserSeq('bob')).to.equal(4);
  });
});
