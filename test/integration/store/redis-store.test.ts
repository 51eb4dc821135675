/**
 * RedisMessageStore against real redis-servers: the shared MessageStore conformance suite on a
 * standalone server and on a 3-master Redis Cluster, plus what only a shared store has to get
 * right: two instances ("nodes") on one Redis agreeing on dedup, seqs and cursors.
 */
import { expect } from 'chai';
import { createClient, createCluster } from 'redis';
import { ConfigError, StoreError } from '../../../src/errors.js';
import {
  describeCause,
  RedisMessageStore,
  type RedisScriptClient,
} from '../../../src/store/redis/redis-store.js';
import { logKeys } from '../../../src/store/redis/keys.js';
import { hashSlot } from '../../../src/cluster/redis-link.js';
import { describeMessageStore, topicMsg, userMsg } from '../../conformance/describe-store.js';
import { startRedisCluster, type RedisCluster } from '../../helpers/redis-server.js';
import { freshPrefix, LIMITS, useRedis } from './store-fixture.js';

describe('RedisMessageStore on a standalone redis-server', function () {
  this.timeout(30_000);
  const fx = useRedis();

  describeMessageStore(
    'redis (standalone)',
    async (s) => new RedisMessageStore({ client: fx.client, nodeId: 'n1', keyPrefix: freshPrefix(), ...s }),
    { byteCap: false, firstSeqIsOne: false },
  );

  // As the cluster wiring sets it up for a single Redis: every append of a turn in one script call.
  describeMessageStore(
    'redis (standalone, one call per turn)',
    async (s) =>
      new RedisMessageStore({
        client: fx.client,
        nodeId: 'n1',
        keyPrefix: freshPrefix(),
        appendGroup: () => 0,
        ...s,
      }),
    { byteCap: false, firstSeqIsOne: false },
  );

  const twoNodes = () => {
    const keyPrefix = freshPrefix();
    const a = new RedisMessageStore({ client: fx.client, nodeId: 'a', keyPrefix, ...LIMITS });
    const b = new RedisMessageStore({ client: fx.client, nodeId: 'b', keyPrefix, ...LIMITS });
    return { a, b, keyPrefix };
  };

  it('dedups atomically when two nodes append the same message concurrently', async () => {
    const { a, b } = twoNodes();
    const msgs = Array.from({ length: 50 }, (_, i) => userMsg({ clientMsgId: `race-${i}`, toUser: 'bob' }));
    const results = await Promise.all(msgs.flatMap((m) => [a.appendToUser(m), b.appendToUser(m)]));
    for (let i = 0; i < msgs.length; i++) {
      const [x, y] = [results[2 * i]!, results[2 * i + 1]!];
      expect([x.duplicate, y.duplicate].sort()).to.deep.equal([false, true]);
      expect({ ...x, duplicate: false }).to.deep.equal({ ...y, duplicate: false });
    }
    const first = Math.min(...results.map((r) => r.seq));
    expect(await a.lastUserSeq('bob')).to.equal(first + 49);
    const seqs = (await b.readUser('bob', 0, 100)).map((e) => e.seq);
    expect(seqs).to.deep.equal(Array.from({ length: 50 }, (_, i) => first + i));
  });

  it('continues one seq per log across nodes, without gaps', async () => {
    const { a, b } = twoNodes();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).appendToTopic(topicMsg('room'))),
    );
    const first = Math.min(...results.map((r) => r.seq));
    expect(results.map((r) => r.seq).sort((x, y) => x - y)).to.deep.equal(
      Array.from({ length: 40 }, (_, i) => first + i),
    );
    expect(new Set(results.map((r) => r.serverId)).size).to.equal(40);
    expect(await b.lastTopicSeq('room')).to.equal(first + 39);
    expect((await a.readTopic('room', first + 37, 10)).map((e) => e.seq)).to.deep.equal([
      first + 38,
      first + 39,
    ]);
  });

  it('shares device cursors: an ack on one node is the replay position on the other', async () => {
    const { a, b } = twoNodes();
    const f = (await a.appendToUser(userMsg({ toUser: 'bob' }))).seq;
    for (let i = 1; i < 6; i++) await a.appendToUser(userMsg({ toUser: 'bob' }));
    await a.ackUser('bob', 'phone', f + 3);
    expect(await b.userCursor('bob', 'phone')).to.equal(f + 3);
    await b.ackUser('bob', 'phone', f + 1);
    expect(await a.userCursor('bob', 'phone')).to.equal(f + 3);
    const replay = await b.readUser('bob', await b.userCursor('bob', 'phone'), 100);
    expect(replay.map((e) => e.seq)).to.deep.equal([f + 4, f + 5]);
  });

  it('reads every number its scripts take exactly (they parse digits, not tonumber)', async () => {
    // A clock near 2^53 ms, a dedup window of "forever" (-1) and a cursor far past the last seq: each
    // would be misread by a parser that mishandled the sign, large values or clamping.
    let now = 2 ** 52;
    const store = new RedisMessageStore({
      client: fx.client,
      nodeId: 'n',
      keyPrefix: freshPrefix(),
      ...LIMITS,
      dedupWindowMs: Infinity,
      now: () => now,
    });
    const first = await store.appendToUser(userMsg({ clientMsgId: 'once', toUser: 'zed' }));
    now += 30 * 24 * 3600_000;
    const again = await store.appendToUser(userMsg({ clientMsgId: 'once', toUser: 'zed' }));
    expect(again).to.deep.include({ duplicate: true, seq: first.seq, serverId: first.serverId });
    expect(again.timestampMs).to.equal(2 ** 52);
    await store.appendToUser(userMsg({ toUser: 'zed' }));
    await store.ackUser('zed', 'phone', 2 ** 60);
    expect(await store.userCursor('zed', 'phone')).to.equal(first.seq + 1);
  });

  it('keeps one log per user id even for ids with braces, percent signs and colons', async () => {
    const { a } = twoNodes();
    const names = ['x}y', 'x', '{x}', 'x%7Dy', 'a:b', 'x}:log'];
    for (const toUser of names) await a.appendToUser(userMsg({ toUser }));
    for (const toUser of names) {
      expect(await a.lastUserSeq(toUser), toUser).to.be.greaterThan(0);
      expect((await a.readUser(toUser, 0, 10)).map((e) => e.toUser)).to.deep.equal([toUser]);
    }
  });

  it('round-trips binary payloads and unicode names byte for byte', async () => {
    const { a } = twoNodes();
    const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
    const r = await a.appendToUser(userMsg({ toUser: 'zoë', fromUser: '用户', fromDevice: '📱', payload }));
    const [env] = await a.readUser('zoë', 0, 1);
    expect([...env!.payload]).to.deep.equal([...payload]);
    expect([env!.fromUser, env!.fromDevice, env!.serverId]).to.deep.equal(['用户', '📱', r.serverId]);
  });

  it('stores fromService as field v only when set, and reads entries written without it as ""', async () => {
    const { a, keyPrefix } = twoNodes();
    await a.appendToUser(userMsg({ toUser: 'fs', fromService: 'crm' }));
    await a.appendToUser(userMsg({ toUser: 'fs' }));
    const log = logKeys(keyPrefix, 'u', 'fs');
    const fields = ((await fx.client.xRange(log.log, '-', '+')) ?? []).map((e) =>
      Object.keys(e.message ?? {}),
    );
    expect(fields).to.deep.equal([
      ['s', 't', 'b', 'f', 'd', 'c', 'e', 'p', 'v'],
      ['s', 't', 'b', 'f', 'd', 'c', 'e', 'p'],
    ]);
    // An entry as a node before this field wrote it.
    const old = logKeys(keyPrefix, 'u', 'old');
    await fx.client.xAdd(old.log, '1-0', {
      s: 'n0-1',
      t: String(Date.now()),
      b: '800',
      f: 'system',
      d: 'crm',
      c: '',
      e: '0',
      p: 'hi',
    });
    await fx.client.set(old.seq, '1');
    const [env] = await a.readUser('old', 0, 10);
    expect(env).to.include({ serverId: 'n0-1', fromUser: 'system', fromDevice: 'crm', fromService: '' });
  });

  it('dedups through one hash per log and window, handing the entries over to the next window', async () => {
    const W = 600_000;
    let now = 1_800_000_000_000;
    const keyPrefix = freshPrefix();
    const s = new RedisMessageStore({
      client: fx.client,
      nodeId: 'a',
      keyPrefix,
      ...LIMITS,
      dedupWindowMs: W,
      now: () => now,
    });
    const send = (clientMsgId: string, fromUser = 'alice') =>
      s.appendToUser(userMsg({ toUser: 'bob', fromUser, clientMsgId }));
    const t0 = now;
    const a = await send('a');
    now = t0 + 0.8 * W;
    const b = await send('b');
    // Sender and id are length-prefixed in the field: ("ali", "cea") is not ("alice", "a").
    expect((await send('cea', 'ali')).duplicate).to.equal(false);
    now = t0 + 1.2 * W; // the hash started at t0 is a window old: it becomes the previous one
    const c = await send('c');
    now = t0 + 1.5 * W;
    expect(await send('b')).to.deep.equal({ ...b, duplicate: true }); // found in the previous hash
    expect((await send('a')).seq).to.be.greaterThan(a.seq); // older than the window: stored again
    now = t0 + 2.1 * W;
    expect(await send('c')).to.deep.equal({ ...c, duplicate: true });
    now = t0 + 2.3 * W; // second rotation: the hash from t0 (holding only expired entries) goes
    await send('d');
    const k = logKeys(keyPrefix, 'u', 'bob');
    const keys = (await fx.client.keys(`${keyPrefix}:*`)).sort();
    expect(keys).to.deep.equal([k.dedup, k.dedupPrev, k.log, k.seq].sort());
    expect(await fx.client.hGet(k.dedup, '@')).to.equal(`${t0 + 2.3 * W}^`);
    // A hash lives two windows from its start; the one before keeps the TTL it had.
    expect(await fx.client.pTTL(k.dedup)).to.be.within(2 * W - 60_000, 2 * W);
    expect(await fx.client.pTTL(k.dedupPrev)).to.be.within(1, 2 * W);
  });

  it("renews a log's TTL only once it fell below retention, to 1.25x retention", async () => {
    const retentionMs = 3600_000;
    const keyPrefix = freshPrefix();
    const s = new RedisMessageStore({ client: fx.client, nodeId: 'a', keyPrefix, ...LIMITS, retentionMs });
    await s.appendToUser(userMsg({ toUser: 'bob' }));
    const k = logKeys(keyPrefix, 'u', 'bob');
    expect(await fx.client.pTTL(k.log)).to.be.within(retentionMs, 1.25 * retentionMs);
    await fx.client.pExpire(k.log, retentionMs + 1000);
    await s.appendToUser(userMsg({ toUser: 'bob' }));
    expect(await fx.client.pTTL(k.log)).to.be.within(retentionMs, retentionMs + 1000);
    await fx.client.pExpire(k.log, retentionMs - 1000);
    await s.appendToUser(userMsg({ toUser: 'bob' }));
    expect(await fx.client.pTTL(k.log)).to.be.within(1.25 * retentionMs - 60_000, 1.25 * retentionMs);
    expect(await fx.client.pTTL(k.seq)).to.equal(-1);
  });

  it('keeps approximate stats of what this node appended and trimmed', async () => {
    const keyPrefix = freshPrefix();
    const s = new RedisMessageStore({
      client: fx.client,
      nodeId: 'a',
      keyPrefix,
      ...LIMITS,
      maxMessagesPerLog: 3,
    });
    for (let i = 0; i < 40; i++) await s.appendToUser(userMsg({ toUser: 'bob' }));
    await s.appendToTopic(topicMsg('room'));
    // Appends trim every 16th seq, so a log holds up to 15 entries over its cap until then.
    const st = s.stats();
    expect([st.users, st.topics]).to.deep.equal([1, 1]);
    expect(st.messages).to.be.within(4, 4 + 15);
    expect(st.bytes).to.be.greaterThan(0);
    // A read trims to the cap first, and counts what it removed.
    expect(await s.readUser('bob', 0, 100)).to.have.length(3);
    expect(s.stats().messages).to.equal(4);
  });

  it('speaks to a RESP3 client the same way (Lua replies and Buffers map alike)', async () => {
    const resp3 = createClient({ url: fx.server.url, RESP: 3 });
    await resp3.connect();
    try {
      const keyPrefix = freshPrefix();
      const s = new RedisMessageStore({
        client: resp3,
        nodeId: 'r3',
        keyPrefix,
        ...LIMITS,
        maxMessagesPerLog: 2,
      });
      const first = await s.appendToUser(userMsg({ clientMsgId: 'k', payload: new Uint8Array([0, 200]) }));
      expect(await s.appendToUser(userMsg({ clientMsgId: 'k' }))).to.deep.equal({
        ...first,
        duplicate: true,
      });
      for (let i = 0; i < 2; i++) await s.appendToUser(userMsg());
      const got = await s.readUser('bob', 0, 10);
      const f = first.seq;
      expect(got.map((e) => e.seq)).to.deep.equal([f + 1, f + 2]);
      await s.ackUser('bob', 'phone', f + 99);
      expect(await s.userCursor('bob', 'phone')).to.equal(f + 2);
      // The same keys read through a RESP2 client: one format on the fx.server.
      const viaResp2 = new RedisMessageStore({ client: fx.client, nodeId: 'r2', keyPrefix, ...LIMITS });
      expect((await viaResp2.readUser('bob', f + 1, 10)).map((e) => e.serverId)).to.deep.equal([
        got[1]!.serverId,
      ]);
    } finally {
      await resp3.close();
    }
  });

  it('refuses bad limits and key prefixes', () => {
    const bad: Array<Record<string, unknown>> = [
      { maxMessagesPerLog: 0 },
      { retentionMs: 0 },
      { dedupWindowMs: -1 },
      { maxBytes: 0 },
      { commandTimeoutMs: 0 },
      { keyPrefix: 'a{b' },
      { keyPrefix: '' },
    ];
    for (const over of bad) {
      expect(
        () => new RedisMessageStore({ client: fx.client, nodeId: 'n', ...LIMITS, ...over }),
        JSON.stringify(over),
      ).to.throw(ConfigError);
    }
  });

  it('rejects with StoreError on a Redis error reply and after close', async () => {
    const keyPrefix = freshPrefix();
    const s = new RedisMessageStore({ client: fx.client, nodeId: 'a', keyPrefix, ...LIMITS });
    // A non-stream value where the log should be: XADD answers WRONGTYPE.
    await fx.client.set(`${keyPrefix}:{u:bob}:log`, 'not a stream');
    const err = await s.appendToUser(userMsg({ toUser: 'bob' })).then(
      () => expect.fail('expected a rejection'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StoreError);
    expect((err as Error).message).to.match(/WRONGTYPE/);
    await s.close();
    await s.close();
    for (const op of [
      () => s.readUser('bob', 0, 1),
      () => s.lastUserSeq('bob'),
      () => s.ackUser('bob', 'd', 1),
    ]) {
      expect(
        await op().then(
          () => null,
          (e: unknown) => e,
        ),
      ).to.be.instanceOf(StoreError);
    }
  });
});

