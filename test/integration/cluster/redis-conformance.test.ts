import type { ClusterNode } from '../../../src/cluster/cluster-node.js';
import { describeBus } from '../../conformance/describe-bus.js';
import { describePresence } from '../../conformance/describe-presence.js';
import {
  startRedisCluster,
  startRedisServer,
  type RedisCluster,
  type RedisServer,
} from '../../helpers/redis-server.js';
import { closeNodes, markAlive, startNodes, type RedisTarget } from './cluster-fixture.js';

/** Registers both suites against Redis reached through `target()` (resolved after `before`). */
function suites(label: string, target: () => RedisTarget): void {
  describeBus(`redis-streams (${label}, 3 nodes)`, async () => {
    const nodes: ClusterNode[] = await startNodes(target(), 3);
    return {
      nodes: nodes.map((n) => n.bus),
      placeUser: async (userId, i) => {
        const n = nodes[i]!;
        await n.presence.add({
          userId,
          deviceId: 'd',
          sessionId: `s-${userId}`,
          nodeId: n.bus['o'].nodeId,
          transport: 'ws',
          sinceMs: 1,
        });
      },
      close: () => closeNodes(nodes),
    };
  });

  describePresence(`redis (${label}, 2 nodes)`, async () => {
    const nodes = await startNodes(target(), 2);
    await markAlive(nodes[0]!, ['n1', 'n2', 'node-a']);
    return { nodes: nodes.map((n) => n.presence), close: () => closeNodes(nodes) };
  });
}

describe('cluster conformance on a standalone redis-server', function () {
  this.timeout(20_000);
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await redis.stop();
  });
  suites('standalone', () => ({ url: redis.url }));
});

describe('cluster conformance on a 3-master Redis Cluster', function () {
  this.timeout(60_000);
  let cluster: RedisCluster;
  before(async () => {
    cluster = await startRedisCluster(3);
  });
  after(async () => {
    await cluster.stop();
  });
  suites('cluster', () => ({ cluster: cluster.nodes.map((n) => `${n.host}:${n.port}`) }));
});
