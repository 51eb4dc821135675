/**
 * The operator's console (docs/operations.md): every node samples itself every 2 s into a store
 * (Redis in a cluster), the admin port serves a page that charts every node's samples and acts
 * through the access service, and the gRPC Stats call lists every node from the same samples.
 */
import type { AdminServer } from '../admin/admin-server.js';
import type { RedisLink } from '../cluster/redis-link.js';
import type { FerryConfig } from '../config/schema.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { ConsoleActions, type ConsoleAccess } from './console-actions.js';
import { registerConsoleRoutes } from './console-routes.js';
import { NodeSampler } from './node-sampler.js';
import { nodeStatusMessage } from './node-status.js';
import { riskySettings } from './risky-settings.js';
import { MemorySampleStore, RedisSampleStore, type SampleStore } from './sample-store.js';

export type { NodeSample } from './node-sample.js';
export type { NodeSeries } from './sample-store.js';
export { riskySettings } from './risky-settings.js';
export type { ConsoleAccess } from './console-actions.js';

/** What the console reads from its node. */
export interface ConsoleDeps {
  config: FerryConfig;
  nodeId: string;
  metrics: Metrics;
  /** The node's /stats JSON. */
  stats: () => Record<string, unknown>;
  /** The cluster's Redis connection; null on a single node. */
  link: RedisLink | null;
  logger: Logger;
}

/** A running console: the sampler and the store, and what the access API and admin port take from it. */
export class OperatorConsole {
  readonly store: SampleStore;
  private readonly sampler: NodeSampler;

  private constructor(private readonly deps: ConsoleDeps) {
    const link = deps.link;
    this.store =
      link === null ? new MemorySampleStore() : new RedisSampleStore(link, deps.config.redis.keyPrefix);
    this.sampler = new NodeSampler({
      nodeId: deps.nodeId,
      metrics: deps.metrics,
      stats: deps.stats,
      ...(link !== null ? { redisMemory: () => redisUsedMemory(link) } : {}),
      warnings: riskySettings(deps.config),
      store: this.store,
      logger: componentLogger(deps.logger, 'console'),
    });
  }

  /** Starts sampling (the first sample is taken at once). */
  static start(deps: ConsoleDeps): OperatorConsole {
    const c = new OperatorConsole(deps);
    c.sampler.start();
    return c;
  }

  /** Every node's NodeStatus message (gRPC Stats.nodes). */
  async nodes(): Promise<Record<string, unknown>[]> {
    return (await this.store.read(Date.now())).map(nodeStatusMessage);
  }

  /** Adds /console and its API to the admin port; actions go through `access` (null: none here). */
  registerRoutes(
    admin: AdminServer,
    access: ConsoleAccess | null,
    reloadRoutes: () => Promise<unknown>,
  ): void {
    registerConsoleRoutes(admin, {
      nodeId: this.deps.nodeId,
      store: this.store,
      actions: new ConsoleActions(access),
      reloadRoutes,
    });
  }

  /** Stops sampling. Idempotent. */
  close(): Promise<void> {
    return this.sampler.close();
  }
}

/** `used_memory` from INFO memory of the Redis server keyless commands reach. */
async function redisUsedMemory(link: RedisLink): Promise<number> {
  const info = await link.call<string>(undefined, ['INFO', 'memory']);
  const m = /^used_memory:(\d+)/m.exec(String(info));
  return m === null ? -1 : Number(m[1]);
}
