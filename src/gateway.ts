import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AdminServer } from './admin/admin-server.js';
import { registerDemoRoutes } from './admin/demo-routes.js';
import { loadAdminKey } from './admin/admin-key.js';
import { registerWebTransportRoutes } from './admin/webtransport-routes.js';
import { remoteAuthenticator, startAccess, type StartedAccess } from './access/access-node.js';
import type { AccessClient } from './access/client.js';
import { MemorySessionTokenStore, type SessionTokenStore } from './access/session-token-store.js';
import { RedisSessionTokenStore } from './access/redis-session-token-store.js';
import { SessionAwareAuthenticator } from './access/session-tokens.js';
import type { Authenticator } from './auth/authenticator.js';
import { JwtAuthenticator } from './auth/jwt/jwt-authenticator.js';
import type { Bus } from './bus/bus.js';
import { MemoryBus } from './bus/memory.js';
import { MemoryPresence } from './bus/memory-presence.js';
import type { Presence } from './bus/presence.js';
import type { FerryConfig } from './config-types.js';
import { componentLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { Router } from './routing/router.js';
import { SessionManager } from './session/session-manager.js';
import { registerRoutesReload } from './admin/routes-reload.js';
import { CallerAuth } from './access/caller-auth.js';
import { callerKeys } from './access/access-node.js';
import { UpstreamNode } from './upstream/upstream-node.js';
import { ConfigError } from './errors.js';
import { SessionRegistry } from './session/registry.js';
import { MemoryMessageStore, SnapshotError } from './store/memory.js';
import type { MessageStore } from './store/message-store.js';
import { RedisMessageStore } from './store/redis/redis-store.js';
import { ClusterNode, clusterEnabled } from './cluster/cluster-node.js';
import { durabilityOf } from './cluster/durability-check.js';
import { TcpListener } from './transport/tcp/tcp-listener.js';
import type { ConnectionCallback, Listener } from './transport/transport.js';
import { WebTransportListener } from './transport/webtransport/wt-listener.js';
import { WebSocketListener } from './transport/websocket/ws-listener.js';
import { CaCertificate, CertificateManager, type CertificateSource } from './webtransport/certs.js';
import { WebTransportServer } from './webtransport/index.js';

/** Where a running gateway listens (only the enabled listeners are present). */
export interface GatewayAddresses {
  ws?: { host: string; port: number; url: string };
  tcp?: { host: string; port: number; url: string };
  /** UDP (QUIC); `url` is the session URL a browser opens. */
  wt?: { host: string; port: number; url: string };
  admin?: { host: string; port: number; url: string };
  /** The gRPC access gateway; `url` is the `host:port` target a gRPC client dials. */
  grpc?: { host: string; port: number; url: string };
}

/** File the in-memory store is saved to on drain and loaded from on start. */
export const STORE_SNAPSHOT_FILE = 'store.snapshot';

/**
 * One Ferry node: the only place that picks concrete implementations (listeners, sessions, routing,
 * bus, store, admin) and wires them. Everything else depends on interfaces.
 */
export class Gateway {
  readonly nodeId: string;
  readonly addresses: GatewayAddresses = {};
  readonly metrics: Metrics;
  private readonly config: FerryConfig;
  private readonly log: Logger;
  private readonly listeners: Listener[] = [];
  private admin: AdminServer | null = null;
  private certificates: CertificateSource | null = null;
  private sessions!: SessionManager;
  private store!: MessageStore;
  /** Set in cluster mode (`redis.url` / `redis.cluster`): Redis link, presence, bus, housekeeping. */
  private cluster: ClusterNode | null = null;
  private bus!: Bus;
  private presence!: Presence;
  private access: StartedAccess | null = null;
  private accessClient: AccessClient | null = null;
  private sessionTokens: SessionTokenStore | null = null;
  /** Routing of ServiceRequest frames to business services (issue 7, docs/upstreams.md). */
  private upstreams: UpstreamNode | null = null;
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
    clampToFileLimit(config, log);
    const verifier = await JwtAuthenticator.fromConfig(config);
    if (config.auth.allowNoExpiry)
      log.warn('auth.allowNoExpiry is on: client tokens without exp are accepted and never expire');
    // Roles (issue 5): 'access' runs no client listeners; 'message' no gRPC server, and asks the access
    // service about every token; 'all' checks tokens itself, refusing those of logged-out sessions.
    const role = config.access.role;
    if (role === 'access') config.ws.enabled = config.tcp.enabled = config.wt.enabled = false;
    if (role === 'message') config.grpc.enabled = false;
    if (clusterEnabled(config)) {
      const cluster = await ClusterNode.start({
        redis: config.redis,
        nodeId,
        logger: log,
        metrics,
        durability: durabilityOf(config),
      });
      this.cluster = cluster;
      this.store = new RedisMessageStore({
        ...cluster.storeWiring(),
        nodeId,
        keyPrefix: config.redis.keyPrefix,
        ...config.store,
        // The link has no offline queue (commands fail at once while Redis is away); a write-queue
        // timeout would only turn a busy node's queueing into 107s (docs/cluster.md).
        commandTimeoutMs: Infinity,
      });
      this.bus = cluster.bus;
      this.presence = cluster.presence;
    } else {
      this.store = await this.loadStore();
      this.bus = new MemoryBus({
        onError: (err, channel) => log.error({ err, channel }, 'bus handler failed'),
      });
      this.presence = new MemoryPresence();
    }
    // In a cluster, login sessions and revocations live in Redis: a Logout through any node is refused
    // at every node (docs/access-api.md, "Cluster").
    this.sessionTokens =
      this.cluster !== null
        ? new RedisSessionTokenStore({
            link: this.cluster.link,
            keyPrefix: config.redis.keyPrefix,
            logger: componentLogger(log, 'access'),
            onError: () => metrics.clusterRedisErrors.inc({ op: 'session-tokens' }),
          })
        : new MemorySessionTokenStore();
    let authenticator: Authenticator = new SessionAwareAuthenticator(verifier, this.sessionTokens);
    if (role === 'message') {
      const remote = await remoteAuthenticator(config, log);
      this.accessClient = remote.client;
      authenticator = remote.authenticator;
    }
    const registry = new SessionRegistry({ nodeId, presence: this.presence, logger: log });
    const router = new Router({ nodeId, store: this.store, bus: this.bus, registry, metrics, logger: log });
    this.upstreams = await UpstreamNode.start({
      config,
      nodeId,
      replies: router,
      registry: metrics.registry,
      redis: this.cluster?.link ?? null,
      logger: log,
    });
    this.sessions = new SessionManager({
      config,
      nodeId,
      authenticator,
      router,
      registry,
      store: this.store,
      presence: this.presence,
      metrics,
      logger: log,
      services: this.upstreams.router,
    });
    await this.bus.start(router);
    this.cluster?.startJanitor();

    const onConnection = this.sessions.accept.bind(this.sessions);
    const host = config.host;
    if (config.ws.enabled) {
      const l = new WebSocketListener({
        host,
        port: config.ws.port,
        path: config.ws.path,
        allowedOrigins: config.ws.allowedOrigins,
        tls: config.ws.tls,
        maxPayloadBytes: config.limits.maxFrameBytes,
        onConnection,
        logger: componentLogger(log, 'transport'),
        metrics,
      });
      this.listeners.push(l);
      const a = await l.listen();
      const scheme = config.ws.tls ? 'wss' : 'ws';
      this.addresses.ws = { ...a, url: `${scheme}://${urlHost(a.host)}:${a.port}${config.ws.path}` };
    }
    if (config.tcp.enabled) {
      const l = new TcpListener({
        host,
        port: config.tcp.port,
        tls: config.tcp.tls,
        onConnection,
        logger: componentLogger(log, 'transport'),
        metrics,
      });
      this.listeners.push(l);
      const a = await l.listen();
      const scheme = config.tcp.tls ? 'tls' : 'tcp';
      this.addresses.tcp = { ...a, url: `${scheme}://${urlHost(a.host)}:${a.port}` };
    }
    if (config.wt.enabled) await this.startWebTransport(onConnection);
    if (config.grpc.enabled) {
      const upstreams = this.upstreams;
      const callerAuth = new CallerAuth(await callerKeys(config, log));
      this.access = await startAccess({
        config,
        nodeId,
        busName: this.bus.name,
        presence: this.presence,
        router,
        sessions: this.sessionTokens,
        authenticator,
        verifier,
        localStats: () => {
          const s = this.sessions.stats();
          return { connections: s.connections.total, users: s.users };
        },
        logger: log,
        metrics,
        // Before the port is bound, so server reflection lists ferry.upstream.v1.Upstream too.
        addServices: (server) => upstreams.registerOn(server, callerAuth),
      });
      this.addresses.grpc = this.access.address;
    }
    if (config.admin.enabled) {
      const adminKey = await loadAdminKey(config);
      if (adminKey.path !== null)
        log.warn(
          { path: adminKey.path },
          'no admin.apiKey configured: mutating admin routes and /stats take the generated admin key in this file',
        );
      this.admin = new AdminServer({
        host: config.admin.host,
        port: config.admin.port,
        apiKey: adminKey.key,
        allowedHosts: config.admin.allowedHosts,
        metricsAuth: config.admin.metricsAuth,
        maxBodyBytes: config.admin.maxBodyBytes,
        bodyTimeoutMs: config.admin.bodyTimeoutMs,
        metrics,
        logger: componentLogger(log, 'admin'),
        stats: () => this.stats(),
        isReady: () => this.ready,
        beforeMetrics: () => {
          this.sessions.flushMetrics();
          this.cluster?.flushMetrics();
        },
      });
      const wt = this.addresses.wt;
      if (this.certificates !== null && wt !== undefined)
        registerWebTransportRoutes(this.admin, { certificates: this.certificates, url: wt.url });
      await registerDemoRoutes(this.admin, {
        config,
        ws: this.addresses.ws?.url ?? '',
        wt: wt?.url ?? '',
        logger: componentLogger(log, 'admin'),
      });
      registerRoutesReload(this.admin, { reload: () => this.reloadRoutes() });
      const a = await this.admin.listen();
      this.addresses.admin = { ...a, url: `http://${urlHost(a.host)}:${a.port}` };
    }
    this.ready = true;
    log.info({ nodeId, addresses: this.addresses, bus: this.bus.name }, 'ferry ready');
  }

  /**
   * WebTransport on UDP `wt.port`: a CA-issued certificate from `wt.cert`/`wt.key`, else rotating
   * development certificates in `<dataDir>/certs` (their hashes are served on the admin port).
   */
  private async startWebTransport(onConnection: ConnectionCallback): Promise<void> {
    const { config, log, metrics } = this;
    const certificates =
      config.wt.cert !== ''
        ? await CaCertificate.load(config.wt.cert, config.wt.key)
        : await CertificateManager.open({
            dataDir: config.dataDir,
            hostNames: [config.host],
            logger: componentLogger(log, 'certs'),
          });
    this.certificates = certificates;
    if (certificates instanceof CertificateManager) certificates.start();
    const l = new WebTransportListener({
      host: config.host,
      port: config.wt.port,
      path: config.wt.path,
      allowedOrigins: config.ws.allowedOrigins,
      certificates,
      createServer: (opts) => new WebTransportServer(opts),
      limits: {
        // Above the session cap, so a client over it still gets a readable 4008 SERVER_FULL close.
        maxConnections: config.limits.maxConnections + WT_CONNECTION_HEADROOM,
        idleTimeoutMs: config.session.idleTimeoutMs,
      },
      onConnection,
      logger: componentLogger(log, 'transport'),
      metrics,
    });
    this.listeners.push(l);
    const a = await l.listen();
    this.addresses.wt = { ...a, url: `https://${urlHost(a.host)}:${a.port}${config.wt.path}` };
  }

  /**
   * Loads the snapshot a previous drain left, then deletes it: a crash after this point must not bring
   * back stale state (sequences handed out since would be reissued).
   */
  private async loadStore(): Promise<MemoryMessageStore> {
    const path = join(this.config.dataDir, STORE_SNAPSHOT_FILE);
    const opts = { nodeId: this.nodeId, ...this.config.store };
    try {
      const store = await MemoryMessageStore.loadSnapshot(path, opts);
      const s = store.stats();
      if (s.messages > 0 || s.users > 0)
        this.log.info({ path, ...s }, 'message store restored from snapshot');
      await rm(path, { force: true });
      return store;
    } catch (err) {
      if (err instanceof SnapshotError && err.reason === 'corrupt') {
        this.log.error({ err, path }, 'store snapshot is corrupt; starting with an empty store');
        await rm(path, { force: true });
        return new MemoryMessageStore(opts);
      }
      throw err;
    }
  }

  /** JSON for /stats. */
  stats(): Record<string, unknown> {
    return {
      nodeId: this.nodeId,
      ready: this.ready,
      uptimeSeconds: Math.round(process.uptime()),
      bus: this.bus.name,
      sessions: this.sessions.stats(),
      upstream: this.upstreams?.stats(),
      store: this.store.stats(),
      ...(this.cluster !== null ? { cluster: this.cluster.stats() } : {}),
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
    this.ready = false;
    this.access?.server.setNotServing();
    const started = Date.now();
    this.log.info({ connections: this.sessions.size }, 'draining: no longer accepting connections');
    await Promise.all(this.listeners.map((l) => l.stopAccepting()));
    const result = await this.sessions.drain(this.config.drain);
    const path = join(this.config.dataDir, STORE_SNAPSHOT_FILE);
    let saved = true;
    try {
      // With Redis the store is shared and durable there: nothing to save.
      if (this.store instanceof MemoryMessageStore) await this.store.saveSnapshot(path);
    } catch (err) {
      saved = false;
      this.log.error({ err, path }, 'could not save the message store snapshot');
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
    await Promise.all(this.listeners.map((l) => l.close()));
    await this.access?.server.close();
    this.accessClient?.close();
    await this.sessionTokens?.close();
    // Parts may be missing when start() failed half-way.
    await this.sessions?.close();
    await this.upstreams?.close();
    await this.bus?.close();
    await this.presence?.close();
    await this.store?.close();
    // Last: bus and presence are closed, so nothing needs Redis any more. Deleting the liveness key
    // lets other nodes take over whatever reaches this node's inbox from now on.
    await this.cluster?.close(true);
    await this.admin?.close();
    this.certificates?.close();
  }
}

/** QUIC connections accepted beyond `limits.maxConnections`, so refusals can be told why. */
const WT_CONNECTION_HEADROOM = 1024;

/** Descriptors kept free for listeners, the admin port, logs, Redis and the like. */
const RESERVED_FDS = 256;

/**
 * At the process's open-file limit the kernel refuses accept() and libuv closes the connection itself,
 * so the client learns nothing. Keeping `maxConnections` below the limit means a client over capacity
 * gets a readable 4008 SERVER_FULL instead. Linux only (reads /proc/self/limits); elsewhere a no-op.
 */
function clampToFileLimit(config: FerryConfig, log: Logger): void {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return;
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (m === null || m[1] === 'unlimited') return;
  const cap = Number(m[1]) - RESERVED_FDS;
  if (cap > 0 && config.limits.maxConnections > cap) {
    log.warn(
      { configured: config.limits.maxConnections, openFileLimit: Number(m[1]), maxConnections: cap },
      'limits.maxConnections lowered to fit the open-file limit (raise `ulimit -n` to allow more)',
    );
    config.limits.maxConnections = cap;
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
