/**
 * Everything one gateway node needs to be part of a Redis cluster, started and stopped in the right
 * order: the Redis connection, the liveness heartbeat, presence, the Redis Streams bus and the janitor.
 * gateway.ts picks this instead of the in-process bus and presence when `redis.url` or
 * `redis.cluster` is set, and hands `link.native` to the Redis message store.
 */
import type { FerryConfig } from '../config/schema.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RedisMessageStoreOptions, RedisScriptClient } from '../store/redis/redis-store.js';
import { DataGuard } from './data-guard.js';
import { ReplicaWait } from '../store/redis/replica-wait.js';
import { checkDurability, type Durability } from './durability-check.js';
import { ClusterJanitor } from './janitor.js';
import { ClusterKeys } from './keys.js';
import { NodeLiveness } from './node-liveness.js';
import { RedisStreamsBus } from './redis-streams-bus.js';
import { isConnectionError, RedisLink } from './redis-link.js';
import { RedisPresence } from './redis-presence.js';

export { clusterEnabled } from './cluster-mode.js';

/** How long one XREADGROUP blocks (bounds how long a reader takes to notice close()). */
const BLOCK_MS = 2000;

/** Constructor options of ClusterNode.start. */
export interface ClusterNodeOptions {
  redis: FerryConfig['redis'];
  nodeId: string;
  logger: Logger;
  metrics: Metrics;
  /** When the store's appends count as done (store.durability); default ack-after-write. */
  durability?: Durability;
}

/** The options of the Redis message store that come from the cluster (see `storeWiring`). */
export type StoreWiring = Pick<
  RedisMessageStoreOptions,
  | 'client'
  | 'connectionEpoch'
  | 'appendReadsHash'
  | 'appendGuard'
  | 'recentAppends'
  | 'replicated'
  | 'appendGroup'
>;

/** One node's membership of the cluster. */
export class ClusterNode {
  readonly link: RedisLink;
  readonly keys: ClusterKeys;
  readonly bus: RedisStreamsBus;
  readonly presence: RedisPresence;
  /** Watches Redis for lost data; the gateway attaches the store and sessions as its evidence. */
  readonly guard: DataGuard;
  private readonly liveness: NodeLiveness;
  private readonly janitor: ClusterJanitor;
  /** ack-after-replica: the store's appends and their WAITs, on a connection of their own. */
  private readonly replicas: { link: RedisLink; wait: ReplicaWait } | null;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  /** Redis errors by operation since the last metrics flush. */
  private readonly errors = new Map<string, number>();
  private totalErrors = 0;
  private reclaimedTotal = 0;
  private closed = false;

  private constructor(opts: ClusterNodeOptions, link: RedisLink, storeLink: RedisLink | null) {
    const { redis, nodeId, metrics } = opts;
    this.link = link;
    const durability = opts.durability;
    this.replicas =
      storeLink === null || durability?.mode !== 'ack-after-replica'
        ? null
        : {
            link: storeLink,
            wait: new ReplicaWait({
              replicas: durability.replicas,
              timeoutMs: durability.timeoutMs,
              wait: (key, n, ms) => storeLink.call<number>(key, ['WAIT', String(n), String(ms)]),
              changes: () => storeLink.changes,
              shardOf: (key) => storeLink.shardOf(key),
            }),
          };
    this.metrics = metrics;
    this.log = componentLogger(opts.logger, 'cluster');
    const log = this.log;
    const onError = (op: string, err: unknown): void => this.countError(op, err);
    this.keys = new ClusterKeys(redis.keyPrefix);
    const keys = this.keys;
    this.liveness = new NodeLiveness({
      link,
      keys,
      nodeId,
      ttlMs: redis.livenessTtlMs,
      logger: log,
      onError,
      onRevived: () => this.presence.refreshNow(),
    });
    this.presence = new RedisPresence({
      link,
      keys,
      nodeId,
      liveness: this.liveness,
      ttlMs: redis.presenceTtlMs,
      cacheMs: redis.presenceCacheMs,
      logger: log,
      onError,
    });
    this.bus = new RedisStreamsBus({
      link,
      keys,
      nodeId,
      presence: this.presence,
      readBatch: redis.readBatch,
      blockMs: BLOCK_MS,
      streamMaxLen: redis.streamMaxLen,
      logger: log,
      onError,
    });
    this.guard = new DataGuard({
      link,
      alsoWatch: this.replicas?.link ?? null,
      keys,
      nodeId,
      intervalMs: redis.dataCheckMs,
      logger: log,
      metrics,
      onError,
    });
    this.janitor = new ClusterJanitor({
      link,
      keys,
      nodeId,
      liveness: this.liveness,
      reroute: (env) => this.bus.reroute(env),
      claimIdleMs: redis.claimIdleMs,
      batch: redis.readBatch,
      intervalMs: Math.max(500, Math.floor(redis.livenessTtlMs / 3)),
      logger: log,
      onError,
    });
  }

  /**
   * What the Redis message store takes from the cluster: the link's client (standalone: with its
   * connection epoch, so scripts go by EVALSHA), the recipient's presence read inside each user
   * append, which routes the QoS-1 forward of that message without a read of its own, and the data
   * guard (the gate and seq floor of every append, and the recent appends it audits).
   */
  storeWiring(lossAuditSize: number): StoreWiring {
    const presence = this.presence;
    const keys = this.keys;
    const wiring: StoreWiring = {
      client: this.link.native as unknown as RedisScriptClient,
      appendGuard: this.guard,
      recentAppends: lossAuditSize,
      // One script call per slot and turn (a single Redis: one for all appends of the turn).
      appendGroup: (key) => this.link.slotOf(key),
      appendReadsHash: {
        key: (userId) => keys.presence(userId),
        onRead: (userId, seq, hash) => presence.noteAppendRead(userId, seq, hash),
      },
    };
    const epoch = this.link.connectionEpoch;
    if (epoch !== undefined) wiring.connectionEpoch = epoch;
    const r = this.replicas;
    if (r !== null) {
      wiring.replicated = { client: r.link.native as unknown as RedisScriptClient, wait: r.wait };
      const appendEpoch = r.link.connectionEpoch;
      if (appendEpoch !== undefined) wiring.replicated.connectionEpoch = appendEpoch;
    }
    return wiring;
  }

