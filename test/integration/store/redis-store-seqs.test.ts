/**
 * Seqs of the Redis store never go backwards, whatever Redis forgets (docs/cluster.md, "Sequence
 * numbers"): a counter created anew starts at the clock floor, above every seq the forgotten one gave
 * out; the node's floor lifts the seqs of counters Redis rolled back; existing small counters keep
 * counting; and the audit of recent appends finds what Redis lost.
 */
import { expect } from 'chai';
import { StoreError } from '../../../src/errors.js';
import { logKeys } from '../../../src/store/redis/keys.js';
import { RecentAppends } from '../../../src/store/redis/recent-appends.js';
import { RedisMessageStore, type AppendGuard } from '../../../src/store/redis/redis-store.js';
import { SEQ_EPOCH_S } from '../../../src/store/redis/scripts.js';
import { topicMsg, userMsg } from '../../conformance/describe-store.js';
import { freshPrefix, LIMITS, useRedis } from './store-fixture.js';

describe('RedisMessageStore seqs when Redis forgets', function () {
  this.timeout(30_000);
  const fx = useRedis();

  /** Microseconds since SEQ_EPOCH_S by the Redis server's clock. */
  const redisMicros = async (): Promise<number> => {
    const [s, us] = (await fx.client.sendCommand(['TIME'])) as [string, string];
    return (Number(s) - SEQ_EPOCH_S) * 1_000_000 + Number(us);
  };

  const store = (over: Partial<ConstructorParameters<typeof RedisMessageStore>[0]> = {}) =>
    new RedisMessageStore({ client: fx.client, nodeId: 'n', keyPrefix: freshPrefix(), ...LIMITS, ...over });

  it('starts a new log at the Redis clock in microseconds since 2024-01-01, then counts by one', async () => {
    const s = store();
    const before = await redisMicros();
    const first = await s.appendToUser(userMsg({ toUser: 'new' }));
    const after = await redisMicros();
    expect(first.seq).to.be.within(before + 1, after + 1);
    expect((await s.appendToUser(userMsg({ toUser: 'new' }))).seq).to.equal(first.seq + 1);
    expect(first.seq).to.be.below(2 ** 53);
  });

  it('gives a forgotten counter seqs above every seq it handed out (log, counter, cursors all lost)', async () => {
    const keyPrefix = freshPrefix();
    const s = store({ keyPrefix });
    const old: number[] = [];
    for (let i = 0; i < 5; i++) old.push((await s.appendToUser(userMsg({ toUser: 'bob' }))).seq);
    await s.ackUser('bob', 'phone', old[4]!);
    const topicOld = (await s.appendToTopic(topicMsg('room'))).seq;
    // What a Redis restarted without persistence has of these logs: nothing.
    const k = logKeys(keyPrefix, 'u', 'bob');
    const t = logKeys(keyPrefix, 't', 'room');
    await fx.client.del([k.log, k.seq, k.cursors, t.log, t.seq]);
    const next = await s.appendToUser(userMsg({ toUser: 'bob' }));
    expect(next.seq).to.be.greaterThan(old[4]!);
    expect((await s.appendToTopic(topicMsg('room'))).seq).to.be.greaterThan(topicOld);
    // A device that processed old[4] resumes after it and still gets the new message.
    expect((await s.readUser('bob', old[4]!, 10)).map((e) => e.seq)).to.deep.equal([next.seq]);
  });

  it('keeps counting an existing small counter (logs written before the clock floor keep their numbers)', async () => {
    const keyPrefix = freshPrefix();
    const s = store({ keyPrefix });
    await fx.client.set(logKeys(keyPrefix, 'u', 'legacy').seq, '57');
    expect((await s.appendToUser(userMsg({ toUser: 'legacy' }))).seq).to.equal(58);
    expect((await s.appendToUser(userMsg({ toUser: 'legacy' }))).seq).to.equal(59);
    expect(await s.lastUserSeq('legacy')).to.equal(59);
  });

  it("lifts seqs above the guard's floor (a counter rolled back by a restart or failover), then counts on", async () => {
    let floor = 0;
    const guard: AppendGuard = { gate: () => null, floor: () => floor };
    const keyPrefix = freshPrefix();
    const s = store({ keyPrefix, appendGuard: guard });
    await fx.client.set(logKeys(keyPrefix, 'u', 'rolled').seq, '10');
    expect((await s.appendToUser(userMsg({ toUser: 'rolled' }))).seq).to.equal(11);
    floor = 5_000_000;
    expect((await s.appendToUser(userMsg({ toUser: 'rolled' }))).seq).to.equal(5_000_001);
    expect((await s.appendToUser(userMsg({ toUser: 'rolled' }))).seq).to.equal(5_000_002);
    // A duplicate keeps its first seq: the floor applies to new appends only.
    const m = userMsg({ toUser: 'rolled', clientMsgId: 'once' });
    const first = await s.appendToUser(m);
    floor = 9_000_000;
    expect(await s.appendToUser(m)).to.deep.equal({ ...first, duplicate: true });
    expect(await s.lastUserSeq('rolled')).to.equal(first.seq);
  });

  it('holds appends at the gate, in call order, and fails them with StoreError when the gate fails', async () => {
    let open!: () => void;
    let gate: Promise<void> | null = new Promise<void>((r) => (open = r));
    const s = store({ appendGuard: { gate: () => gate, floor: () => 0 } });
    const pending = [0, 1, 2].map((i) => s.appendToUser(userMsg({ toUser: 'g', clientMsgId: `g${i}` })));
    let settled = false;
    void Promise.all(pending).then(() => (settled = true));
    await fx.client.ping(); // a round trip: an append that skipped the gate would have been stored by now
    expect(settled).to.equal(false);
    expect(await s.lastUserSeq('g')).to.equal(0);
    gate = null;
    open();
    const seqs = (await Promise.all(pending)).map((r) => r.seq);
    expect(seqs).to.deep.equal([seqs[0], seqs[0]! + 1, seqs[0]! + 2]);
    expect((await s.readUser('g', 0, 10)).map((e) => e.clientMsgId)).to.deep.equal(['g0', 'g1', 'g2']);
    gate = Promise.reject(new Error('redis changed and could not be checked'));
    gate.catch(() => {});
    const err = await s.appendToUser(userMsg({ toUser: 'g' })).then(
      () => expect.fail('expected a rejection'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StoreError);
    expect((err as Error).message).to.match(/could not be checked/);
  });

  it('audits its recent appends: counts what Redis lost, per user and topic, each append once', async () => {
    const keyPrefix = freshPrefix();
    const s = store({ keyPrefix, recentAppends: 100 });
    const bob: number[] = [];
    for (let i = 0; i < 4; i++) bob.push((await s.appendToUser(userMsg({ toUser: 'bob' }))).seq);
    await s.appendToUser(userMsg({ toUser: 'carol' }));
    const dup = userMsg({ toUser: 'carol', clientMsgId: 'twice' });
    await s.appendToUser(dup);
    await s.appendToUser(dup); // a duplicate stores nothing and is not recorded
    const room = (await s.appendToTopic(topicMsg('room'))).seq;
    await fx.client.xDel(logKeys(keyPrefix, 'u', 'bob').log, [`${bob[1]}-0`, `${bob[3]}-0`]);
    await fx.client.xDel(logKeys(keyPrefix, 't', 'room').log, `${room}-0`);
    expect(await s.auditRecent()).to.deep.equal({ checked: 7, missing: 3, users: ['bob'], topics: ['room'] });
    expect(await s.auditRecent()).to.deep.equal({ checked: 0, missing: 0, users: [], topics: [] });
    await s.appendToUser(userMsg({ toUser: 'dave' }));
    expect(await s.auditRecent()).to.deep.include({ checked: 1, missing: 0 });
  });

  it('counts logs it created in stats, whatever their first seq', async () => {
    const s = store();
    await s.appendToUser(userMsg({ toUser: 'x' }));
    await s.appendToUser(userMsg({ toUser: 'x' }));
    await s.appendToUser(userMsg({ toUser: 'y' }));
    await s.appendToTopic(topicMsg('t'));
    expect(s.stats()).to.include({ users: 2, topics: 1, messages: 4 });
  });
});

describe('RecentAppends', () => {
  it('keeps the last `capacity` appends, grouped by log in first-seen order, and forgets them when taken', () => {
    const r = new RecentAppends(4);
    r.record('u', 'a', 1);
    r.record('t', 'a', 7);
    r.record('u', 'b', 3);
    r.record('u', 'a', 2);
    r.record('u', 'a', 5); // overwrites the oldest (u a 1)
    expect(r.size).to.equal(4);
    expect(r.take()).to.deep.equal([
      { kind: 't', name: 'a', seqs: [7] },
      { kind: 'u', name: 'b', seqs: [3] },
      { kind: 'u', name: 'a', seqs: [2, 5] },
    ]);
    expect(r.take()).to.deep.equal([]);
    r.record('u', 'c', 9);
    expect(r.take()).to.deep.equal([{ kind: 'u', name: 'c', seqs: [9] }]);
  });

  it('records nothing with capacity 0 and refuses a bad capacity', () => {
    const r = new RecentAppends(0);
    r.record('u', 'a', 1);
    expect(r.take()).to.deep.equal([]);
    expect(() => new RecentAppends(-1)).to.throw(RangeError);
  });
});
