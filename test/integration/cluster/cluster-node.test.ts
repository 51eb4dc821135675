import { expect } from 'chai';
import type { ClusterNode } from '../../../src/cluster/cluster-node.js';
import { INBOX_GROUP } from '../../../src/cluster/keys.js';
import { compareIds, nextId } from '../../../src/cluster/janitor.js';
import { NodeLiveness } from '../../../src/cluster/node-liveness.js';
import { backoffMs } from '../../../src/cluster/redis-link.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { BusUnavailableError } from '../../../src/errors.js';
import { envelope, RecordingHandler } from '../../conformance/describe-bus.js';
import { presenceEntry } from '../../conformance/describe-presence.js';
import { Recorder } from '../../helpers/recorder.js';
import { KeyEvents } from '../../helpers/redis-events.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { userMsg } from '../../conformance/describe-store.js';
import { closeNodes, startNodes, storeOn } from './cluster-fixture.js';

const idOf = (n: ClusterNode): string => n.bus['o'].nodeId;

/** Records every value written to `counters[name]` (a plain counter object) from now on. */
function watchCounter<K extends string>(counters: Record<K, number>, name: K): Recorder<number> {
  const values = new Recorder<number>();
  let value = counters[name];
  Object.defineProperty(counters, name, {
    get: () => value,
    set: (v: number) => {
      value = v;
      values.push(v);
    },
    enumerable: true,
  });
  return values;
}

/**
 * Registers an afterEach in the calling suite that stops what a test started, last first, whether the
 * test passed or not: a link left reconnecting to a stopped redis-server keeps mocha from exiting.
 */
function useTeardown(): (stop: () => Promise<unknown>) => void {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  });
  return (stop) => void stops.push(stop);
}

