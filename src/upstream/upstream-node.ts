/**
 * Puts business-service routing together for one node from parts the gateway wiring picked: the
 * route table from config, one transport per upstream kind (gRPC instances, Redis streams over the
 * cluster's Redis link, the built-in gateway echo), the Upstreams (the ServiceRouter sessions call), and the
 * `Upstream` gRPC service registered on the access API's server.
 */
import type { Registry } from 'prom-client';
import type { FerryConfig } from '../config/schema.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { DispatchSettings } from './dispatcher.js';
import { GatewayUpstream } from './gateway-upstream.js';
import { registerUpstreamService, type UpstreamCallerCheck, type UpstreamServer } from './grpc-service.js';
import { GrpcUpstream } from './grpc-upstream.js';
import { RedisUpstream, type StreamCommands } from './redis-upstream.js';
import type { ReplyRouter } from './reply-sender.js';
import { RouteTable } from './route-table.js';
import { Upstreams } from './upstreams.js';

/** Approximate length cap of a service's request stream when `redis.streamMaxLen` is 0. */
const SERVICE_STREAM_CAP = 1_000_000;

export interface UpstreamNodeDeps {
  config: FerryConfig;
  nodeId: string;
  /** Where service replies go (the node's message router). */
  replies: ReplyRouter;
  registry: Registry;
  /** The cluster's Redis link; null on a single node without Redis (then no redis-kind services). */
  redis: StreamCommands | null;
  logger: Logger;
}

/** The dispatcher tunables of a configuration. */
export function dispatchSettings(config: FerryConfig): DispatchSettings {
  const u = config.upstream;
  return {
    batchSize: u.batchSize,
    batchMs: u.batchMs,
    bounds: { critical: u.queueCritical, high: u.queueHigh, normal: u.queueNormal, low: u.queueLow },
    maxInflightBatches: u.maxInflightBatches,
    maxAttempts: u.maxAttempts,
    retryBaseMs: u.retryBaseMs,
    retryMaxMs: Math.max(u.retryBaseMs, u.retryMaxMs),
  };
}

/** Routing to business services on one node. */
export class UpstreamNode {
  readonly services: Upstreams;
  readonly grpc: GrpcUpstream;
  private readonly deps: UpstreamNodeDeps;

  private constructor(deps: UpstreamNodeDeps, services: Upstreams, grpcUpstream: GrpcUpstream) {
    this.deps = deps;
    this.services = services;
    this.grpc = grpcUpstream;
  }

  /** Builds the table (ConfigError when invalid) and prepares the transports (Redis consumer groups). */
  static async start(deps: UpstreamNodeDeps): Promise<UpstreamNode> {
    const { config } = deps;
    const log = componentLogger(deps.logger, 'upstream');
    const table = RouteTable.build(config.routes, config.upstream.services);
    let services: Upstreams | null = null;
    const grpcUpstream = new GrpcUpstream({
      ackTimeoutMs: config.upstream.ackTimeoutMs,
      logger: log,
      onInstances: (service, n) => services?.metrics.instances.set({ service }, n),
    });
    const transports = {
      grpc: grpcUpstream,
      gateway: new GatewayUpstream({ replies: deps.replies, nodeId: deps.nodeId }),
      ...(deps.redis === null
        ? {}
        : {
            redis: new RedisUpstream({
              redis: deps.redis,
              keyPrefix: config.redis.keyPrefix,
              // Service streams have no group-position trim (services own their groups), so they keep
              // a cap even when the bus streams run without one.
              streamMaxLen: config.redis.streamMaxLen > 0 ? config.redis.streamMaxLen : SERVICE_STREAM_CAP,
              logger: log,
            }),
          }),
    };
    services = new Upstreams({
      nodeId: deps.nodeId,
      table,
      settings: dispatchSettings(config),
      dedupWindowMs: config.upstream.dedupWindowMs,
      transports,
      registry: deps.registry,
      logger: log,
    });
    await services.start();
    return new UpstreamNode(deps, services, grpcUpstream);
  }

  /** Adds `ferry.upstream.v1.Upstream` to the access API's gRPC server. */
  registerOn(server: UpstreamServer, auth: UpstreamCallerCheck): void {
    const { config, nodeId, replies } = this.deps;
    registerUpstreamService(server, {
      upstream: this.grpc,
      auth,
      nodeId,
      replies,
      isGrpcService: (s) => this.services.isGrpcService(s),
      maxUserIdLength: config.limits.maxUserIdLength,
      logger: componentLogger(this.deps.logger, 'upstream'),
    });
  }

  /**
   * Applies the `routes` and `upstream` sections of a freshly loaded configuration; throws ConfigError
   * and keeps the old table when the new one is invalid. Client connections are not touched.
   */
  async reload(config: FerryConfig): Promise<RouteTable> {
    const table = RouteTable.build(config.routes, config.upstream.services);
    this.grpc.setAckTimeout(config.upstream.ackTimeoutMs);
    return this.services.reload(table, dispatchSettings(config), config.upstream.dedupWindowMs);
  }

  stats(): Record<string, unknown> {
    return this.services.stats();
  }

  close(): Promise<void> {
    return this.services.close();
  }
}
