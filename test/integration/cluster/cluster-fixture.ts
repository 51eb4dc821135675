/**
 * Cluster nodes for the conformance suites and unit tests: real ClusterNode instances (Redis link,
 * liveness, presence, Redis Streams bus) on a real redis-server, each fixture under its own key
 * prefix so tests never see each other's keys.
 */
import { randomBytes } from 'node:crypto';
import { ClusterNode } from '../../../src/cluster/cluster-node.js';
import { defaultConfig, type FerryConfig } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { RedisMessageStore } from '../../../src/store/redis/redis-store.js';

/** Where the test Redis is: a single URL, cluster seed nodes, or sentinels and the master name. */
export interface RedisTarget {
  url?: string;
  cluster?: string[];
  sentinel?: { list: string; masterName: string };
}

/** Redis settings for a fixture: a fresh key prefix, short timers. */
export function redisConfig(
  target: RedisTarget,
  over: Partial<FerryConfig['redis']> = {},
): FerryConfig['redis'] {
  return {
    ...defaultConfig().redis,
    url: target.url ?? '',
    cluster: (target.cluster ?? []).join(','),
    sentinel: target.sentinel?.list ?? '',
    masterName: target.sentinel?.masterName ?? '',
    keyPrefix: `t${randomBytes(4).toString('hex')}`,
    livenessTtlMs: 3000,
    claimIdleMs: 200,
    ...over,
  };
}

/** Starts `count` cluster nodes sharing one prefix; node ids are `<tag>-<i>`. */
export async function startNodes(
  target: RedisTarget,
  count: number,
  over: Partial<FerryConfig['redis']> = {},
): Promise<ClusterNode[]> {
  const redis = redisConfig(target, over);
  const tag = randomBytes(3).toString('hex');
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < count; i++) {
    nodes.push(
      await ClusterNode.start({
        redis,
        nodeId: `${tag}-${i}`,
        logger: silentLogger(),
        metrics: new Metrics({ defaultMetrics: false }),
      }),
    );
  }
  return nodes;
}

/** Marks node ids that are not real nodes (entries in test data) as alive for a minute. */
export async function markAlive(node: ClusterNode, nodeIds: string[]): Promise<void> {
  for (const id of nodeIds)
    await node.link.call(node.keys.alive(id), ['SET', node.keys.alive(id), '1', 'PX', '60000']);
}

/**
 * Closes bus, presence and the node of each (closing a bus twice is harmless). Every part is closed
 * even when another fails (as they do with Redis gone), and a link whose close failed is destroyed:
 * one left reconnecting would keep the test process running.
 */
export async function closeNodes(nodes: ClusterNode[]): Promise<void> {
  for (const n of nodes) {
    const results = await Promise.allSettled([n.bus.close(), n.presence.close()]);
    results.push(...(await Promise.allSettled([n.close(true)])));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) n.link.destroy();
  }
}

/** A Redis message store wired to `node` as the gateway wires it (small limits). */
export function storeOn(node: ClusterNode): RedisMessageStore {
  return new RedisMessageStore({
    ...node.storeWiring(0),
    nodeId: node.bus['o'].nodeId,
    keyPrefix: node.keys.prefix,
    maxMessagesPerLog: 100,
    retentionMs: 60_000,
    dedupWindowMs: 60_000,
    maxBytes: 1 << 20,
    commandTimeoutMs: Infinity,
  });
}
