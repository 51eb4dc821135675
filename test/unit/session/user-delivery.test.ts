import { expect } from 'chai';
import { ReplyCode, StoreError } from '../../../src/errors.js';
import { CURSOR_WRITE_INTERVAL_MS } from '../../../src/session/user-delivery.js';
import type { MemoryMessageStore } from '../../../src/store/memory.js';
import type { MessageStore } from '../../../src/store/message-store.js';
import { SessionHarness, bytes, ofBody, settle, text } from '../../helpers/session-harness.js';
import type { FakeConnection } from '../../helpers/fake-connection.js';

/** Sends a QoS-1 message and returns the sender's answer frame. */
async function sendQos1(
  from: FakeConnection,
  id: number,
  toUser: string,
  body: string,
  clientMsgId = `c${id}`,
) {
  from.send({ id, send: { toUser, payload: bytes(body), qos: 1, clientMsgId } });
  await settle();
  const answer = from.take().find((f) => f.id === id);
  if (answer === undefined) throw new Error(`no answer to request ${id}`);
  return answer;
}

describe('session: user delivery, QoS 0 and QoS 1', () => {
  let h: SessionHarness;
  afterEach(async () => {
    await h.close();
  });

  it('delivers QoS 0 to every device of the recipient, SendAck only when the frame has an id', async () => {
    h = await SessionHarness.create();
    const alice = await h.login('alice');
    const phone = await h.login('bob', { deviceId: 'phone' });
    const laptop = await h.login('bob', { deviceId: 'laptop', kind: 'tcp' });
    alice.send({ send: { toUser: 'bob', payload: bytes('no id') } });
    alice.send({ id: 7, send: { toUser: 'bob', payload: bytes('with id') } });
    await settle();
    const answers = alice.take();
    expect(answers).to.have.length(1);
    expect(answers[0]?.id).to.equal(7);
    expect(answers[0]?.sendAck?.seq).to.equal(0);
    expect(answers[0]?.sendAck?.serverId).to.match(/^node-t-q/);
    for (const dev of [phone, laptop]) {
      const d = dev.take().map((f) => f.deliver);
      expect(d.map((x) => text(x?.payload))).to.deep.equal(['no id', 'with id']);
      expect(d.map((x) => x?.seq)).to.deep.equal([0, 0]);
      expect(d[0]?.fromUser).to.equal('alice');
      expect(d[0]?.fromDevice).to.equal('default');
    }
    expect(await h.metric('ferry_messages_delivered_total', { qos: '0' })).to.equal(4);
  });

  it('stores QoS 1 before the SendAck and delivers it with the per-user seq', async () => {
    h = await SessionHarness.create();
    const alice = await h.login('alice');
    const bob = await h.login('bob');
    const ack = await sendQos1(alice, 3, 'bob', 'hello');
    expect(ack.sendAck).to.deep.include({ clientMsgId: 'c3', seq: 1, duplicate: false });
    const [d] = bob.take();
    expect(d?.deliver).to.deep.include({
      seq: 1,
      fromUser: 'alice',
      serverId: ack.sendAck?.serverId,
      qos: 1,
    });
    expect(await h.store.lastUserSeq('bob')).to.equal(1);
    bob.send({ ack: { seq: 1 } });
    await settle();
    expect(await h.store.userCursor('bob', 'default')).to.equal(1);
  });

  it('answers a duplicate client_msg_id with the first SendAck and delivers once', async () => {
    h = await SessionHarness.create();
    const alice = await h.login('alice');
    const bob = await h.login('bob');
    const first = await sendQos1(alice, 1, 'bob', 'once', 'same');
    const again = await sendQos1(alice, 2, 'bob', 'once', 'same');
    expect(again.sendAck?.duplicate).to.equal(true);
    expect(again.sendAck?.serverId).to.equal(first.sendAck?.serverId);
    expect(again.sendAck?.seq).to.equal(first.sendAck?.seq);
    expect(bob.delivers().map((d) => d.seq)).to.deep.equal([1]);
    expect(await h.metric('ferry_duplicates_total')).to.equal(1);
  });

  it('replays unacked messages from the acked cursor after a reconnect', async () => {
    h = await SessionHarness.create();
    const alice = await h.login('alice');
    let bob = await h.login('bob', { deviceId: 'phone' });
    for (let i = 1; i <= 5; i++) await sendQos1(alice, i, 'bob', `m${i}`);
    expect(bob.delivers().map((d) => d.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    bob.send({ ack: { seq: 2 } });
    await settle();
    bob.peerClose();
    for (let i = 6; i <= 7; i++) await sendQos1(alice, i, 'bob', `m${i}`);

    bob = h.connect();
    bob.send({ id: 1, authenticate: { token: h.auth.issue('bob'), deviceId: 'phone' } });
    await settle();
    const frames = bob.take();
    expect(frames[0]?.authResult?.ackedSeq).to.equal(2);
    const replay = ofBody(frames, 'deliver').map((f) => f.deliver);
    expect(replay.map((d) => d?.seq)).to.deep.equal([3, 4, 5, 6, 7]);
    expect(replay.map((d) => text(d?.payload))).to.deep.equal(['m3', 'm4', 'm5', 'm6', 'm7']);
  });

  it('resumes from a larger client last_seq (recorded as acked)', async () => {
    h = await SessionHarness.create();
    const alice = await h.login('alice');
    for (let i = 1; i <= 4; i++) await sendQos1(alice, i, 'carol', `x${i}`);
    const carol = h.connect();
    carol.send({ id: 1, authenticate: { token: h.auth.issue('carol'), lastSeq: 3 } });
    await settle();
    const frames = carol.take();
    expect(frames[0]?.authResult).to.include({ ackedSeq: 3, logReset: false });
    expect(ofBody(frames, 'deliver').map((f) => f.deliver?.seq)).to.deep.equal([4]);
    expect(await h.store.userCursor('carol', 'default')).to.equal(3);
    expect(await h.metric('ferry_store_log_resets_total')).to.equal(0);
  });

  it('answers a last_seq past the end of the log with log_reset at the cursor, and delivers what the log gets next', async () => {
    h = await SessionHarness.create();
    const alice = await h.login('alice');
    for (let i = 1; i <= 2; i++) await sendQos1(alice, i, 'dave', `old ${i}`);
    await h.store.ackUser('dave', 'default', 1);
    // A client that processed seq 500 of a log this store no longer has (or never had).
    const dave = h.connect();
    dave.send({ id: 1, authenticate: { token: h.auth.issue('dave'), lastSeq: 500 } });
    await settle();
    const frames = dave.take();
    expect(frames[0]?.authResult).to.include({ ackedSeq: 1, logReset: true });
    expect(ofBody(frames, 'deliver').map((f) => f.deliver?.seq)).to.deep.equal([2]);
    // Not recorded as acked: the device's cursor stays where the store had it.
    expect(await h.store.userCursor('dave', 'default')).to.equal(1);
    await sendQos1(alice, 9, 'dave', 'after the reset');
    expect(dave.delivers().map((d) => d.seq)).to.deep.equal([2, 3]);
    expect(await h.metric('ferry_store_log_resets_total')).to.equal(1);
  });

  it('fills a gap from the store before a live message: lastSent 2, live 5 -> 3, 4, 5', async () => {
    h = await SessionHarness.create();
    const alice = await h.login('alice');
    const bob = await h.login('bob');
    await sendQos1(alice, 1, 'bob', 'm1');
    await sendQos1(alice, 2, 'bob', 'm2');
    // Two messages stored whose live publication never arrived (lost between nodes, say).
    for (const body of ['m3', 'm4']) {
      await h.store.appendToUser({
        fromUser: 'alice',
        fromDevice: 'default',
        toUser: 'bob',
        topic: '',
        payload: bytes(body),
        qos: 1,
        clientMsgId: body,
        ephemeral: false,
        fromService: '',
      });
    }
    await sendQos1(alice, 5, 'bob', 'm5');
    expect(bob.delivers().map((d) => text(d.payload))).to.deep.equal(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(bob.delivers().map((d) => d.seq)).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('keeps at most maxInflight unacked deliveries and resumes from the store on ack', async () => {
    h = await SessionHarness.create({ config: (c) => (c.session.maxInflight = 2) });
    const alice = await h.login('alice');
    const bob = await h.login('bob');
    for (let i = 1; i <= 5; i++) await sendQos1(alice, i, 'bob', `m${i}`);
    expect(bob.take().map((f) => f.deliver?.seq)).to.deep.equal([1, 2]);
    bob.send({ ack: { seq: 1 } });
    await settle();
    expect(bob.take().map((f) => f.deliver?.seq)).to.deep.equal([3]);
    bob.send({ ack: { seq: 3 } });
    await settle();
    expect(bob.take().map((f) => f.deliver?.seq)).to.deep.equal([4, 5]);
    expect(h.manager.stats().inflight).to.equal(2);
  });

  it('counts the window in messages, not seq distance: a jump in seqs does not close it', async () => {
    h = await SessionHarness.create({
      config: (c) => {
        c.session.maxInflight = 4;
        c.store.maxMessagesPerLog = 3;
      },
    });
    const alice = await h.login('alice');
    // Retention keeps 6, 7, 8: a device that never acked resumes at 0 and jumps to 6.
    for (let i = 1; i <= 8; i++) await sendQos1(alice, i, 'bob', `m${i}`);
    const bob = await h.login('bob');
    expect(bob.delivers().map((d) => d.seq)).to.deep.equal([6, 7, 8]);
    await sendQos1(alice, 9, 'bob', 'm9');
    await sendQos1(alice, 10, 'bob', 'm10');
    expect(bob.delivers().map((d) => d.seq)).to.deep.equal([6, 7, 8, 9]);
    bob.send({ ack: { seq: 7 } });
    await settle();
    expect(bob.delivers().map((d) => d.seq)).to.deep.equal([6, 7, 8, 9, 10]);
    expect(h.manager.stats().inflight).to.equal(3);
  });

  it('ignores acks beyond what was sent (they cannot skip undelivered messages)', async () => {
    h = await SessionHarness.create({ config: (c) => (c.session.maxInflight = 1) });
    const alice = await h.login('alice');
    const bob = await h.login('bob');
    for (let i = 1; i <= 3; i++) await sendQos1(alice, i, 'bob', `m${i}`);
    bob.send({ ack: { seq: 99 } });
    await settle();
    expect(bob.delivers().map((d) => d.seq)).to.deep.equal([1, 2]);
    expect(await h.store.userCursor('bob', 'default')).to.equal(1);
  });

  it('never sends a SendAck for what the store refused: 107 UNAVAILABLE, retryable, nothing delivered', async () => {
    let failing = false;
    h = await SessionHarness.create({
      store: (real) =>
        new Proxy(real, {
          get(target, prop, receiver) {
            if (prop === 'appendToUser' && failing)
              return () => Promise.reject(new StoreError('disk on fire'));
            const v = Reflect.get(target, prop, receiver) as unknown;
            return typeof v === 'function' ? v.bind(target) : v;
          },
        }) as MessageStore,
    });
    const alice = await h.login('alice');
    const bob = await h.login('bob');
    failing = true;
    const answer = await sendQos1(alice, 4, 'bob', 'lost?');
    expect(answer.body).to.equal('error');
    expect(answer.error).to.deep.include({ code: ReplyCode.UNAVAILABLE, retryable: true });
    expect(bob.take()).to.have.length(0);
    expect(alice.closed).to.equal(null);
  });

  it('sends ephemeral QoS-0 messages as datagrams when the transport has them', async () => {
    h = await SessionHarness.create();
    const alice = await h.login('alice');
    const bob = await h.login('bob', { kind: 'wt', supportsDatagrams: true, maxDatagramBytes: 1200 });
    alice.send({ send: { toUser: 'bob', payload: bytes('typing'), ephemeral: true } });
    alice.send({ send: { toUser: 'bob', payload: new Uint8Array(2000), ephemeral: true } });
    await settle();
    expect(bob.datagrams).to.have.length(1);
    // The datagram is one unprefixed frame; the oversized one fell back to the reliable stream.
    expect(bob.delivers().map((d) => d.payload?.length)).to.deep.equal([2000]);
  });
});

/**
 * Wraps the memory store to record the seqs of bob's cursor writes as they start, and to make them
 * fail (`failing`) or wait until `release()` (`hold()`).
 */
class CursorSpy {
  readonly writes: number[] = [];
  failing = false;
  private gate: Promise<void> | null = null;
  private open: () => void = () => {};
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  /** Resolves once `count` writes of bob's cursor have started. */
  written(count: number): Promise<void> {
    if (this.writes.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.gate = null;
    this.open();
  }

  readonly wrap = (real: MemoryMessageStore): MessageStore =>
    new Proxy(real, {
      get: (target, prop, receiver) => {
        if (prop === 'ackUser') {
          return async (userId: string, deviceId: string, seq: number): Promise<void> => {
            if (userId === 'bob') {
              this.writes.push(seq);
              for (const w of this.waiters) if (this.writes.length >= w.count) w.resolve();
            }
            if (this.gate !== null) await this.gate;
            if (this.failing) throw new StoreError('store unavailable');
            await target.ackUser(userId, deviceId, seq);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as MessageStore;
}

describe('session: persisting the ack cursor', () => {
  let h: SessionHarness;
  let spy: CursorSpy;
  afterEach(async () => {
    spy.release();
    await h.close();
  });

  /** Alice sends `n` QoS-1 messages to bob, who is online and has them delivered. */
  async function setUp(n: number) {
    spy = new CursorSpy();
    h = await SessionHarness.create({ store: spy.wrap });
    const alice = await h.login('alice');
    const bob = await h.login('bob');
    for (let i = 1; i <= n; i++) await sendQos1(alice, i, 'bob', `m${i}`);
    expect(bob.delivers().map((d) => d.seq)).to.have.length(n);
    return bob;
  }

  const cursor = () => h.store.userCursor('bob', 'default');

  async function ack(bob: FakeConnection, seq: number): Promise<void> {
    bob.send({ ack: { seq } });
    await settle();
  }

  it('writes the first ack at once, holds a burst and writes its last seq on the sweep once no ack did for two intervals', async () => {
    const bob = await setUp(6);
    await ack(bob, 1);
    expect(spy.writes).to.deep.equal([1]);
    expect(await cursor()).to.equal(1);
    for (const seq of [2, 3, 5]) {
      h.clock.advance(200);
      await ack(bob, seq);
    }
    h.sweep();
    await settle();
    expect(spy.writes, 'within the interval acks are only recorded').to.deep.equal([1]);
    h.clock.advance(CURSOR_WRITE_INTERVAL_MS - 600);
    h.sweep();
    await settle();
    // An ack would write now; the sweep leaves it to the acks, so sessions do not all write together.
    expect(spy.writes, 'the sweep after one interval').to.deep.equal([1]);
    h.clock.advance(CURSOR_WRITE_INTERVAL_MS - 1);
    h.sweep();
    await settle();
    expect(spy.writes, '1 ms before two intervals have passed').to.deep.equal([1]);
    h.clock.advance(1);
    h.sweep();
    await settle();
    expect(spy.writes).to.deep.equal([1, 5]);
    expect(await cursor()).to.equal(5);
    h.clock.advance(2 * CURSOR_WRITE_INTERVAL_MS);
    h.sweep();
    await settle();
    expect(spy.writes, 'nothing owed, nothing written').to.deep.equal([1, 5]);
  });

  it('writes an ack at once when the last write started at least the interval ago', async () => {
    const bob = await setUp(3);
    await ack(bob, 1);
    h.clock.advance(CURSOR_WRITE_INTERVAL_MS);
    await ack(bob, 2);
    expect(spy.writes).to.deep.equal([1, 2]);
    expect(await cursor()).to.equal(2);
  });

  it('keeps one write in flight; acks meanwhile follow once it ends only if the interval has passed', async () => {
    const bob = await setUp(4);
    spy.hold();
    await ack(bob, 1);
    await ack(bob, 2);
    spy.release();
    await settle();
    expect(spy.writes, 'a quick write: ack 2 waits for the sweep').to.deep.equal([1]);
    h.clock.advance(2 * CURSOR_WRITE_INTERVAL_MS);
    spy.hold();
    h.sweep();
    await settle();
    expect(spy.writes).to.deep.equal([1, 2]);
    await ack(bob, 3);
    h.clock.advance(CURSOR_WRITE_INTERVAL_MS);
    await ack(bob, 4);
    h.sweep();
    await settle();
    expect(spy.writes, 'still waiting for the write of 2').to.deep.equal([1, 2]);
    spy.release();
    await settle();
    expect(spy.writes, 'a slow write: 4 follows at once').to.deep.equal([1, 2, 4]);
    expect(await cursor()).to.equal(4);
  });

  const closings: [string, (bob: FakeConnection) => Promise<void>][] = [
    ['the peer vanishes', async (bob) => bob.peerClose()],
    ['the client says Disconnect', async (bob) => bob.send({ disconnect: { code: 4000, reason: 'bye' } })],
    ['another connection replaces the device', async () => void (await h.login('bob'))],
    ['the gateway shuts down', () => h.manager.close()],
  ];
  for (const [how, close] of closings) {
    it(`writes the cursor owed at once when ${how}`, async () => {
      const bob = await setUp(4);
      await ack(bob, 1);
      await ack(bob, 3);
      expect(spy.writes).to.deep.equal([1]);
      await close(bob);
      await settle();
      expect(bob.closed, 'closed').to.not.equal(null);
      expect(spy.writes).to.deep.equal([1, 3]);
      expect(await cursor()).to.equal(3);
    });
  }

  it('retries a failed write on the sweep once two intervals have passed', async () => {
    const bob = await setUp(2);
    spy.failing = true;
    await ack(bob, 2);
    expect(spy.writes).to.deep.equal([2]);
    expect(await cursor()).to.equal(0);
    spy.failing = false;
    h.clock.advance(CURSOR_WRITE_INTERVAL_MS);
    h.sweep();
    await settle();
    expect(spy.writes, 'not before two intervals').to.deep.equal([2]);
    h.clock.advance(CURSOR_WRITE_INTERVAL_MS);
    h.sweep();
    await settle();
    expect(spy.writes).to.deep.equal([2, 2]);
    expect(await cursor()).to.equal(2);
  });

  it('drain resolves only after the final cursor writes of the closed sessions have settled', async () => {
    const bob = await setUp(3);
    await ack(bob, 1);
    await ack(bob, 3);
    spy.hold();
    let done = false;
    const drained = h.manager.drain({ timeoutMs: 1000, reconnectDelayMs: 0 });
    void drained.then(() => (done = true));
    await spy.written(2); // the final cursor write of the closed session has started, and is held
    await settle();
    expect(bob.closed, 'gone away').to.not.equal(null);
    expect(spy.writes).to.deep.equal([1, 3]);
    expect(done, 'drain waits for the cursor write').to.equal(false);
    spy.release();
    expect(await drained).to.deep.equal({ clean: true, flushed: true });
    expect(await cursor()).to.equal(3);
  });

  it('close resolves only after the cursor writes it started have settled', async () => {
    const bob = await setUp(2);
    await ack(bob, 1);
    await ack(bob, 2);
    spy.hold();
    let done = false;
    const closed = h.manager.close().then(() => (done = true));
    await settle();
    expect(bob.destroyed).to.equal(true);
    expect(spy.writes).to.deep.equal([1, 2]);
    expect(done, 'close waits for the cursor write').to.equal(false);
    spy.release();
    await closed;
    expect(await cursor()).to.equal(2);
  });
});
