import type { StartedAccess } from './access/access-node.js';
import type { AccessClient } from './access/client.js';
import type { AdminServer } from './admin/admin-server.js';
import type { Authenticator } from './auth/authenticator.js';
import { JwtAuthenticator } from './auth/jwt/jwt-authenticator.js';
import { SessionAwareAuthenticator } from './auth/session-token-authenticator.js';
import { createAdmission } from './compose/admission.js';
import { buildAdmin } from './compose/admin.js';
import { grpcAddress, listenAddress, type GatewayAddresses } from './compose/addresses.js';
import { ClientListeners } from './compose/client-listeners.js';
import { planRoles } from './compose/roles.js';
import { startStorage, type Storage } from './compose/storage.js';
import type { FerryConfig } from './config/schema.js';
import { OperatorConsole, type ConsoleAccess } from './console/index.js';
import { ConfigError } from './errors.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { LocalDelivery } from './routing/local-delivery.js';
import { MessageRouter } from './routing/message-router.js';
import { SessionRegistry } from './session/registry.js';
import { SessionManager } from './session/session-manager.js';
import type { Admission } from './transport/admission.js';
import { UpstreamNode } from './upstream/upstream-node.js';

export type { GatewayAddresses, ListenAddress } from './compose/addresses.js';
export { STORE_SNAPSHOT_FILE } from './compose/storage.js';

/**
 * One Ferry node: its composition root. It builds the parts in order (admission, token verifier,
 * storage, sessions and routing, upstreams, client listeners, console, gRPC, admin; src/compose/ picks
 * the concrete classes of each part) and owns them for /stats, drain and close. The `*-node.ts` of
 * cluster/, upstream/ and access/ are the roots of their own subsystems.
 */
export class Gateway {
  readonly nodeId: string;
  readonly addresses: GatewayAddresses = {};
  readonly metrics: Metrics;
  private readonly config: FerryConfig;
  private readonly log: Logger;
  /** Counts every socket of every listener from accept (src/transport/admission.ts). */
  private admission!: Admission;
  private storage: Storage | null = null;
  private sessions: SessionManager | null = null;
  private router: MessageRouter | null = null;
  private clients: ClientListeners | null = null;
  private access: StartedAccess | null = null;
  /** The access API's error table (loaded with it). */
  private mapAccessError: ConsoleAccess['mapError'] | null = null;
  private accessClient: AccessClient | null = null;
  /** Routing of ServiceRequest frames to business services (docs/upstreams.md). */
  private upstreams: UpstreamNode | null = null;
  /** Samples for the operator's console and Stats.nodes (docs/operations.md). */
  private console: OperatorConsole | null = null;
  private admin: AdminServer | null = null;
  /** Re-reads the configuration for a routes reload (SIGHUP, POST /routes/reload); null = not possible. */
  private reloadConfig: (() => FerryConfig) | null = null;
  private ready = false;
  private draining: Promise<{ clean: boolean }> | null = null;
  private closed = false;

  private constructor(config: FerryConfig, logger: Logger) {
    this.config = structuredClone(config);
    this.nodeId = config.nodeId;
    this.log = logger;
    this.metrics = new Metrics();
  }

  /** Starts every enabled listener on `config`; resolves when all are bound. */
  static async start(
    config: FerryConfig,
    opts: { logger: Logger; reloadConfig?: () => FerryConfig },
  ): Promise<Gateway> {
    const gw = new Gateway(config, opts.logger);
    gw.reloadConfig = opts.reloadConfig ?? null;
    try {
      await gw.startAll();
    } catch (err) {
      await gw.close();
      throw err;
    }
    return gw;
  }

