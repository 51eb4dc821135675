/**
 * Cluster nodes on Redis Sentinel follow the primary through a failover: a real primary, replica and
 * three sentinels (test/helpers/redis-sentinel.ts). The replica is cut off from the primary before
 * the nodes start, so the replica the sentinels promote has none of their keys: no streams, no
 * consumer groups, no liveness keys. After the switch every use of Redis must work again on the new
 * primary: the bus's blocking readers (recreating their groups), presence and its pub/sub events,
 * the message store, liveness and housekeeping.
 */
import { expect } from 'chai';
import type { ClusterNode } from '../../../src/cluster/cluster-node.js';
import { envelope, RecordingHandler } from '../../conformance/describe-bus.js';
import { Recorder } from '../../helpers/recorder.js';
import { KeyEvents, linkReady } from '../../helpers/redis-events.js';
import { presenceEntry } from '../../conformance/describe-presence.js';
import { userMsg } from '../../conformance/describe-store.js';
import { startSentinelDeployment, type SentinelDeployment } from '../../helpers/redis-sentinel.js';
import { closeNodes, startNodes, storeOn } from './cluster-fixture.js';

const idOf = (n: ClusterNode): string => n.bus['o'].nodeId;

describe('cluster nodes on Redis Sentinel', function () {
  this.timeout(90_000);
  let redis: SentinelDeployment;
  let nodes: ClusterNode[] = [];

  before(async () => {
    redis = await startSentinelDeployment({ masterName: 'ferry-unit' });
  });
  after(async () => {
    await closeNodes(nodes);
    await redis?.stop();
  });

  it('follow the promoted replica after the primary dies: bus, presence events, store, liveness', async () => {
    await redis.cutReplica();
    nodes = await startNodes({ sentinel: { list: redis.sentinelList, masterName: redis.masterName } }, 2, {
      livenessTtlMs: 2000,
    });
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    expect(a.link.mode).to.equal('sentinel');
    const hb = new RecordingHandler();
    await a.bus.start(new RecordingHandler());
    await b.bus.start(hb);
    const events = new Recorder<string>();
    a.presence.watch((ev) => events.push(`${ev.kind}:${ev.entry.userId}`));
    await b.presence.add(presenceEntry('ann', 'phone', 's1', { nodeId: idOf(b) }));
    await a.bus.publishToUser(envelope({ toUser: 'ann', clientMsgId: 'before', qos: 0 }));
    await hb.users.waitForCount(1, "ann's message");
    expect(hb.users.items.map((e) => e.clientMsgId)).to.deep.equal(['before']);
    await events.waitFor((evs) => evs.includes('online:ann'), 'ann online');

    const old = await redis.currentPrimary();
    // Subscribed before the failover, so the group b's reader creates on it cannot be missed.
    const promoted = redis.serverAt(old) === redis.primary ? redis.replica : redis.primary;
    const keyEvents = await KeyEvents.open(promoted.url);
    try {
      await redis.serverAt(old).kill9();
      await redis.waitForSwitch(old);

      // The promoted replica never saw ann's presence, the streams or the groups.
      await linkReady(a.link, "a's link on the new primary", 20_000);
      await linkReady(b.link, "b's link on the new primary", 20_000);
      // Presence events are pub/sub (at most once): one published before a's subscriber connection
      // is back (and subscribed again) on the new primary is lost.
      await linkReady(a.presence['sub']!, "a's presence subscriber on the new primary", 20_000);
      await b.presence.add(presenceEntry('bea', 'tablet', 's2', { nodeId: idOf(b) }));
      await events.waitFor((evs) => evs.includes('online:bea'), 'bea online', 20_000);
      expect((await a.presence.query(['bea'])).get('bea')).to.have.length(1);
      // b's inbox reader met NOGROUP on the new primary and created its inbox and group again
      // (it backs off up to 2 s between failed reads).
      const inbox = b.keys.inbox(idOf(b));
      await keyEvents.waitFor('xgroup-create', (k) => k === inbox, "b's inbox group", 20_000);
    } finally {
      await keyEvents.close();
    }
    await a.bus.publishToUser(envelope({ toUser: 'bea', clientMsgId: 'after', qos: 0 }));
    await hb.users.waitForCount(2, "bea's message", 10_000);
    expect(hb.users.items.map((e) => e.clientMsgId)).to.deep.equal(['before', 'after']);
    const store = storeOn(a);
    const stored = await store.appendToUser(userMsg({ toUser: 'bea', clientMsgId: 'q1' }));
    expect((await store.readUser('bea', 0, 10)).map((e) => e.seq)).to.deep.equal([stored.seq]);
    await a.housekeep();
    await b.housekeep();
    // Both nodes re-asserted their liveness on the new primary: neither counts the other as dead.
    for (const n of [a, b])
      expect(await a.link.call(a.keys.alive(idOf(n)), ['EXISTS', a.keys.alive(idOf(n))])).to.equal(1);
  });
});
