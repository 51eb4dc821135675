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
import { SessionAwareAuthenticator } from './auth/session-token-authenticator.js';
import type { Authenticator } from './auth/authenticator.js';
import { JwtAuthenticator } from './auth/jwt/jwt-authenticator.js';
import type { Bus } from './bus/bus.js';
import { MemoryBus } from './bus/memory.js';
import { MemoryPresence } from './bus/memory-presence.js';
import type { Presence } from './bus/presence.js';
import type { FerryConfig } from './config/schema.js';
import { componentLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { MessageRouter } from './routing/message-router.js';
import { LocalDelivery } from './routing/local-delivery.js';
import { admissionRefusalFrame, SessionManager } from './session/session-manager.js';
import { Admission, type AdmissionLimits } from './transport/admission.js';
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
import {
  CaCertificate,
  CertificateManager,
  type CertificateSource,
  WebTransportServer,
} from './webtransport/index.js';
import { OperatorConsole } from './console/index.js';

/**
 * Where one listener listens: `host` is the bound address (`0.0.0.0` = all interfaces), `bindUrl` the
 * URL with that address, and `url` one that works from this machine (the wildcard replaced by loopback).
 */
export interface ListenAddress {
  host: string;
  port: number;
  url: string;
  bindUrl: string;
}

/** Where a running gateway listens (only the enabled listeners are present). */
export interface GatewayAddresses {
  ws?: ListenAddress;
  tcp?: ListenAddress;
  /** UDP (QUIC); `url` is the session URL a browser opens. */
  wt?: ListenAddress;
  admin?: ListenAddress;
  /** The gRPC access gateway; `url` is the `host:port` target a gRPC client dials. */
  grpc?: ListenAddress;
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
  /** The QUIC engine of the WebTransport listener ('matrixai' or 'native'); null when it is disabled. */
  wtEngine: string | null = null;
  readonly metrics: Metrics;
  private readonly config: FerryConfig;
  private readonly log: Logger;
  private readonly listeners: Listener[] = [];
  private admin: AdminServer | null = null;
  private certificates: CertificateSource | null = null;
  private sessions!: SessionManager;
  private router: MessageRouter | null = null;
  /** Counts every socket of every listener from accept (src/transport/admission.ts). */
  private admission!: Admission;
  private store!: MessageStore;
  /** Set in cluster mode (`redis.url` / `redis.cluster`): Redis link, presence, bus, housekeeping. */
  private cluster: ClusterNode | null = null;
  private bus!: Bus;
  private presence!: Presence;
  private access: StartedAccess | null = null;
  private accessClient: AccessClient | null = null;
  private sessionTokens: SessionTokenStore | null = null;
  /** Routing of ServiceRequest frames to business services (docs/upstreams.md). */
  private upstreams: UpstreamNode | null = null;
  /** Samples for the operator's console and Stats.nodes (docs/operations.md). */
  private console: OperatorConsole | null = null;
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
    const admissionCaps = admissionLimits(config);
    const transportLog = componentLogger(log, 'transport');
    this.admission = new Admission(admissionCaps, metrics, (address, banMs) =>
      transportLog.warn(
        { address, banMs, threshold: config.limits.abuseThreshold },
        'address refused for a while: too many of its connections were cut for abuse',
      ),
    );
    if (Number.isFinite(admissionCaps.maxSocketFds)) {
      log.info(
        { socketFds: admissionCaps.maxSocketFds, reservedFds: config.limits.reservedFds },
        'file descriptors: sockets beyond the open-file limit minus the reserve are refused',
      );
    }
    const verifier = await JwtAuthenticator.fromConfig(config);
    if (config.auth.allowNoExpiry)
      log.warn('auth.allowNoExpiry is on: client tokens without exp are accepted and never expire');
    // Roles (docs/access-api.md): 'access' runs no client listeners; 'message' no gRPC server, and asks the access
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
        ...cluster.storeWiring(config.redis.lossAuditSize),
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
    if (this.cluster !== null && this.store instanceof RedisMessageStore) {
      const store = this.store;
      // What this node knows of its users' logs, checked when Redis may have lost data.
      this.cluster.guard.attach({
        auditStore: () => store.auditRecent(),
        sentSeqs: () => registry.sentSeqs(),
        lastUserSeq: (userId) => store.lastUserSeq(userId),
      });
    }
    const router = new MessageRouter({
      nodeId,
      store: this.store,
      bus: this.bus,
      metrics,
      logger: log,
      maxPendingAppends: config.store.maxPendingAppends,
      maxBusBacklogBytes: config.redis.maxBacklogBytes,
    });
    this.router = router;
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
      services: this.upstreams.services,
    });
    await this.bus.start(new LocalDelivery(registry));
    this.cluster?.startJanitor();

    const onConnection = this.sessions.accept.bind(this.sessions);
    const host = config.host;
    const admission = this.admission;
    if (config.ws.enabled) {
      const l = new WebSocketListener({
        host,
        port: config.ws.port,
        path: config.ws.path,
        allowedOrigins: config.ws.allowedOrigins,
        tls: config.ws.tls,
        maxPayloadBytes: config.limits.maxFrameBytes,
        admission,
        onConnection,
        logger: componentLogger(log, 'transport'),
        metrics,
      });
      this.listeners.push(l);
      const a = await l.listen();
      this.addresses.ws = listenAddress(config.ws.tls ? 'wss' : 'ws', a, config.ws.path);
    }
    if (config.tcp.enabled) {
      const l = new TcpListener({
        host,
        port: config.tcp.port,
        tls: config.tcp.tls,
        admission,
        refusalFrame: admissionRefusalFrame,
        onConnection,
        logger: componentLogger(log, 'transport'),
        metrics,
      });
      this.listeners.push(l);
      const a = await l.listen();
      this.addresses.tcp = listenAddress(config.tcp.tls ? 'tls' : 'tcp', a, '');
    }
    if (config.wt.enabled) await this.startWebTransport(onConnection);
    this.console = OperatorConsole.start({
      config,
      nodeId,
      metrics,
      stats: () => this.stats(),
      link: this.cluster?.link ?? null,
      logger: log,
    });
    const operatorConsole = this.console;
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
        nodes: () => operatorConsole.nodes(),
        admission,
        logger: log,
        metrics,
        // Before the port is bound, so server reflection lists ferry.upstream.v1.Upstream too.
        addServices: (server) => upstreams.registerOn(server, callerAuth),
      });
      const g = this.access.address;
      this.addresses.grpc = { ...g, bindUrl: `${bracketed(g.host)}:${g.port}` };
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
      operatorConsole.registerRoutes(this.admin, this.access?.service ?? null, () => this.reloadRoutes());
      const a = await this.admin.listen();
      this.addresses.admin = listenAddress('http', a, '');
    }
    this.ready = true;
    log.info(
      { nodeId, addresses: this.addresses, bus: this.bus.name, wtEngine: this.wtEngine },
      'ferry ready',
    );
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
      createServer: (opts) => {
        const server = new WebTransportServer({ ...opts, engine: config.wt.engine });
        this.wtEngine = server.engineName;
        return server;
      },
      limits: {
        // Admission answers a client over the cap (CONNECTION_CLOSE with the 4008 reason); the engine's
        // own cap, which drops Initials silently, stays above it.
        maxConnections: config.limits.maxConnections + WT_CONNECTION_HEADROOM,
        idleTimeoutMs: config.session.idleTimeoutMs,
        // QUIC handshake + CONNECT, from the first Initial.
        connectTimeoutMs: config.limits.handshakeTimeoutMs,
        // One session per QUIC connection, so admission's count of connections is a count of sessions.
        maxSessionsPerConnection: 1,
      },
      admission: this.admission,
      onConnection,
      logger: componentLogger(log, 'transport'),
      metrics,
    });
    this.listeners.push(l);
    const a = await l.listen();
    this.addresses.wt = listenAddress('https', a, config.wt.path);
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
      admission: this.admission.stats(),
      upstream: this.upstreams?.stats(),
      store: this.store.stats(),
      overload: this.router?.overloadStats(),
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
    await this.console?.close();
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