  private async startAll(): Promise<void> {
    const { config, log, metrics, nodeId } = this;
    const roles = planRoles(config);
    this.admission = createAdmission(config, metrics, log);
    const verifier = await JwtAuthenticator.fromConfig(config);
    if (config.auth.allowNoExpiry)
      log.warn('auth.allowNoExpiry is on: client tokens without exp are accepted and never expire');
    const storage = (this.storage = await startStorage({ config, nodeId, logger: log, metrics }));
    let authenticator: Authenticator = new SessionAwareAuthenticator(verifier, storage.sessionTokens);
    if (roles.remoteAuth) {
      const { remoteAuthenticator } = await import('./access/access-node.js');
      const remote = await remoteAuthenticator(config, log);
      this.accessClient = remote.client;
      authenticator = remote.authenticator;
    }
    const registry = new SessionRegistry({ nodeId, presence: storage.presence, logger: log });
    storage.attachGuard(registry);
    const router = (this.router = new MessageRouter({
      nodeId,
      store: storage.store,
      bus: storage.bus,
      metrics,
      logger: log,
      maxPendingAppends: config.store.maxPendingAppends,
      maxBusBacklogBytes: config.redis.maxBacklogBytes,
    }));
    const upstreams = (this.upstreams = await UpstreamNode.start({
      config,
      nodeId,
      replies: router,
      registry: metrics.registry,
      redis: storage.cluster?.link ?? null,
      logger: log,
    }));
    const sessions = (this.sessions = new SessionManager({
      config,
      nodeId,
      authenticator,
      router,
      registry,
      store: storage.store,
      presence: storage.presence,
      metrics,
      logger: log,
      services: upstreams.services,
    }));
    await storage.bus.start(new LocalDelivery(registry));
    storage.cluster?.startJanitor();
    if (roles.clientListeners) {
      const onConnection = sessions.accept.bind(sessions);
      const admission = this.admission;
      const clients = (this.clients = new ClientListeners({
        config,
        admission,
        onConnection,
        logger: log,
        metrics,
      }));
      await clients.start();
      Object.assign(this.addresses, clients.addresses);
    }
    const link = storage.cluster?.link ?? null;
    this.console = OperatorConsole.start({
      config,
      nodeId,
      metrics,
      stats: () => this.stats(),
      link,
      logger: log,
    });
    if (roles.grpc && config.grpc.enabled) await this.startGrpc(authenticator, verifier);
    if (config.admin.enabled) await this.startAdmin();
    this.ready = true;
    const wtEngine = this.wtEngine;
    log.info({ nodeId, addresses: this.addresses, bus: storage.bus.name, wtEngine }, 'ferry ready');
  }

  /** The gRPC access API, with the business services' Upstream on the same port. */
  /** The QUIC engine of the WebTransport listener ('matrixai' or 'native'); null when it is disabled. */
  get wtEngine(): string | null {
    return this.clients?.wtEngine ?? null;
  }

  private async startGrpc(authenticator: Authenticator, verifier: JwtAuthenticator): Promise<void> {
    const { config, log, metrics, nodeId } = this;
    const storage = this.storage!;
    const sessions = this.sessions!;
    const upstreams = this.upstreams!;
    const operatorConsole = this.console!;
    // grpc-js, proto-loader, reflection and health checking are loaded only by a node that serves gRPC.
    const [{ callerKeys, startAccess }, { CallerAuth }, { mapError }] = await Promise.all([
      import('./access/access-node.js'),
      import('./access/caller-auth.js'),
      import('./access/status-mapping.js'),
    ]);
    this.mapAccessError = mapError;
    const callerAuth = new CallerAuth(await callerKeys(config, log));
    const addUpstreamService = await upstreams.grpcRegistrar();
    this.access = await startAccess({
      config,
      nodeId,
      busName: storage.bus.name,
      presence: storage.presence,
      router: this.router!,
      sessions: storage.sessionTokens,
      authenticator,
      verifier,
      localStats: () => {
        const s = sessions.stats();
        return { connections: s.connections.total, users: s.users };
      },
      nodes: () => operatorConsole.nodes(),
      admission: this.admission,
      logger: log,
      metrics,
      // Before the port is bound, so server reflection lists ferry.upstream.v1.Upstream too.
      addServices: (server) => addUpstreamService(server, callerAuth),
    });
    this.addresses.grpc = grpcAddress(this.access.address);
  }

