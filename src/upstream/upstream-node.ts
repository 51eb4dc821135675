/**
 * Puts business-service routing together for one node from parts the gateway wiring picked: the
 * route table from config, one transport per upstream kind (gRPC instances, Redis streams over the
 * cluster's Redis link, RabbitMQ queues with their reply consumer when `upstream.amqp.url` is set, the
 * built-in gateway echo), the Upstreams (the ServiceRouter sessions call), and the `Upstream` gRPC
 * service registered on the access API's server.
 */
import type { Registry } from 'prom-client';
import type { FerryConfig } from '../config/schema.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { AmqpLink } from './amqp-link.js';
import type { AmqpReplies } from './amqp-replies.js';
import type { AmqpUpstream } from './amqp-upstream.js';
import type { DispatchSettings } from './dispatcher.js';
import { GatewayUpstream } from './gateway-upstream.js';
import type { registerUpstreamService, UpstreamCallerCheck, UpstreamServer } from './grpc-service.js';
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

/** How long start-up waits for the AMQP broker before going on without it. */
const AMQP_START_WAIT_MS = 5000;

/**
 * The AMQP link, upstream and reply consumer of `upstream.amqp`; connects in the background. amqplib
 * is loaded here, so a node without `upstream.amqp.url` never loads it.
 */
async function startAmqp(
  deps: UpstreamNodeDeps,
  log: Logger,
  services: () => Upstreams | null,
): Promise<{ link: AmqpLink; upstream: AmqpUpstream; replies: AmqpReplies }> {
  const [{ AmqpLink }, { AmqpUpstream }, { AmqpReplies }] = await Promise.all([
    import('./amqp-link.js'),
    import('./amqp-upstream.js'),
    import('./amqp-replies.js'),
  ]);
  const { config } = deps;
  const a = config.upstream.amqp;
  const link = new AmqpLink({
    url: a.url,
    logger: log,
    reconnectBaseMs: config.upstream.retryBaseMs,
    reconnectMaxMs: Math.max(config.upstream.retryBaseMs, config.upstream.retryMaxMs),
  });
  const upstream = new AmqpUpstream({
    link,
    prefix: a.prefix,
    queueMaxLength: a.queueMaxLength,
    confirmTimeoutMs: config.upstream.ackTimeoutMs,
    logger: log,
  });
  const replies = new AmqpReplies({
    link,
    prefix: a.prefix,
    prefetch: a.replyPrefetch,
    replies: deps.replies,
    isAmqpService: (s) => services()?.isAmqpService(s) ?? false,
    onReply: (s) => upstream.countReply(s),
    maxUserIdLength: config.limits.maxUserIdLength,
    logger: log,
  });
  link.start();
  return { link, upstream, replies };
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
  /** The RabbitMQ upstream and its reply consumer; null without `upstream.amqp.url`. */
  readonly amqp: { upstream: AmqpUpstream; replies: AmqpReplies } | null;
  private readonly deps: UpstreamNodeDeps;

  private constructor(
    deps: UpstreamNodeDeps,
    services: Upstreams,
    grpcUpstream: GrpcUpstream,
    amqp: UpstreamNode['amqp'],
  ) {
    this.deps = deps;
    this.services = services;
    this.grpc = grpcUpstream;
    this.amqp = amqp;
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
    const amqp = config.upstream.amqp.url === '' ? null : await startAmqp(deps, log, () => services);
    const transports = {
      grpc: grpcUpstream,
      ...(amqp === null ? {} : { amqp: amqp.upstream }),
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
    // A broker that is reachable is used from the first request; one that is not is retried in the
    // background (requests meanwhile are retried, then answered 107), so the node starts either way.
    if (amqp !== null && !(await amqp.link.whenUp(AMQP_START_WAIT_MS)))
      log.warn('the AMQP broker is not reachable yet; amqp services answer 107 until it is');
    await services.start();
    return new UpstreamNode(deps, services, grpcUpstream, amqp);
  }

  /**
   * What adds `ferry.upstream.v1.Upstream` to the access API's gRPC server. Loads the service's gRPC
   * code, which only a node serving gRPC needs.
   */
  async grpcRegistrar(): Promise<(server: UpstreamServer, auth: UpstreamCallerCheck) => void> {
    const { registerUpstreamService: register } = await import('./grpc-service.js');
    return (server, auth) => this.registerOn(register, server, auth);
  }

  private registerOn(
    register: typeof registerUpstreamService,
    server: UpstreamServer,
    auth: UpstreamCallerCheck,
  ): void {
    const { config, nodeId, replies } = this.deps;
    register(server, {
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
    this.amqp?.upstream.setConfirmTimeout(config.upstream.ackTimeoutMs);
    return this.services.reload(table, dispatchSettings(config), config.upstream.dedupWindowMs);
  }

  stats(): Record<string, unknown> {
    const s = this.services.stats();
    return this.amqp === null ? s : { ...s, amqpReplies: this.amqp.replies.stats() };
  }

  close(): Promise<void> {
    return this.services.close();
  }
}
