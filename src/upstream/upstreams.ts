/**
 * Upstreams, the ServiceRouter sessions call: route table lookup, dedup by (user, msg id), then the service's
 * Dispatcher (queues, batching, retries) over the transport of the service's kind. `reload` swaps in
 * a new table and settings while the node runs; nothing about client connections changes, and
 * messages already queued for a service that lost its routes are still delivered.
 */
import { ConfigError, ReplyCode, RequestError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Registry } from 'prom-client';
import { DedupWindow } from './dedup-window.js';
import { Dispatcher, type DispatchSettings, type DispatcherStats } from './dispatcher.js';
import { RouteTable, type UpstreamKind } from './route-table.js';
import type { ServiceAccepted, ServiceOrigin, ServiceRequestInput, ServiceRouter } from './service-router.js';
import { UpstreamMetrics } from './upstream-metrics.js';
import type { UpstreamTransport } from './upstream-transport.js';

export interface UpstreamsOptions {
  nodeId: string;
  table: RouteTable;
  settings: DispatchSettings;
  dedupWindowMs: number;
  /** Transports by kind; a kind without one cannot be routed to (ConfigError at build/reload). */
  transports: Partial<Record<UpstreamKind, UpstreamTransport>>;
  registry: Registry;
  logger: Logger;
}

export class Upstreams implements ServiceRouter {
  readonly metrics: UpstreamMetrics;
  private readonly nodeId: string;
  private readonly transports: Partial<Record<UpstreamKind, UpstreamTransport>>;
  private readonly dedup: DedupWindow<ServiceAccepted>;
  private readonly log: Logger;
  private table: RouteTable;
  private settings: DispatchSettings;
  /** Dispatchers by service name; a service whose kind changed gets a new one (the old drains). */
  private readonly dispatchers = new Map<string, Dispatcher>();
  private readonly retired = new Set<Dispatcher>();
  private noRoute = 0;
  private duplicates = 0;
  private reloads = 0;

  constructor(opts: UpstreamsOptions) {
    this.nodeId = opts.nodeId;
    this.transports = opts.transports;
    this.log = opts.logger;
    this.metrics = new UpstreamMetrics(opts.registry);
    this.dedup = new DedupWindow({ windowMs: opts.dedupWindowMs });
    this.settings = opts.settings;
    this.table = RouteTable.empty();
    this.apply(opts.table);
  }

  /** The table in use. */
  get routes(): RouteTable {
    return this.table;
  }

  /** True when the current table has a service of this name with kind grpc. */
  isGrpcService(service: string): boolean {
    return this.table.services.get(service) === 'grpc';
  }

  /** True when the current table has a service of this name with kind amqp. */
  isAmqpService(service: string): boolean {
    return this.table.services.get(service) === 'amqp';
  }

  route(origin: ServiceOrigin, req: ServiceRequestInput): Promise<ServiceAccepted> {
    const route = this.table.lookup(req.type);
    if (route === undefined) {
      this.noRoute++;
      this.metrics.failed.inc({ service: '', reason: 'no_route' });
      return Promise.reject(new RequestError(ReplyCode.NOT_FOUND, `no service route for type ${req.type}`));
    }
    const key = `${origin.userId}\n${req.msgId}`;
    const earlier = this.dedup.get(key);
    if (earlier !== undefined) {
      this.duplicates++;
      this.metrics.duplicates.inc({ service: route.service });
      return earlier.then((r) => ({ service: r.service, duplicate: true }));
    }
    const dispatcher = this.dispatchers.get(route.service)!;
    const result = dispatcher
      .submit({
        msgId: req.msgId,
        userId: origin.userId,
        deviceId: origin.deviceId,
        sessionId: origin.sessionId,
        nodeId: this.nodeId,
        type: req.type,
        payload: req.payload,
        priority: route.priority,
        timestampMs: Date.now(),
        attempt: 1,
      })
      .then(() => ({ service: route.service, duplicate: false }));
    this.dedup.remember(key, result);
    return result;
  }

  /**
   * Swaps in a new table and settings. Throws ConfigError (and changes nothing) when a route needs a
   * transport this node does not have (kind redis without `redis.url`, amqp without
   * `upstream.amqp.url`). Returns the new table.
   */
  async reload(table: RouteTable, settings: DispatchSettings, dedupWindowMs: number): Promise<RouteTable> {
    for (const [service, kind] of table.services) {
      if (this.transports[kind] === undefined)
        throw new ConfigError(
          `invalid config: service ${service} is of kind ${kind}, which this node cannot reach (set redis.url for redis, upstream.amqp.url for amqp)`,
        );
    }
    await Promise.all(
      [...table.services].map(([service, kind]) => this.transports[kind]!.prepare?.(service)),
    );
    this.settings = settings;
    this.dedup.setWindow(dedupWindowMs);
    this.apply(table);
    this.reloads++;
    this.log.info({ routes: table.describe() }, 'service routes reloaded');
    return table;
  }

  /** Prepares transports for the initial table (XGROUP CREATE for Redis services). */
  async start(): Promise<void> {
    for (const [service, kind] of this.table.services) {
      if (this.transports[kind] === undefined)
        throw new ConfigError(
          `invalid config: service ${service} is of kind ${kind}, which this node cannot reach (set redis.url for redis, upstream.amqp.url for amqp)`,
        );
      await this.transports[kind]!.prepare?.(service);
    }
  }

  stats(): Record<string, unknown> {
    const services: Record<string, DispatcherStats & Record<string, unknown>> = {};
    for (const [name, d] of this.dispatchers)
      services[name] = { ...d.stats(), ...d.transport.describe(name) };
    return {
      routes: this.table.describe(),
      services,
      noRoute: this.noRoute,
      duplicates: this.duplicates,
      dedupEntries: this.dedup.size,
      reloads: this.reloads,
    };
  }

  /** Fails what is still queued (UNAVAILABLE, retryable) and closes the transports. Idempotent. */
  async close(): Promise<void> {
    for (const d of [...this.dispatchers.values(), ...this.retired]) d.close();
    await Promise.all(Object.values(this.transports).map((t) => t.close()));
  }

  private apply(table: RouteTable): void {
    for (const [service, kind] of table.services) {
      const transport = this.transports[kind];
      if (transport === undefined) continue;
      const d = this.dispatchers.get(service);
      if (d !== undefined && d.transport === transport) {
        d.configure(this.settings);
        continue;
      }
      if (d !== undefined) this.retire(d);
      this.dispatchers.set(
        service,
        new Dispatcher({
          service,
          transport,
          settings: this.settings,
          metrics: this.metrics,
          logger: this.log,
        }),
      );
    }
    this.table = table;
  }

  /** A replaced dispatcher keeps delivering what it holds; closed once empty. */
  private retire(d: Dispatcher): void {
    this.retired.add(d);
    const check = setInterval(() => {
      if (d.backlog > 0) return;
      clearInterval(check);
      d.close();
      this.retired.delete(d);
    }, 1000);
    check.unref();
  }
}