describe('cluster node on a real redis-server', function () {
  this.timeout(30_000);
  const teardown = useTeardown();
  let redis: RedisServer;
  let nodes: ClusterNode[] = [];
  before(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    await closeNodes(nodes);
    nodes = [];
  });
  after(async () => {
    await redis.stop();
  });

  it("takes over a dead node's inbox: unread and unacked entries go to where the user is now", async () => {
    nodes = await startNodes({ url: redis.url }, 3, { livenessTtlMs: 1000, claimIdleMs: 100 });
    const [a, dead, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const hc = new RecordingHandler();
    await a.bus.start(new RecordingHandler());
    await dead.bus.start(new RecordingHandler());
    await c.bus.start(hc);
    // bob is on `dead`; `dead` stops reading (a crash) and its liveness key is gone.
    await a.presence.add(presenceEntry('bob', 'phone', 's1', { nodeId: idOf(dead) }));
    // a has bob's location cached (for QoS 0) when `dead` crashes: the next message goes to the dead inbox.
    expect(await a.presence.lookupNodes('bob')).to.deep.equal([idOf(dead)]);
    await dead.bus.close();
    await dead.link.call(dead.keys.alive(idOf(dead)), ['DEL', dead.keys.alive(idOf(dead))]);
    const stuck = envelope({ toUser: 'bob' });
    await a.bus.publishToUser({ ...stuck, qos: 0 });
    const len = await a.link.call<number>(a.keys.inbox(idOf(dead)), ['XLEN', a.keys.inbox(idOf(dead))]);
    expect(len).to.equal(1);
    // bob reconnects on c; one round of c's janitor re-routes the entry there (the entry was never
    // read, so no claim-idle time has to pass) and, finding the inbox drained, forgets the dead node.
    await c.presence.add(presenceEntry('bob', 'phone', 's2', { nodeId: idOf(c) }));
    // c checked `dead`'s liveness when bob's first presence event reached it and caches that answer
    // for a second; a fresh read (as after any trouble) tells it `dead` is gone now.
    expect(await c['liveness'].confirmedDead(idOf(dead))).to.equal(true);
    await c.housekeep();
    await hc.users.waitForCount(1, 'the re-routed message');
    expect(hc.users.items.map((e) => e.serverId)).to.deep.equal([stuck.serverId]);
    expect(
      await c.link.call<number>(c.keys.inbox(idOf(dead)), ['EXISTS', c.keys.inbox(idOf(dead))]),
    ).to.equal(0);
    expect(await c.link.call<string[]>(c.keys.nodes(), ['ZRANGE', c.keys.nodes(), '0', '-1'])).to.not.include(
      idOf(dead),
    );
    expect(c.stats()).to.include({ reclaimedEntries: 1 });
  });

  it('routes a stored message on the presence read of its own append, with no look-up of its own', async () => {
    nodes = await startNodes({ url: redis.url }, 2);
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const hb = new RecordingHandler();
    await a.bus.start(new RecordingHandler());
    await b.bus.start(hb);
    const store = storeOn(a);
    const lookUps: string[] = [];
    const readUsers = a.presence['readUsers'].bind(a.presence);
    a.presence['readUsers'] = (users: readonly string[]) => (lookUps.push(...users), readUsers(users));
    const send = async (clientMsgId: string): Promise<void> => {
      const r = await store.appendToUser(userMsg({ toUser: 'bob', clientMsgId }));
      await a.bus.publishToUser(envelope({ toUser: 'bob', seq: r.seq, serverId: r.serverId, clientMsgId }));
    };
    // bob is offline: the append's read says so, and nothing is forwarded.
    await send('m1');
    // bob connects on b; the next append reads him there (a has no cache to be stale about).
    await b.presence.add(presenceEntry('bob', 'phone', 's1', { nodeId: idOf(b) }));
    await send('m2');
    await hb.users.waitForCount(1, 'm2');
    expect(hb.users.items.map((e) => e.clientMsgId)).to.deep.equal(['m2']);
    expect(lookUps).to.deep.equal([]);
    // A message whose append read was not noted (seq past it) falls back to a read of its own.
    await a.bus.publishToUser(envelope({ toUser: 'bob', seq: 99, clientMsgId: 'm3' }));
    expect(lookUps).to.deep.equal(['bob']);
    await hb.users.waitForCount(2, 'm3');
    expect(hb.users.items.map((e) => e.clientMsgId)).to.deep.equal(['m2', 'm3']);
  });

  it('ignores and cleans presence entries of dead nodes', async () => {
    nodes = await startNodes({ url: redis.url }, 1);
    const [n] = nodes as [ClusterNode];
    const events = new Recorder<string>();
    n.presence.watch((ev) => events.push(`${ev.kind}:${ev.entry.nodeId}`));
    await n.presence.add(presenceEntry('carol', 'phone', 's1', { nodeId: 'never-alive' }));
    expect((await n.presence.query(['carol'])).get('carol')).to.deep.equal([]);
    await events.waitForCount(2, 'online, then offline');
    expect(events.items).to.deep.equal(['online:never-alive', 'offline:never-alive']);
    expect(await n.link.call(n.keys.presence('carol'), ['HLEN', n.keys.presence('carol')])).to.equal(0);
  });

  it('trims its inbox only below what its group has read and acked', async () => {
    nodes = await startNodes({ url: redis.url }, 2, { streamMaxLen: 1000 });
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const hb = new RecordingHandler();
    await a.bus.start(new RecordingHandler());
    await b.bus.start(hb);
    await b.presence.add(presenceEntry('dan', 'phone', 's1', { nodeId: idOf(b) }));
    for (let i = 0; i < 300; i++) await a.bus.publishToUser(envelope({ toUser: 'dan' }));
    await hb.users.waitForCount(300, '300 messages', 30_000);
    // A batch's XACK goes out with the reader's next XREADGROUP on the same connection: once a marker
    // sent after the 300 has been delivered, every one of them has been acked.
    await a.bus.publishToUser(envelope({ toUser: 'dan', clientMsgId: 'marker' }));
    await hb.users.waitForCount(301, 'the marker', 30_000);
    const inbox = b.keys.inbox(idOf(b));
    const pending = await b.link.call<unknown[]>(inbox, ['XPENDING', inbox, INBOX_GROUP]);
    expect(pending[0]).to.be.at.most(1);
    await b.housekeep();
    // All but the marker was read and acked: the trim may remove all of it (MINID ~ keeps whole
    // macro nodes).
    const left = await b.link.call<number>(inbox, ['XLEN', inbox]);
    expect(left).to.be.lessThan(300);
    expect(b.stats()).to.deep.include({ mode: 'standalone', redisReady: true });
  });

  it('refuses QoS 0 to a remote user with a BusUnavailableError when Redis is unreachable, but delivers locally', async () => {
    const r = await startRedisServer();
    teardown(() => r.stop());
    const local = await startNodes({ url: r.url }, 1);
    teardown(() => closeNodes(local));
    const [n] = local as [ClusterNode];
    const h = new RecordingHandler();
    await n.bus.start(h);
    await n.presence.add(presenceEntry('here', 'phone', 's1', { nodeId: idOf(n) }));
    await r.kill9();
    await n.bus.publishToUser(envelope({ toUser: 'here', qos: 0 }));
    expect(h.users.length).to.equal(1);
    const err = await n.bus.publishToUser(envelope({ toUser: 'elsewhere', qos: 0 })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BusUnavailableError);
  });
});

