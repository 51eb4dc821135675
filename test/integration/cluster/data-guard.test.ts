/**
 * The data guard against real redis-servers: a Redis that restarts without its data, one that
 * restarts with it, and one that comes back with its last writes rolled back; the first append after
 * each gets a seq above every seq handed out before, and what was lost is counted and logged once.
 * On Redis Cluster, one data marker per master.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { DataGuard, FLOOR_MARGIN_US } from '../../../src/cluster/data-guard.js';
import { ClusterKeys, keySlot, SLOT_COUNT } from '../../../src/cluster/keys.js';
import { RedisLink } from '../../../src/cluster/redis-link.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { logKeys } from '../../../src/store/redis/keys.js';
import { RedisMessageStore, type RedisScriptClient } from '../../../src/store/redis/redis-store.js';
import { SEQ_EPOCH_S } from '../../../src/store/redis/scripts.js';
import { userMsg } from '../../conformance/describe-store.js';
import {
  startRedisCluster,
  startRedisServer,
  type RedisCluster,
  type RedisServer,
} from '../../helpers/redis-server.js';

const LIMITS = { maxMessagesPerLog: 100, retentionMs: 3600_000, dedupWindowMs: 600_000, maxBytes: 1 << 20 };

const logged = new Map<Record<string, unknown>[], () => void>();

/** A logger whose records land in `lines` (and wake `untilLogged`). */
function recordingLogger(lines: Record<string, unknown>[]) {
  return pino(
    { level: 'info' },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s) as Record<string, unknown>);
        logged.get(lines)?.();
      },
    },
  );
}

/** Resolves once `lines` has a record `match` accepts. */
function untilLogged(lines: Record<string, unknown>[], match: (l: Record<string, unknown>) => boolean) {
  return new Promise<void>((resolve) => {
    const look = (): void => {
      if (!lines.some(match)) return;
      logged.delete(lines);
      resolve();
    };
    logged.set(lines, look);
    look();
  });
}

async function metric(m: Metrics, name: string, labels = ''): Promise<number> {
  const text = await m.registry.metrics();
  let sum = 0;
  for (const line of text.split('\n'))
    if (
      line.startsWith(name) &&
      (line[name.length] === ' ' || line[name.length] === '{') &&
      line.includes(labels)
    )
      sum += Number(line.split(' ').pop());
  return sum;
}

/** Resolves at the link's next 'ready' (its connection came back). */
function nextReady(link: RedisLink): Promise<void> {
  return new Promise((resolve) =>
    (link.native as { once(e: string, f: () => void): void }).once('ready', resolve),
  );
}

interface Node {
  link: RedisLink;
  guard: DataGuard;
  store: RedisMessageStore;
  metrics: Metrics;
  lines: Record<string, unknown>[];
  /** What the node's sessions were sent, per user (the guard's evidence). */
  sent: Map<string, number>;
}

async function startNode(
  server: RedisServer,
  prefix: string,
  intervalMs = 0,
  url = server.url,
): Promise<Node> {
  const link = await RedisLink.connect({
    url,
    cluster: [],
    name: 'guard',
    logger: silentLogger(),
  });
  const lines: Record<string, unknown>[] = [];
  const metrics = new Metrics({ defaultMetrics: false });
  const guard = new DataGuard({
    link,
    keys: new ClusterKeys(prefix),
    nodeId: 'n1',
    intervalMs,
    logger: recordingLogger(lines),
    metrics,
    onError: () => {},
  });
  const store = new RedisMessageStore({
    client: link.native as unknown as RedisScriptClient,
    connectionEpoch: link.connectionEpoch!,
    appendGuard: guard,
    recentAppends: 1000,
    nodeId: 'n1',
    keyPrefix: prefix,
    commandTimeoutMs: Infinity,
    ...LIMITS,
  });
  const sent = new Map<string, number>();
  guard.attach({
    auditStore: () => store.auditRecent(),
    sentSeqs: () => [...sent],
    lastUserSeq: (u) => store.lastUserSeq(u),
  });
  await guard.start();
  return { link, guard, store, metrics, lines, sent };
}

async function redisMicros(link: RedisLink): Promise<number> {
  const [s, us] = await link.call<[string, string]>(undefined, ['TIME']);
  return (Number(s) - SEQ_EPOCH_S) * 1_000_000 + Number(us);
}

const errors = (n: Node) => n.lines.filter((l) => Number(l.level) >= 50);

