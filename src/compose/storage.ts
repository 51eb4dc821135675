/**
 * Where a node keeps and moves messages: in cluster mode (`redis.url` / `redis.cluster` /
 * `redis.sentinel`) the Redis store, bus, presence and login sessions of a ClusterNode; otherwise the
 * in-process ones, with the memory store restored from the snapshot a previous drain left.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MemorySessionTokenStore, type SessionTokenStore } from '../access/session-token-store.js';
import type { Bus } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory.js';
import { MemoryPresence } from '../bus/memory-presence.js';
import type { Presence } from '../bus/presence.js';
import type { ClusterNode } from '../cluster/cluster-node.js';
import { clusterEnabled } from '../cluster/cluster-mode.js';
import { durabilityOf } from '../cluster/durability-check.js';
import type { FerryConfig } from '../config/schema.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { SessionRegistry } from '../session/registry.js';
import { MemoryMessageStore, SnapshotError, type MemoryMessageStoreOptions } from '../store/memory.js';
import type { MessageStore } from '../store/message-store.js';

/** File the in-memory store is saved to on drain and loaded from on start. */
export const STORE_SNAPSHOT_FILE = 'store.snapshot';

export interface Storage {
  readonly store: MessageStore;
  readonly bus: Bus;
  readonly presence: Presence;
  /** Login sessions and revocations of the access API (docs/access-api.md, "Cluster"). */
  readonly sessionTokens: SessionTokenStore;
  /** Set in cluster mode: Redis link, data guard, housekeeping. */
  readonly cluster: ClusterNode | null;
  /**
   * Gives the data guard what this node knows of its users' logs, checked when Redis may have lost
   * data (cluster mode; a no-op otherwise).
   */
  attachGuard(registry: SessionRegistry): void;
  /** Saves the memory store for the next start (drain); with Redis there is nothing to save. */
  save(): Promise<void>;
}

interface StorageDeps {
  config: FerryConfig;
  nodeId: string;
  logger: Logger;
  metrics: Metrics;
}

export async function startStorage(deps: StorageDeps): Promise<Storage> {
  return clusterEnabled(deps.config) ? startClusterStorage(deps) : startLocalStorage(deps);
}

/** The Redis client and the cluster's code are loaded here, so a node without Redis never loads them. */
async function startClusterStorage({ config, nodeId, logger, metrics }: StorageDeps): Promise<Storage> {
  const [{ ClusterNode }, { RedisMessageStore }, { RedisSessionTokenStore }] = await Promise.all([
    import('../cluster/cluster-node.js'),
    import('../store/redis/redis-store.js'),
    import('../access/redis-session-token-store.js'),
  ]);
  const cluster = await ClusterNode.start({
    redis: config.redis,
    nodeId,
    logger,
    metrics,
    durability: durabilityOf(config),
  });
  const store = new RedisMessageStore({
    ...cluster.storeWiring(config.redis.lossAuditSize),
    nodeId,
    keyPrefix: config.redis.keyPrefix,
    ...config.store,
    // The link has no offline queue (commands fail at once while Redis is away); a write-queue
    // timeout would only turn a busy node's queueing into 107s (docs/cluster.md).
    commandTimeoutMs: Infinity,
  });
  // In a cluster, login sessions and revocations live in Redis: a Logout through any node is refused
  // at every node.
  const sessionTokens = new RedisSessionTokenStore({
    link: cluster.link,
    keyPrefix: config.redis.keyPrefix,
    logger: componentLogger(logger, 'access'),
    onError: () => metrics.clusterRedisErrors.inc({ op: 'session-tokens' }),
  });
  return {
    store,
    bus: cluster.bus,
    presence: cluster.presence,
    sessionTokens,
    cluster,
    attachGuard: (registry) =>
      cluster.guard.attach({
        auditStore: () => store.auditRecent(),
        sentSeqs: () => registry.sentSeqs(),
        lastUserSeq: (userId) => store.lastUserSeq(userId),
      }),
    save: () => Promise.resolve(),
  };
}

async function startLocalStorage({ config, nodeId, logger }: StorageDeps): Promise<Storage> {
  const path = join(config.dataDir, STORE_SNAPSHOT_FILE);
  const store = await loadSnapshot(path, { nodeId, ...config.store }, logger);
  return {
    store,
    bus: new MemoryBus({ onError: (err, channel) => logger.error({ err, channel }, 'bus handler failed') }),
    presence: new MemoryPresence(),
    sessionTokens: new MemorySessionTokenStore(),
    cluster: null,
    attachGuard: () => undefined,
    save: () => store.saveSnapshot(path),
  };
}

/**
 * Loads the snapshot a previous drain left, then deletes it: a crash after this point must not bring
 * back stale state (sequences handed out since would be reissued).
 */
async function loadSnapshot(
  path: string,
  opts: MemoryMessageStoreOptions,
  log: Logger,
): Promise<MemoryMessageStore> {
  try {
    const store = await MemoryMessageStore.loadSnapshot(path, opts);
    const s = store.stats();
    if (s.messages > 0 || s.users > 0) log.info({ path, ...s }, 'message store restored from snapshot');
    await rm(path, { force: true });
    return store;
  } catch (err) {
    if (err instanceof SnapshotError && err.reason === 'corrupt') {
      log.error({ err, path }, 'store snapshot is corrupt; starting with an empty store');
      await rm(path, { force: true });
      return new MemoryMessageStore(opts);
    }
    throw err;
  }
}