describe('describeCause', () => {
  it('names an error whose message is empty instead of logging nothing', () => {
    expect(describeCause(new Error('ECONNREFUSED'))).to.equal('ECONNREFUSED');
    expect(describeCause(new (class OddError extends Error {})())).to.equal('OddError');
    expect(describeCause(new (class TimeoutError extends Error {})())).to.match(
      /^TimeoutError \(command not sent/,
    );
    expect(describeCause('plain')).to.equal('plain');
  });
});

describe('RedisMessageStore on a 3-master Redis Cluster', function () {
  this.timeout(60_000);
  let cluster: RedisCluster;
  let client: ReturnType<typeof createCluster>;

  before(async () => {
    cluster = await startRedisCluster(3);
    client = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) });
    client.on('error', () => {});
    await client.connect();
  });
  after(async () => {
    await client?.close();
    await cluster?.stop();
  });

  describeMessageStore(
    'redis (cluster)',
    async (s) => new RedisMessageStore({ client, nodeId: 'n1', keyPrefix: freshPrefix(), ...s }),
    { byteCap: false, firstSeqIsOne: false },
  );

  // As the cluster wiring sets it up for Redis Cluster: one script call per slot and turn.
  describeMessageStore(
    'redis (cluster, one call per slot)',
    async (s) =>
      new RedisMessageStore({ client, nodeId: 'n1', keyPrefix: freshPrefix(), appendGroup: hashSlot, ...s }),
    { byteCap: false, firstSeqIsOne: false },
  );

  it('spreads logs over the masters while each log stays on one slot', async () => {
    const keyPrefix = freshPrefix();
    const a = new RedisMessageStore({ client, nodeId: 'a', keyPrefix, ...LIMITS });
    const b = new RedisMessageStore({
      client: client as RedisScriptClient,
      nodeId: 'b',
      keyPrefix,
      ...LIMITS,
    });
    const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    for (const toUser of users) {
      await a.appendToUser(userMsg({ toUser, clientMsgId: `m-${toUser}` }));
      expect((await b.appendToUser(userMsg({ toUser, clientMsgId: `m-${toUser}` }))).duplicate).to.equal(
        true,
      );
      const second = await b.appendToUser(userMsg({ toUser }));
      await b.ackUser(toUser, 'phone', second.seq - 1);
    }
    for (const toUser of users) {
      const last = await a.lastUserSeq(toUser);
      expect(await a.userCursor(toUser, 'phone')).to.equal(last - 1);
    }
    const counts = await Promise.all(
      cluster.servers.map(async (s) => Number((await s.cli('dbsize')).trim())),
    );
    expect(counts.filter((n) => n > 0).length, `keys per master: ${counts.join(',')}`).to.be.at.least(2);
  });
});