describe('data guard on a real redis-server', function () {
  this.timeout(30_000);
  let server: RedisServer;
  let node: Node | undefined;
  let prefixes = 0;
  const prefix = (): string => `guard-${process.pid}-${++prefixes}`;

  afterEach(async () => {
    await node?.guard.close();
    await node?.link.close();
    node = undefined;
    await server?.stop();
  });

  it('after a restart without persistence: counts and logs the loss once, and seqs continue above the old ones', async () => {
    server = await startRedisServer();
    const n = (node = await startNode(server, prefix()));
    const bob: number[] = [];
    for (let i = 0; i < 5; i++) bob.push((await n.store.appendToUser(userMsg({ toUser: 'bob' }))).seq);
    for (let i = 0; i < 2; i++) await n.store.appendToUser(userMsg({ toUser: 'carol' }));
    n.sent.set('bob', bob[4]!);
    n.sent.set('dave', 3); // a session that was sent seq 3 of a log this node did not write lately
    await n.link.call(undefined, ['SET', logKeys(n.guard['o'].keys.prefix, 'u', 'dave').seq, '3']);
    const ready = nextReady(n.link);
    await server.restart();
    await ready;
    // The first append after the restart waits for the check, and lands above every earlier seq.
    const next = await n.store.appendToUser(userMsg({ toUser: 'bob' }));
    expect(next.seq).to.be.greaterThan(bob[4]!);
    expect(next.seq).to.be.greaterThan(n.guard.floor());
    expect(n.guard.floor()).to.be.greaterThan(await redisMicros(n.link));
    await n.guard.audited();
    expect(await metric(n.metrics, 'ferry_store_data_loss_total', 'cause="marker"')).to.equal(1);
    expect(await metric(n.metrics, 'ferry_store_messages_lost_total')).to.equal(7);
    expect(await metric(n.metrics, 'ferry_store_users_affected_total')).to.equal(3);
    expect(await metric(n.metrics, 'ferry_store_redis_changes_total')).to.equal(1);
    const lines = errors(n);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ users: 3, messages: 7, checkedMessages: 7, markersLost: 1 });
    expect(lines[0]!.msg).to.match(/^Redis lost data: 3 users affected, 7 stored messages missing/);
    // Checked again with nothing new: nothing more is counted.
    await n.guard.checkNow();
    await n.guard.audited();
    expect(await metric(n.metrics, 'ferry_store_data_loss_total')).to.equal(1);
  });

  it('after a restart that kept everything (AOF): no loss is claimed, and seqs jump above the floor', async () => {
    server = await startRedisServer({ appendonly: true });
    const n = (node = await startNode(server, prefix()));
    const before = [];
    for (let i = 0; i < 3; i++) before.push(await n.store.appendToUser(userMsg({ toUser: 'bob' })));
    n.sent.set('bob', before[2]!.seq);
    const ready = nextReady(n.link);
    await server.kill9();
    await server.restart();
    await ready;
    const next = await n.store.appendToUser(userMsg({ toUser: 'bob' }));
    expect(next.seq).to.equal(n.guard.floor() + 1);
    await n.guard.audited();
    expect(await metric(n.metrics, 'ferry_store_data_loss_total')).to.equal(0);
    expect(await metric(n.metrics, 'ferry_store_messages_lost_total')).to.equal(0);
    expect(await metric(n.metrics, 'ferry_store_redis_changes_total')).to.equal(1);
    expect(errors(n)).to.deep.equal([]);
    const warn = n.lines.find((l) => /Redis changed under this node/.test(String(l.msg)));
    expect(warn).to.include({ users: 0, messages: 0, checkedMessages: 3, serversChanged: 1 });
    expect((await n.store.readUser('bob', 0, 10)).map((e) => e.seq)).to.deep.equal([
      ...before.map((r) => r.seq),
      next.seq,
    ]);
  });

  it('after a restart that lost the last writes: never hands their seqs out again, and counts them', async () => {
    server = await startRedisServer({ appendonly: true });
    const n = (node = await startNode(server, prefix()));
    const keys = logKeys(n.guard['o'].keys.prefix, 'u', 'bob');
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) seqs.push((await n.store.appendToUser(userMsg({ toUser: 'bob' }))).seq);
    // The state of bob's log after 3 appends, as a replica that missed what follows would have it.
    const dumps = await Promise.all(
      [keys.log, keys.seq].map((k) => n.link.callBuffers<Buffer>(k, ['DUMP', k])),
    );
    for (let i = 0; i < 2; i++) seqs.push((await n.store.appendToUser(userMsg({ toUser: 'bob' }))).seq);
    n.sent.set('bob', seqs[4]!); // a session here got the last two
    for (const [i, k] of [keys.log, keys.seq].entries())
      await n.link.call(k, ['RESTORE', k, '0', dumps[i]!, 'REPLACE']);
    const ready = nextReady(n.link);
    await server.kill9();
    await server.restart();
    await ready;
    const next = await n.store.appendToUser(userMsg({ toUser: 'bob' }));
    // Without the floor the rolled-back counter would hand out seqs[3] again.
    expect(next.seq).to.be.greaterThan(seqs[4]! + FLOOR_MARGIN_US / 2);
    await n.guard.audited();
    expect(await metric(n.metrics, 'ferry_store_data_loss_total', 'cause="audit"')).to.equal(1);
    expect(await metric(n.metrics, 'ferry_store_messages_lost_total')).to.equal(2);
    expect(errors(n)[0]).to.include({ users: 1, messages: 2, checkedMessages: 5, markersLost: 0 });
  });

  it('works with the marker alone where INFO is refused (a managed Redis that forbids it)', async () => {
    // A user without INFO, as some managed Redis services hand out.
    server = await startRedisServer({
      extraArgs: ['--user', 'ferry', 'on', 'nopass', '~*', '&*', '+@all', '-info'],
    });
    const n = (node = await startNode(server, prefix(), 0, `redis://ferry:x@${server.host}:${server.port}`));
    expect(n.lines.map((l) => l.msg)).to.include(
      'INFO is refused: a Redis restart that kept its data marker cannot be noticed by its run_id',
    );
    await n.store.appendToUser(userMsg({ toUser: 'bob' }));
    await n.link.call(undefined, ['FLUSHALL']);
    await n.guard.checkNow();
    await n.guard.audited();
    expect(errors(n)[0]).to.include({ markersLost: 1, messages: 1 });
  });

  it('notices a flush without a restart at its periodic check', async () => {
    server = await startRedisServer();
    const n = (node = await startNode(server, prefix(), 100));
    await n.store.appendToUser(userMsg({ toUser: 'bob' }));
    await n.link.call(undefined, ['FLUSHALL']);
    await untilLogged(n.lines, (l) => Number(l.level) >= 50);
    expect(errors(n)).to.have.length(1);
    expect(errors(n)[0]).to.include({ markersLost: 1, serversChanged: 0, messages: 1 });
  });
});

