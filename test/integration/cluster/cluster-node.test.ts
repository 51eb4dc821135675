import { expect } from 'chai';
import type { ClusterNode } from '../../../src/cluster/cluster-node.js';
import { INBOX_GROUP } from '../../../src/cluster/keys.js';
import { compareIds, nextId } from '../../../src/cluster/janitor.js';
import { backoffMs } from '../../../src/cluster/redis-link.js';
import { BusUnavailableError } from '../../../src/errors.js';
import { eventually } from '../../conformance/eventually.js';
import { envelope, RecordingHandler } from '../../conformance/describe-bus.js';
import { presenceEntry } from '../../conformance/describe-presence.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { userMsg } from '../../conformance/describe-store.js';
import { closeNodes, startNodes, storeOn } from './cluster-fixture.js';

const idOf = (n: ClusterNode): string => n.bus['o'].nodeId;

describe('cluster node on a real redis-server', function () {
  this.timeout(30_000);
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
    // bob reconnects on c; c's janitor re-routes the entry there.
    await c.presence.add(presenceEntry('bob', 'phone', 's2', { nodeId: idOf(c) }));
    await eventually(async () => {
      await c.housekeep();
      expect(hc.users.map((e) => e.serverId)).to.deep.equal([stuck.serverId]);
    }, 5000);
    // Once drained, the dead node is forgotten: inbox deleted, out of the registry.
    await eventually(async () => {
      await c.housekeep();
      expect(
        await c.link.call<number>(c.keys.inbox(idOf(dead)), ['EXISTS', c.keys.inbox(idOf(dead))]),
      ).to.equal(0);
      expect(
        await c.link.call<string[]>(c.keys.nodes(), ['ZRANGE', c.keys.nodes(), '0', '-1']),
      ).to.not.include(idOf(dead));
    }, 5000);
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
    await eventually(() => void expect(hb.users.map((e) => e.clientMsgId)).to.deep.equal(['m2']));
    expect(lookUps).to.deep.equal([]);
    // A message whose append read was not noted (seq past it) falls back to a read of its own.
    await a.bus.publishToUser(envelope({ toUser: 'bob', seq: 99, clientMsgId: 'm3' }));
    expect(lookUps).to.deep.equal(['bob']);
    await eventually(() => void expect(hb.users.map((e) => e.clientMsgId)).to.deep.equal(['m2', 'm3']));
  });

  it('ignores and cleans presence entries of dead nodes', async () => {
    nodes = await startNodes({ url: redis.url }, 1);
    const [n] = nodes as [ClusterNode];
    const events: string[] = [];
    n.presence.watch((ev) => events.push(`${ev.kind}:${ev.entry.nodeId}`));
    await n.presence.add(presenceEntry('carol', 'phone', 's1', { nodeId: 'never-alive' }));
    expect((await n.presence.query(['carol'])).get('carol')).to.deep.equal([]);
    await eventually(() => {
      expect(events).to.deep.equal(['online:never-alive', 'offline:never-alive']);
    });
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
    await eventually(() => {
      expect(hb.users).to.have.length(300);
    });
    const inbox = b.keys.inbox(idOf(b));
    await eventually(async () => {
      const pending = await b.link.call<unknown[]>(inbox, ['XPENDING', inbox, INBOX_GROUP]);
      expect(pending[0]).to.equal(0);
    });
    await b.housekeep();
    // Everything was read and acked: the trim may remove all of it (MINID ~ keeps whole macro nodes).
    const left = await b.link.call<number>(inbox, ['XLEN', inbox]);
    expect(left).to.be.lessThan(300);
    expect(b.stats()).to.deep.include({ mode: 'standalone', redisReady: true });
  });

  it('refuses QoS 0 to a remote user with a BusUnavailableError when Redis is unreachable, but delivers locally', async () => {
    const r = await startRedisServer();
    const local = await startNodes({ url: r.url }, 1);
    const [n] = local as [ClusterNode];
    const h = new RecordingHandler();
    await n.bus.start(h);
    await n.presence.add(presenceEntry('here', 'phone', 's1', { nodeId: idOf(n) }));
    await r.kill9();
    await n.bus.publishToUser(envelope({ toUser: 'here', qos: 0 }));
    expect(h.users).to.have.length(1);
    const err = await n.bus.publishToUser(envelope({ toUser: 'elsewhere', qos: 0 })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BusUnavailableError);
    n.link.destroy();
    await closeNodes(local).catch(() => undefined);
    await r.stop();
  });
});

describe('cluster bus across a Redis restart', function () {
  this.timeout(30_000);

  it('forwards a stored message again once Redis is back when its first forward failed', async () => {
    const r = await startRedisServer({ appendonly: true });
    const nodes = await startNodes({ url: r.url }, 2);
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
    expect(hb.users).to.have.length(0);
    await r.restart();
    await eventually(() => {
      expect(hb.users.map((e) => e.serverId)).to.deep.equal([stored.serverId]);
    }, 15_000);
    expect(a.stats()).to.include({ reforwarded: 1, retainDropped: 0 });
    await closeNodes(nodes);
    await r.stop();
  });
});

describe('node liveness after Redis trouble', function () {
  this.timeout(30_000);

  it('judges nobody dead for two TTLs after seeing Redis trouble, then again by the keys', async () => {
    const r = await startRedisServer();
    const nodes = await startNodes({ url: r.url }, 2, { livenessTtlMs: 600 });
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    await b.close(false); // b stops its heartbeat without announcing: its key expires after the TTL
    await eventually(async () => {
      expect(await a['liveness'].confirmedDead(idOf(b))).to.equal(true);
    }, 5000);
    a['liveness'].noteTrouble();
    expect(await a['liveness'].confirmedDead(idOf(b))).to.equal(false);
    expect([...(await a['liveness'].aliveOf([idOf(b)]))]).to.deep.equal([idOf(b)]);
    await eventually(async () => {
      expect(await a['liveness'].confirmedDead(idOf(b))).to.equal(true);
    }, 5000);
    // b's bus and presence links are still open (b.close only stopped the node's own parts).
    await closeNodes([a, b]);
    await r.stop();
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