describe('cluster bus across a Redis restart', function () {
  this.timeout(30_000);
  const teardown = useTeardown();

  it('forwards a stored message again once Redis is back when its first forward failed', async () => {
    const r = await startRedisServer({ appendonly: true });
    teardown(() => r.stop());
    const nodes = await startNodes({ url: r.url }, 2);
    teardown(() => closeNodes(nodes));
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const hb = new RecordingHandler();
    await a.bus.start(new RecordingHandler());
    await b.bus.start(hb);
    await b.presence.add(presenceEntry('erin', 'phone', 's1', { nodeId: idOf(b) }));
    await r.kill9();
    // The router has stored it (QoS 1) and acked the sender; only the forward fails.
    const stored = envelope({ toUser: 'erin', qos: 1, seq: 7 });
    const err = await a.bus.publishToUser(stored).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BusUnavailableError);
    expect(hb.users.length).to.equal(0);
    // The counter moves when a's XADD reply arrives, which may be after b already delivered.
    const reforwarded = watchCounter(a.bus.counters, 'reforwarded');
    await r.restart();
    await hb.users.waitForCount(1, 'the re-forwarded message', 15_000);
    expect(hb.users.items.map((e) => e.serverId)).to.deep.equal([stored.serverId]);
    await reforwarded.waitFor((v) => v.at(-1) === 1, 'the reforwarded counter to reach 1');
    expect(a.stats()).to.include({ reforwarded: 1, retainDropped: 0 });
  });
});

describe('node liveness after Redis trouble', function () {
  this.timeout(30_000);
  const teardown = useTeardown();

  it('judges nobody dead for two TTLs after seeing Redis trouble, then again by the keys', async () => {
    const r = await startRedisServer();
    teardown(() => r.stop());
    const keyEvents = await KeyEvents.open(r.url);
    teardown(() => keyEvents.close());
    const nodes = await startNodes({ url: r.url }, 2, { livenessTtlMs: 600 });
    // b's bus and presence links stay open after b.close (which stops only the node's own parts).
    teardown(() => closeNodes(nodes));
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    // An observer on a's link with a clock of its own: the grace period passes without waiting.
    const clock = { now: Date.now() };
    const observer = new NodeLiveness({
      link: a.link,
      keys: a.keys,
      nodeId: 'observer',
      ttlMs: 600,
      logger: silentLogger(),
      onError: () => undefined,
      now: () => clock.now,
    });
    const bAlive = a.keys.alive(idOf(b));
    await b.close(false); // b stops its heartbeat without announcing: its key expires after the TTL
    // A late heartbeat may have let the key expire (and b set it again) before: only what comes
    // after b stopped counts, and a key already gone needs no event.
    const from = keyEvents.events.length;
    if ((await a.link.call<number>(bAlive, ['EXISTS', bAlive])) === 1)
      await keyEvents.events.waitFor(
        (evs) => evs.slice(from).some((e) => e.event === 'expired' && e.key === bAlive),
        "b's liveness key to expire",
      );
    expect(await observer.confirmedDead(idOf(b))).to.equal(true);
    observer.noteTrouble();
    expect(await observer.confirmedDead(idOf(b))).to.equal(false);
    expect([...(await observer.aliveOf([idOf(b)]))]).to.deep.equal([idOf(b)]);
    clock.now += 2 * 600 - 1;
    expect(await observer.confirmedDead(idOf(b))).to.equal(false);
    clock.now += 1;
    expect(await observer.confirmedDead(idOf(b))).to.equal(true);
  });
});

describe('cluster helpers', () => {
  it('orders stream ids numerically and finds the next one', () => {
    expect(compareIds('9-1', '10-0')).to.equal(-1);
    expect(compareIds('10-2', '10-10')).to.equal(-1);
    expect(compareIds('10-2', '10-2')).to.equal(0);
    expect(nextId('10-9')).to.equal('10-10');
  });

  it('backs off exponentially up to about 2 s', () => {
    expect(backoffMs(0)).to.be.within(50, 63);
    expect(backoffMs(3)).to.be.within(400, 500);
    expect(backoffMs(50)).to.be.within(2000, 2500);
  });
});