  /**
   * Connects to Redis, announces this node and starts presence. The bus is started by the caller
   * (it needs the router as its handler), then `startJanitor()`. Rejects when Redis is unreachable.
   */
  static async start(opts: ClusterNodeOptions): Promise<ClusterNode> {
    const { redis, nodeId, logger, metrics } = opts;
    const log = componentLogger(logger, 'cluster');
    const link = await RedisLink.connect({
      url: redis.url,
      cluster: redis.cluster === '' ? [] : redis.cluster.split(','),
      sentinel: redis.sentinel === '' ? [] : redis.sentinel.split(','),
      masterName: redis.masterName,
      name: `ferry-${nodeId}`,
      logger: log,
      onError: () => metrics.clusterRedisErrors.inc({ op: 'connection' }),
    });
    let storeLink: RedisLink | null = null;
    try {
      // WAIT blocks the connection it runs on: the appends it confirms get one of their own.
      if (opts.durability?.mode === 'ack-after-replica') storeLink = await link.duplicate('store');
      await checkDurability(link, opts.durability, log);
    } catch (err) {
      storeLink?.destroy();
      link.destroy();
      throw err;
    }
    const node = new ClusterNode(opts, link, storeLink);
    try {
      await node.guard.start();
      await node.liveness.start();
      await node.presence.start();
    } catch (err) {
      await node.close(false);
      throw err;
    }
    return node;
  }

  /** Starts housekeeping (dead-node take-over, trimming, lag sampling). Call after the bus started. */
  startJanitor(): void {
    this.janitor.start();
  }

  /** Runs one housekeeping round now (tests, and the first round after start). */
  housekeep(): Promise<void> {
    return this.janitor.runOnce();
  }

  private countError(op: string, err: unknown): void {
    this.totalErrors++;
    this.errors.set(op, (this.errors.get(op) ?? 0) + 1);
    if (isConnectionError(err)) {
      this.liveness.noteTrouble();
      this.presence.dropCache();
    }
    // Connection errors are logged (rate-limited) by the link; the rest are worth a line each.
    if (!isConnectionError(err)) this.log.warn({ err, op }, 'redis operation failed');
  }

  /** Moves counters kept as plain numbers into Prometheus (called before /metrics is served). */
  flushMetrics(): void {
    const m = this.metrics;
    for (const [op, n] of this.errors) m.clusterRedisErrors.inc({ op }, n);
    this.errors.clear();
    const c = this.bus.counters;
    if (c.out > 0) m.clusterMessages.inc({ direction: 'out' }, c.out);
    if (c.in > 0) m.clusterMessages.inc({ direction: 'in' }, c.in);
    c.out = c.in = 0;
    if (this.janitor.reclaimed > 0) {
      m.clusterReclaimed.inc(this.janitor.reclaimed);
      this.reclaimedTotal += this.janitor.reclaimed;
      this.janitor.reclaimed = 0;
    }
    const s = this.janitor.sample;
    m.clusterStreamLag.set({ stream: 'inbox' }, s.inboxLag);
    m.clusterStreamLag.set({ stream: 'broadcast' }, s.broadcastLag);
    m.clusterStreamPending.set({ stream: 'inbox' }, s.inboxPending);
    m.clusterStreamPending.set({ stream: 'broadcast' }, s.broadcastPending);
    m.clusterRedisUp.set(this.link.isReady ? 1 : 0);
    const w = this.replicas?.wait.counters;
    if (w !== undefined) {
      if (w.waits > 0) m.storeReplicaWaits.inc(w.waits);
      if (w.confirmed > 0) m.storeReplicaConfirmations.inc({ result: 'confirmed' }, w.confirmed);
      if (w.timedOut > 0) m.storeReplicaConfirmations.inc({ result: 'timeout' }, w.timedOut);
      if (w.interrupted > 0) m.storeReplicaConfirmations.inc({ result: 'interrupted' }, w.interrupted);
      w.waits = w.confirmed = w.timedOut = w.interrupted = 0;
    }
  }

  /** The `cluster` part of /stats. */
  stats(): Record<string, unknown> {
    this.flushMetrics();
    return {
      mode: this.link.mode,
      durability: this.replicas !== null ? 'ack-after-replica' : 'ack-after-write',
      redisReady: this.link.isReady,
      localPresence: this.presence.localCounts(),
      streams: { ...this.janitor.sample },
      reclaimedEntries: this.reclaimedTotal,
      redisErrors: this.totalErrors,
      badEntries: this.bus.counters.badEntries,
      reforwarded: this.bus.counters.reforwarded,
      retainDropped: this.bus.counters.retainDropped,
    };
  }

  /**
   * Stops housekeeping and the heartbeat and closes the connection; bus and presence must be closed
   * first. `graceful` deletes the liveness key so other nodes take over at once. Idempotent.
   */
  async close(graceful: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.janitor.stop();
    await this.guard.close();
    await this.liveness.stop(graceful && this.link.isReady);
    await this.replicas?.link.close();
    await this.link.close();
  }
}