/** Refused sockets that may keep their descriptor at once while their answer is delivered. */
const MAX_LINGERING_REFUSALS = 64;

/** Room above `limits.maxConnections` in the QUIC engine's own cap, so admission always decides first. */
const WT_CONNECTION_HEADROOM = 1024;

/**
 * Admission's caps from the configuration, and the file-descriptor budget: at the process's open-file
 * limit the kernel refuses accept() and libuv closes the connection itself, so the client learns
 * nothing and the node has no descriptor left for Redis, logs or the admin port. Admission refuses
 * sockets (readably: 4008 / HTTP 503) once the limit minus `limits.reservedFds` are in use, and any
 * one address at half of that (4007). Reads /proc/self/limits once (Linux); elsewhere no budget.
 */
/** The window `limits.abuseThreshold` counts abusive closes in, and the length of a first ban. */
const ABUSE_WINDOW_MS = 10_000;
const FIRST_BAN_MS = 1000;

function admissionLimits(config: FerryConfig): AdmissionLimits {
  const { limits, access } = config;
  const openFiles = openFileLimit();
  const maxSocketFds = openFiles === null ? Infinity : openFiles - limits.reservedFds;
  if (maxSocketFds < 2) {
    throw new ConfigError(
      `invalid config: limits.reservedFds (${limits.reservedFds}) leaves no file descriptors for sockets ` +
        `under the open-file limit ${openFiles}; raise \`ulimit -n\` or lower limits.reservedFds`,
    );
  }
  return {
    connectionsPerIp: limits.connectionsPerIp,
    maxConnections: limits.maxConnections,
    grpcConnectionsPerIp: access.connectionsPerIp,
    grpcMaxConnections: access.maxConnections,
    maxSocketFds,
    handshakeTimeoutMs: limits.handshakeTimeoutMs,
    // Their descriptors come out of the reserve: a quarter of it at most.
    maxLingeringRefusals: Math.min(MAX_LINGERING_REFUSALS, Math.floor(limits.reservedFds / 4)),
    penalty: {
      threshold: limits.abuseThreshold,
      windowMs: ABUSE_WINDOW_MS,
      firstBanMs: FIRST_BAN_MS,
      maxBanMs: limits.abuseMaxBanMs,
    },
  };
}

/** RLIMIT_NOFILE (soft) from /proc/self/limits; null when unknown or unlimited. */
function openFileLimit(): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (m === null || m[1] === 'unlimited') return null;
  return Number(m[1]);
}

/** `scheme://host:port/path` with the bound host (`bindUrl`) and with one reachable from here (`url`). */
function listenAddress(scheme: string, a: { host: string; port: number }, path: string): ListenAddress {
  return {
    ...a,
    url: `${scheme}://${urlHost(a.host)}:${a.port}${path}`,
    bindUrl: `${scheme}://${bracketed(a.host)}:${a.port}${path}`,
  };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return bracketed(host);
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