  private async startAdmin(): Promise<void> {
    const admin = (this.admin = await buildAdmin({
      config: this.config,
      metrics: this.metrics,
      logger: this.log,
      addresses: this.addresses,
      certificates: this.clients?.certificates ?? null,
      console: this.console!,
      access:
        this.access !== null && this.mapAccessError !== null
          ? { service: this.access.service, mapError: this.mapAccessError }
          : null,
      stats: () => this.stats(),
      isReady: () => this.ready,
      beforeMetrics: () => {
        this.sessions?.flushMetrics();
        this.storage?.cluster?.flushMetrics();
      },
      reloadRoutes: () => this.reloadRoutes(),
    }));
    this.addresses.admin = listenAddress('http', await admin.listen(), '');
  }

  /** JSON for /stats. */
  stats(): Record<string, unknown> {
    const storage = this.storage!;
    const cluster = storage.cluster;
    return {
      nodeId: this.nodeId,
      ready: this.ready,
      uptimeSeconds: Math.round(process.uptime()),
      bus: storage.bus.name,
      sessions: this.sessions!.stats(),
      admission: this.admission.stats(),
      upstream: this.upstreams?.stats(),
      store: storage.store.stats(),
      overload: this.router?.overloadStats(),
      ...(cluster !== null ? { cluster: cluster.stats() } : {}),
      memory: { rssBytes: process.memoryUsage.rss() },
    };
  }

  /**
   * Re-reads the configuration and applies its `routes` and `upstream` sections (SIGHUP, POST
   * /routes/reload). Throws ConfigError, keeping the current table, when the new one is invalid.
   */
  async reloadRoutes(): Promise<unknown> {
    if (this.reloadConfig === null || this.upstreams === null)
      throw new ConfigError('invalid config: this node was started without a configuration to reload');
    const table = await this.upstreams.reload(this.reloadConfig());
    return table.describe();
  }

  /**
   * Graceful drain (SIGTERM): stop accepting, refuse new sends, flush, send go-away, save the store,
   * close. Resolves `clean: false` if `drain.timeoutMs` passed with work left. Idempotent.
   */
  drain(): Promise<{ clean: boolean }> {
    this.draining ??= this.doDrain();
    return this.draining;
  }

  private async doDrain(): Promise<{ clean: boolean }> {
    const sessions = this.sessions!;
    this.ready = false;
    this.access?.server.setNotServing();
    const started = Date.now();
    this.log.info({ connections: sessions.size }, 'draining: no longer accepting connections');
    await this.clients?.stopAccepting();
    const result = await sessions.drain(this.config.drain);
    let saved = true;
    try {
      await this.storage!.save();
    } catch (err) {
      saved = false;
      this.log.error({ err, dataDir: this.config.dataDir }, 'could not save the message store snapshot');
    }
    await this.close();
    const clean = result.clean && saved;
    this.log.info({ ...result, saved, ms: Date.now() - started }, 'drained');
    return { clean };
  }

  /** Abrupt stop (also the last step of drain): destroys connections and closes listeners. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    // Parts may be missing when start() failed half-way.
    const storage = this.storage;
    await this.clients?.close();
    await this.access?.server.close();
    this.accessClient?.close();
    await storage?.sessionTokens.close();
    await this.sessions?.close();
    await this.upstreams?.close();
    await this.console?.close();
    await storage?.bus.close();
    await storage?.presence.close();
    await storage?.store.close();
    // Last: bus and presence are closed, so nothing needs Redis any more. Deleting the liveness key
    // lets other nodes take over whatever reaches this node's inbox from now on.
    await storage?.cluster?.close(true);
    await this.admin?.close();
  }
}
