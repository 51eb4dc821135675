import { expect } from 'chai';
import { StoreError } from '../../../src/errors.js';
import { ReplicaWait } from '../../../src/store/redis/replica-wait.js';

/** A scripted Redis: records each WAIT and lets the test answer it. */
class FakeRedis {
  changes = 0;
  /** key -> primary name; unknown keys are on ''. */
  readonly shards = new Map<string, string>();
  readonly waits: {
    key: string;
    replicas: number;
    timeoutMs: number;
    answer(n: number): void;
    fail(e: Error): void;
  }[] = [];

  replicaWait(replicas = 1, timeoutMs = 100): ReplicaWait {
    return new ReplicaWait({
      replicas,
      timeoutMs,
      wait: (key, n, ms) =>
        new Promise<number>((resolve, reject) =>
          this.waits.push({ key, replicas: n, timeoutMs: ms, answer: resolve, fail: reject }),
        ),
      changes: () => this.changes,
      shardOf: (key) => this.shards.get(key) ?? '',
    });
  }
}

/** Lets queued microtasks and next-tick callbacks run (the WAIT goes out on the next tick). */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Records how each confirm settled. */
function track(p: Promise<void>): { state: 'pending' | 'ok' | StoreError } {
  const t: { state: 'pending' | 'ok' | StoreError } = { state: 'pending' };
  p.then(
    () => (t.state = 'ok'),
    (e: StoreError) => (t.state = e),
  );
  return t;
}

describe('ReplicaWait (ack-after-replica)', () => {
  it('confirms every append whose reply came in one turn with one WAIT', async () => {
    const redis = new FakeRedis();
    const w = redis.replicaWait(2, 250);
    const confirms = ['a', 'b', 'c', 'd', 'e'].map((k) => track(w.confirm(k, w.ticket(k))));
    await settle();
    expect(redis.waits.map((x) => [x.key, x.replicas, x.timeoutMs])).to.deep.equal([['a', 2, 250]]);
    expect(confirms.every((c) => c.state === 'pending')).to.equal(true);
    redis.waits[0]!.answer(2);
    await settle();
    expect(confirms.map((c) => c.state)).to.deep.equal(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(w.counters).to.deep.equal({ waits: 1, confirmed: 5, timedOut: 0, interrupted: 0 });
  });

  it('keeps one WAIT in flight per primary: replies meanwhile join the next one', async () => {
    const redis = new FakeRedis();
    const w = redis.replicaWait();
    const first = track(w.confirm('a', w.ticket('a')));
    await settle();
    const later = ['b', 'c'].map((k) => track(w.confirm(k, w.ticket(k))));
    await settle();
    expect(redis.waits).to.have.length(1);
    redis.waits[0]!.answer(1);
    await settle();
    expect(first.state).to.equal('ok');
    // Appends confirmed while the first WAIT was out were not covered by it: they need their own.
    expect(later.map((c) => c.state)).to.deep.equal(['pending', 'pending']);
    expect(redis.waits).to.have.length(2);
    redis.waits[1]!.answer(1);
    await settle();
    expect(later.map((c) => c.state)).to.deep.equal(['ok', 'ok']);
  });

  it('refuses the whole batch when fewer replicas confirmed within the timeout', async () => {
    const redis = new FakeRedis();
    const w = redis.replicaWait(1, 300);
    const confirms = ['a', 'b'].map((k) => track(w.confirm(k, w.ticket(k))));
    await settle();
    redis.waits[0]!.answer(0);
    await settle();
    for (const c of confirms) {
      expect(c.state).to.be.instanceOf(StoreError);
      expect((c.state as StoreError).message).to.equal(
        'stored, but 0 of 1 replica(s) confirmed it within 300 ms',
      );
    }
    expect(w.counters).to.include({ timedOut: 2, confirmed: 0 });
  });

  it('never confirms across a connection change: before the WAIT, while it is out, or a failed WAIT', async () => {
    const redis = new FakeRedis();
    const w = redis.replicaWait();
    // The connection changed between sending the append and its reply.
    const t1 = w.ticket('a');
    redis.changes++;
    const early = track(w.confirm('a', t1));
    // ...while the WAIT was out (it would count the replicas of another connection's writes).
    const during = track(w.confirm('b', w.ticket('b')));
    await settle();
    redis.changes++;
    redis.waits[0]!.answer(1);
    // ...and a WAIT that failed.
    const failed = track(w.confirm('c', w.ticket('c')));
    await settle();
    redis.waits[1]!.fail(new Error('socket closed'));
    await settle();
    for (const c of [early, during, failed]) {
      expect(c.state).to.be.instanceOf(StoreError);
      expect((c.state as StoreError).message).to.include('connection changed');
    }
    expect(w.counters).to.include({ interrupted: 3, confirmed: 0 });
  });

  it('sends one WAIT per primary, to that primary, and refuses an append whose key moved', async () => {
    const redis = new FakeRedis();
    redis.shards.set('x1', 'p1').set('x2', 'p1').set('y1', 'p2').set('moved', 'p1');
    const w = redis.replicaWait();
    const a = track(w.confirm('x1', w.ticket('x1')));
    const b = track(w.confirm('y1', w.ticket('y1')));
    const c = track(w.confirm('x2', w.ticket('x2')));
    const ticket = w.ticket('moved');
    redis.shards.set('moved', 'p2');
    const moved = track(w.confirm('moved', ticket));
    await settle();
    expect(redis.waits.map((x) => x.key)).to.deep.equal(['x1', 'y1']);
    redis.waits[0]!.answer(1);
    await settle();
    expect([a.state, b.state, c.state]).to.deep.equal(['ok', 'pending', 'ok']);
    redis.waits[1]!.answer(1);
    await settle();
    expect(b.state).to.equal('ok');
    expect(moved.state).to.be.instanceOf(StoreError);
  });

  it('takes only sensible numbers', () => {
    const redis = new FakeRedis();
    expect(() => redis.replicaWait(0)).to.throw(RangeError);
    expect(() => redis.replicaWait(1, 0)).to.throw(RangeError);
  });
});
