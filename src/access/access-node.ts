/**
 * Puts the access gateway together for one node from parts the gateway wiring picked (presence, router,
 * session-token store): the service, its gRPC server, and, for `--role message`, the authenticator that
 * asks a remote access service. Chooses no storage of its own, so the same code runs single-node and
 * in a cluster.
 */
import { join } from 'node:path';
import type { Authenticator } from '../auth/authenticator.js';
import { loadOrCreateDevSecret } from '../auth/jwt/dev-secret.js';
import { DEV_API_KEY_DIR } from './dev-api-key.js';
import type { Presence } from '../bus/presence.js';
import type { FerryConfig } from '../config/schema.js';
import type { Admission } from '../transport/admission.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { AccessService, type AccessRouter } from './access-service.js';
import { createAccessClient, type AccessClient } from './client.js';
import { RemoteAuthenticator } from './remote-authenticator.js';
import { AccessServer } from './server.js';
import type { SessionTokenStore } from './session-token-store.js';
import { JwtSessionTokenIssuer } from './session-tokens.js';

/** The name callers using the development API key get. */
const DEV_API_KEY_NAME = 'dev';

/** Parts of the node the access service runs on. */
export interface AccessNodeDeps {
  config: FerryConfig;
  nodeId: string;
  busName: string;
  presence: Presence;
  router: AccessRouter;
  sessions: SessionTokenStore;
  /** JWT check plus revocation (what the node's transports use). */
  authenticator: Authenticator;
  /** JWT check only. */
  verifier: Authenticator;
  localStats: () => { connections: number; users: number };
  /** Every node's status for Stats.nodes (the console's samples). */
  nodes?: () => Promise<Record<string, unknown>[]>;
  /** The node's admission: every gRPC socket is counted from accept (absent = no caps). */
  admission?: Admission;
  logger: Logger;
  /** Where refused gRPC calls are counted; absent = not counted. */
  metrics?: Metrics;
  /** Adds other services to the same port (the business-service Upstream) before it is bound. */
  addServices?: (server: AccessServer) => void;
}

/** A started access gateway. */
export interface StartedAccess {
  server: AccessServer;
  service: AccessService;
  address: { host: string; port: number; url: string };
}

/**
 * The API keys callers may use: `access.apiKeys`, or, when none are configured and no client CA is
 * (zero config), a development key generated once in `<dataDir>/access/dev-secret`.
 */
export async function callerKeys(config: FerryConfig, log: Logger): Promise<Record<string, string>> {
  const keys = config.access.apiKeys;
  if (Object.keys(keys).length > 0 || config.access.clientCa !== '') return keys;
  const dev = await loadOrCreateDevSecret(join(config.dataDir, DEV_API_KEY_DIR));
  log.warn(
    { path: dev.path },
    'no access.apiKeys configured: gRPC callers use the development API key in this file',
  );
  return { [DEV_API_KEY_NAME]: dev.secret };
}

/** Starts the AccessGateway gRPC server on `config.host`:`grpc.port`. */
export async function startAccess(deps: AccessNodeDeps): Promise<StartedAccess> {
  const { config } = deps;
  const log = componentLogger(deps.logger, 'access');
  const service = new AccessService({
    nodeId: deps.nodeId,
    role: config.access.role,
    busName: deps.busName,
    authenticator: deps.authenticator,
    verifier: deps.verifier,
    issuer: await JwtSessionTokenIssuer.fromConfig(config),
    sessions: deps.sessions,
    presence: deps.presence,
    router: deps.router,
    limits: {
      maxUserIdLength: config.limits.maxUserIdLength,
      reservedUserIds: config.auth.reservedUserIds,
      maxTopicLength: config.limits.maxTopicLength,
      // What fits one Deliver frame (docs/protocol.md §5.9: payload <= max_frame_bytes - 1024).
      maxPayloadBytes: config.limits.maxFrameBytes - 1024,
      sessionTokenTtlMs: config.access.sessionTokenTtlMs,
    },
    localStats: deps.localStats,
    ...(deps.nodes !== undefined ? { nodes: deps.nodes } : {}),
  });
  const a = config.access;
  const server = new AccessServer(service, {
    host: config.host,
    port: config.grpc.port,
    tls: a.tlsCert === '' ? null : { cert: a.tlsCert, key: a.tlsKey, clientCa: a.clientCa },
    apiKeys: await callerKeys(config, log),
    maxMessageBytes: a.maxMessageBytes,
    keepaliveMs: a.keepaliveMs,
    keepaliveTimeoutMs: a.keepaliveTimeoutMs,
    idleTimeoutMs: a.idleTimeoutMs,
    ...(deps.admission !== undefined ? { admission: deps.admission } : {}),
    maxUserIdLength: config.limits.maxUserIdLength,
    presence: deps.presence,
    logger: log,
    ...(deps.metrics !== undefined ? { metrics: deps.metrics } : {}),
  });
  deps.addServices?.(server);
  const bound = await server.listen();
  const host = bound.host === '0.0.0.0' || bound.host === '::' ? '127.0.0.1' : bound.host;
  return {
    server,
    service,
    address: { ...bound, url: `${host.includes(':') ? `[${host}]` : host}:${bound.port}` },
  };
}

/** The key a message node presents: `access.callerKey`, else `apiKeys.default`, else the dev key. */
async function ownCallerKey(config: FerryConfig): Promise<string> {
  if (config.access.callerKey !== '') return config.access.callerKey;
  const fallback = config.access.apiKeys.default;
  if (fallback !== undefined) return fallback;
  return (await loadOrCreateDevSecret(join(config.dataDir, DEV_API_KEY_DIR))).secret;
}

/** Role 'message': the authenticator that validates tokens at `access.accessUrl`, and its client. */
export async function remoteAuthenticator(
  config: FerryConfig,
  logger: Logger,
): Promise<{ authenticator: RemoteAuthenticator; client: AccessClient }> {
  const a = config.access;
  const client = createAccessClient(a.accessUrl, {
    apiKey: await ownCallerKey(config),
    // Plaintext unless this node has gRPC TLS material: then the same CA is trusted for the access node.
    tls: a.tlsCert === '' ? null : { ca: a.clientCa || undefined, cert: a.tlsCert, key: a.tlsKey },
    channelOptions: {
      'grpc.keepalive_time_ms': a.keepaliveMs,
      'grpc.keepalive_timeout_ms': a.keepaliveTimeoutMs,
      // Fail fast while the access service is down instead of queueing logins for the whole deadline.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
    },
  });
  const authenticator = new RemoteAuthenticator({
    client,
    cacheTtlMs: a.validationCacheMs,
    logger: componentLogger(logger, 'access'),
  });
  return { authenticator, client };
}