describe('data guard on a 3-master Redis Cluster', function () {
  this.timeout(60_000);
  let cluster: RedisCluster;
  let link: RedisLink;

  before(async () => {
    cluster = await startRedisCluster(3);
    link = await RedisLink.connect({
      url: '',
      cluster: cluster.nodes.map((n) => `${n.host}:${n.port}`),
      name: 'guard',
      logger: silentLogger(),
    });
  });
  after(async () => {
    await link?.close();
    await cluster?.stop();
  });

  it('keeps one data marker on each master and notices the one master that lost its data', async () => {
    const lines: Record<string, unknown>[] = [];
    const metrics = new Metrics({ defaultMetrics: false });
    const guard = new DataGuard({
      link,
      keys: new ClusterKeys(`guard-c-${process.pid}`),
      nodeId: 'n1',
      intervalMs: 0,
      logger: recordingLogger(lines),
      metrics,
      onError: () => {},
    });
    await guard.start();
    const perMaster = await Promise.all(
      cluster.servers.map(async (s) =>
        (await s.cli('--scan', '--pattern', '*:marker')).trim().split('\n').filter(Boolean),
      ),
    );
    expect(perMaster.map((keys) => keys.length)).to.deep.equal([1, 1, 1]);
    for (const [i, keys] of perMaster.entries())
      expect(Number((await cluster.servers[i]!.cli('cluster', 'keyslot', keys[0]!)).trim())).to.equal(
        keySlot(keys[0]!),
      );
    await cluster.servers[1]!.cli('flushall');
    await guard.checkNow();
    await guard.audited();
    expect(await metric(metrics, 'ferry_store_data_loss_total', 'cause="marker"')).to.equal(1);
    const errs = lines.filter((l) => Number(l.level) >= 50);
    expect(errs).to.have.length(1);
    expect(errs[0]).to.include({ markersLost: 1 });
    await guard.close();
  });

  it('lets appends to the other shards go on while one master is down', async () => {
    const prefix = `guard-d-${process.pid}`;
    const guard = new DataGuard({
      link,
      keys: new ClusterKeys(prefix),
      nodeId: 'n1',
      intervalMs: 0,
      logger: silentLogger(),
      metrics: new Metrics({ defaultMetrics: false }),
      onError: () => {},
    });
    await guard.start();
    const store = new RedisMessageStore({
      client: link.native as unknown as RedisScriptClient,
      appendGuard: guard,
      nodeId: 'n1',
      keyPrefix: prefix,
      commandTimeoutMs: Infinity,
      ...LIMITS,
    });
    const down = cluster.servers[2]!;
    const owners = link.slotMasters()!;
    const userOn = (address: string, not: boolean): string => {
      for (let i = 0; ; i++) {
        const owner = owners[keySlot(logKeys(prefix, 'u', `u${i}`).seq)];
        if ((owner === address) !== not) return `u${i}`;
      }
    };
    const healthy = userOn(`${down.host}:${down.port}`, true);
    await down.kill9();
    try {
      // The dead master's connection reports errors (connection changes): the next append checks
      // every shard, skips the one that does not answer, and goes on.
      const r = await store.appendToUser(userMsg({ toUser: healthy }));
      expect(r.duplicate).to.equal(false);
    } finally {
      await guard.close();
      await down.restart();
    }
  });
});

describe('keySlot', () => {
  it('is CRC16-XMODEM mod 16384 of the hash tag, as Redis Cluster computes it', () => {
    expect(keySlot('123456789')).to.equal(0x31c3);
    expect(keySlot('{user1000}.following')).to.equal(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).to.equal(keySlot('foo{}{bar}'));
    expect(keySlot('foo{}{bar}')).to.not.equal(keySlot('bar'));
    expect(keySlot('{}x')).to.be.within(0, SLOT_COUNT - 1);
  });
});
