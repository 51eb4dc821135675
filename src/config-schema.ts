/**
 * What each configuration setting may hold, and the env variables and CLI flags that set them. One table
 * drives loading (config.ts), `--help` (cli.ts) and typo suggestions, so the three never disagree.
 */
import { isAbsolute, resolve } from 'node:path';
import { ANY_HOST, normalizeHost } from './admin/admin-hosts.js';
import { MIN_HMAC_SECRET_BYTES, isKeyPath } from './auth/jwt/key-ring.js';
import { parseTopicRule } from './auth/topic-policy.js';
import { identifierProblem } from './protocol/identifier.js';
import { parseRouteTarget, parseUpstreamKind } from './upstream/route-table.js';

/** Where a value came from, for messages like `ws.port (from env FERRY_WS_PORT)`. */
export type ConfigSource =
  | { kind: 'default' }
  | { kind: 'file'; path: string }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string };

/** `default`, `file /etc/ferry.json`, `env FERRY_WS_PORT`, `flag --ws-port`. */
export function describeSource(s: ConfigSource): string {
  switch (s.kind) {
    case 'default':
      return 'default';
    case 'file':
      return `file ${s.path}`;
    case 'env':
      return `env ${s.name}`;
    case 'flag':
      return `flag --${s.name}`;
  }
}

type LeafKind =
  | { type: 'string'; nonEmpty?: boolean; pattern?: RegExp; expected?: string }
  | { type: 'path' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'bool' }
  | { type: 'port' }
  | { type: 'int'; min: number; max: number }
  | { type: 'duration'; min: number; max: number }
  | { type: 'size'; min: number; max: number }
  | { type: 'origins' }
  | { type: 'hosts' }
  | { type: 'idList' }
  | { type: 'map'; entry: 'secret' | 'key' | 'apiKey' | 'route' | 'upstreamKind' | 'topicRule' };

/** One configuration leaf (a dotted path into FerryConfig). */
export interface LeafSpec {
  kind: LeafKind;
  /** Values are never echoed in messages or printed configs. */
  secret?: boolean;
}

const DAY = 24 * 3600_000;
const MIB = 1024 * 1024;
const HOST: LeafKind = {
  type: 'string',
  nonEmpty: true,
  pattern: /^\S+$/,
  expected: 'a host name or IP address',
};
const URL_PATH: LeafKind = { type: 'string', pattern: /^\/\S*$/, expected: 'a URL path starting with "/"' };

/** Every leaf of FerryConfig. A test checks this matches defaultConfig() exactly. */
// prettier-ignore
export const LEAVES: Record<string, LeafSpec> = {
  nodeId: { kind: { type: 'string', pattern: /^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, expected: 'up to 64 of A-Z a-z 0-9 . _ -' } },
  host: { kind: HOST },
  dataDir: { kind: { type: 'path' } },
  'log.level': { kind: { type: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] } },
  'log.pretty': { kind: { type: 'bool' } },
  'ws.enabled': { kind: { type: 'bool' } },
  'ws.port': { kind: { type: 'port' } },
  'ws.path': { kind: URL_PATH },
  'ws.allowedOrigins': { kind: { type: 'origins' } },
  'ws.tls.cert': { kind: { type: 'path' } },
  'ws.tls.key': { kind: { type: 'path' } },
  'tcp.enabled': { kind: { type: 'bool' } },
  'tcp.port': { kind: { type: 'port' } },
  'tcp.tls.cert': { kind: { type: 'path' } },
  'tcp.tls.key': { kind: { type: 'path' } },
  'wt.enabled': { kind: { type: 'bool' } },
  'wt.port': { kind: { type: 'port' } },
  'wt.path': { kind: URL_PATH },
  'wt.cert': { kind: { type: 'path' } },
  'wt.key': { kind: { type: 'path' } },
  'grpc.enabled': { kind: { type: 'bool' } },
  'grpc.port': { kind: { type: 'port' } },
  'admin.enabled': { kind: { type: 'bool' } },
  'admin.host': { kind: HOST },
  'admin.port': { kind: { type: 'port' } },
  'admin.demo': { kind: { type: 'enum', values: ['auto', 'on', 'off'] } },
  'admin.apiKey': { kind: { type: 'string', pattern: /^$|^\S{16,1024}$/, expected: '16-1024 characters without spaces' }, secret: true },
  'admin.allowedHosts': { kind: { type: 'hosts' } },
  'admin.metricsAuth': { kind: { type: 'bool' } },
  'admin.maxBodyBytes': { kind: { type: 'size', min: 256, max: 16 * MIB } },
  'admin.bodyTimeoutMs': { kind: { type: 'duration', min: 100, max: 600_000 } },
  'auth.hmacSecrets': { kind: { type: 'map', entry: 'secret' }, secret: true },
  'auth.publicKeys': { kind: { type: 'map', entry: 'key' } },
  'auth.issuer': { kind: { type: 'string' } },
  'auth.audience': { kind: { type: 'string' } },
  'auth.clockSkewMs': { kind: { type: 'duration', min: 0, max: 3600_000 } },
  'auth.deadlineMs': { kind: { type: 'duration', min: 100, max: 600_000 } },
  'auth.duplicateDevice': { kind: { type: 'enum', values: ['replace-old', 'reject-new'] } },
  'auth.reservedUserIds': { kind: { type: 'idList' } },
  'auth.allowNoExpiry': { kind: { type: 'bool' } },
  'limits.maxFrameBytes': { kind: { type: 'size', min: 256, max: 64 * MIB } },
  'limits.framesPerSecond': { kind: { type: 'int', min: 1, max: 1_000_000 } },
  'limits.bytesPerSecond': { kind: { type: 'size', min: 1, max: 1024 * MIB } },
  'limits.floodToleranceSeconds': { kind: { type: 'int', min: 1, max: 3600 } },
  'limits.controlFramePercent': { kind: { type: 'int', min: 1, max: 100 } },
  'limits.abuseThreshold': { kind: { type: 'int', min: 0, max: 1_000_000 } },
  'limits.abuseMaxBanMs': { kind: { type: 'duration', min: 1000, max: 24 * 3600_000 } },
  'limits.connectionsPerIp': { kind: { type: 'int', min: 1, max: 10_000_000 } },
  'limits.maxConnections': { kind: { type: 'int', min: 1, max: 100_000_000 } },
  'limits.handshakeTimeoutMs': { kind: { type: 'duration', min: 100, max: 600_000 } },
  'limits.reservedFds': { kind: { type: 'int', min: 0, max: 1_000_000 } },
  'limits.outboundQueueBytes': { kind: { type: 'size', min: 1024, max: 1024 * MIB } },
  'limits.maxSubscriptionsPerConnection': { kind: { type: 'int', min: 0, max: 100_000 } },
  'limits.maxTopicLength': { kind: { type: 'int', min: 1, max: 4096 } },
  'limits.maxUserIdLength': { kind: { type: 'int', min: 1, max: 1024 } },
  // Timer-driven durations stay under 2^31-1 ms: Node turns larger setTimeout delays into 1 ms.
  'topics.rules': { kind: { type: 'map', entry: 'topicRule' } },
  'topics.unmatched': { kind: { type: 'enum', values: ['auto', 'open', 'grant', 'closed'] } },
  'presence.visibility': { kind: { type: 'enum', values: ['auto', 'everyone', 'granted'] } },
  'session.heartbeatMs': { kind: { type: 'duration', min: 100, max: 3600_000 } },
  'session.idleTimeoutMs': { kind: { type: 'duration', min: 1000, max: DAY } },
  'session.maxInflight': { kind: { type: 'int', min: 1, max: 1_000_000 } },
  'session.maxInflightSends': { kind: { type: 'int', min: 1, max: 100_000 } },
  'store.maxMessagesPerLog': { kind: { type: 'int', min: 1, max: 100_000_000 } },
  'store.retentionMs': { kind: { type: 'duration', min: 1000, max: 24 * DAY } },
  'store.dedupWindowMs': { kind: { type: 'duration', min: 0, max: 24 * DAY } },
  'store.maxBytes': { kind: { type: 'size', min: 1024, max: 1024 * 1024 * MIB } },
  'store.maxPendingAppends': { kind: { type: 'int', min: 1, max: 10_000_000 } },
  'store.durability': { kind: { type: 'enum', values: ['ack-after-write', 'ack-after-replica'] } },
  'store.replicas': { kind: { type: 'int', min: 1, max: 100 } },
  'store.replicaTimeoutMs': { kind: { type: 'duration', min: 10, max: 60_000 } },
  'redis.url': { kind: { type: 'string', pattern: /^$|^rediss?:\/\/[^\s/]+(\/\d+)?$/, expected: 'a URL like redis://127.0.0.1:6379' } },
  'redis.cluster': { kind: { type: 'string', pattern: /^$|^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, expected: 'a list like 10.0.0.1:7000,10.0.0.2:7000' } },
  'redis.sentinel': { kind: { type: 'string', pattern: /^$|^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, expected: 'a list like 10.0.0.1:26379,10.0.0.2:26379' } },
  'redis.masterName': { kind: { type: 'string', pattern: /^$|^[A-Za-z0-9._:-]{1,64}$/, expected: '1-64 of A-Z a-z 0-9 . _ : -' } },
  'redis.keyPrefix': { kind: { type: 'string', pattern: /^[A-Za-z0-9._-]{1,32}$/, expected: '1-32 of A-Z a-z 0-9 . _ -' } },
  'redis.livenessTtlMs': { kind: { type: 'duration', min: 1000, max: 3600_000 } },
  'redis.presenceTtlMs': { kind: { type: 'duration', min: 3000, max: DAY } },
  'redis.presenceCacheMs': { kind: { type: 'duration', min: 0, max: 60_000 } },
  'redis.claimIdleMs': { kind: { type: 'duration', min: 100, max: 3600_000 } },
  'redis.readBatch': { kind: { type: 'int', min: 1, max: 10_000 } },
  'redis.streamMaxLen': { kind: { type: 'int', min: 0, max: 1_000_000_000 } },
  'redis.dataCheckMs': { kind: { type: 'duration', min: 0, max: 3600_000 } },
  'redis.lossAuditSize': { kind: { type: 'int', min: 0, max: 10_000_000 } },
  'redis.maxBacklogBytes': { kind: { type: 'size', min: 64 * 1024, max: 1024 * MIB } },
  'access.role': { kind: { type: 'enum', values: ['all', 'access', 'message'] } },
  'access.apiKeys': { kind: { type: 'map', entry: 'apiKey' }, secret: true },
  'access.callerKey': { kind: { type: 'string', pattern: /^$|^\S{16,1024}$/, expected: '16-1024 characters without spaces' }, secret: true },
  'access.accessUrl': { kind: { type: 'string', pattern: /^$|^[^\s/]+:\d{1,5}$/, expected: 'host:port of the access service' } },
  'access.tlsCert': { kind: { type: 'path' } },
  'access.tlsKey': { kind: { type: 'path' } },
  'access.clientCa': { kind: { type: 'path' } },
  'access.maxMessageBytes': { kind: { type: 'size', min: 1024, max: 256 * MIB } },
  'access.keepaliveMs': { kind: { type: 'duration', min: 1000, max: DAY } },
  'access.keepaliveTimeoutMs': { kind: { type: 'duration', min: 100, max: 3600_000 } },
  'access.sessionTokenTtlMs': { kind: { type: 'duration', min: 60_000, max: 365 * DAY } },
  'access.validationCacheMs': { kind: { type: 'duration', min: 0, max: 3600_000 } },
  'access.connectionsPerIp': { kind: { type: 'int', min: 1, max: 10_000_000 } },
  'access.maxConnections': { kind: { type: 'int', min: 1, max: 100_000_000 } },
  'access.idleTimeoutMs': { kind: { type: 'duration', min: 1000, max: DAY } },
  routes: { kind: { type: 'map', entry: 'route' } },
  'upstream.services': { kind: { type: 'map', entry: 'upstreamKind' } },
  'upstream.batchSize': { kind: { type: 'int', min: 1, max: 10_000 } },
  'upstream.batchMs': { kind: { type: 'duration', min: 0, max: 60_000 } },
  'upstream.queueCritical': { kind: { type: 'int', min: 1, max: 10_000_000 } },
  'upstream.queueHigh': { kind: { type: 'int', min: 1, max: 10_000_000 } },
  'upstream.queueNormal': { kind: { type: 'int', min: 1, max: 10_000_000 } },
  'upstream.queueLow': { kind: { type: 'int', min: 1, max: 10_000_000 } },
  'upstream.maxInflightBatches': { kind: { type: 'int', min: 1, max: 10_000 } },
  'upstream.maxAttempts': { kind: { type: 'int', min: 1, max: 100 } },
  'upstream.retryBaseMs': { kind: { type: 'duration', min: 1, max: 600_000 } },
  'upstream.retryMaxMs': { kind: { type: 'duration', min: 1, max: 3600_000 } },
  'upstream.ackTimeoutMs': { kind: { type: 'duration', min: 10, max: 3600_000 } },
  'upstream.dedupWindowMs': { kind: { type: 'duration', min: 0, max: DAY } },
  'drain.timeoutMs': { kind: { type: 'duration', min: 0, max: 3600_000 } },
  'drain.reconnectDelayMs': { kind: { type: 'duration', min: 0, max: 3600_000 } },
};

/** Objects in the file that may be `null` (meaning "off") instead of holding their leaves. */
export const NULLABLE_GROUPS: ReadonlySet<string> = new Set(['ws.tls', 'tcp.tls']);

/** A setting reachable from the environment and/or the command line. */
export interface SettingSpec {
  /** Leaf path in FerryConfig. */
  path: string;
  /** For map leaves: the entry this setting writes (FERRY_AUTH_SECRET -> auth.hmacSecrets[""]). */
  mapKey?: string;
  /** Long flag without dashes (`ws-port`); for `negate` toggles the flag is `--no-<flag>`. */
  flag?: string;
  env?: string;
  /** `--no-ws` style: the flag turns a boolean off. */
  negate?: boolean;
  /** Placeholder in --help (`<port>`). */
  arg?: string;
  help: string;
}

/** Every env variable and flag, in --help order. */
// prettier-ignore
export const SETTINGS: readonly SettingSpec[] = [
  { path: 'nodeId', flag: 'node-id', env: 'FERRY_NODE_ID', arg: 'id', help: 'node id ("" = <hostname>-<random>)' },
  { path: 'host', flag: 'host', env: 'FERRY_HOST', arg: 'addr', help: 'address the client listeners bind' },
  { path: 'dataDir', flag: 'data-dir', env: 'FERRY_DATA_DIR', arg: 'dir', help: 'directory for dev keys and certs' },
  { path: 'log.level', flag: 'log-level', env: 'FERRY_LOG_LEVEL', arg: 'level', help: 'trace..fatal or silent' },
  { path: 'ws.port', flag: 'ws-port', env: 'FERRY_WS_PORT', arg: 'port', help: 'WebSocket port (0 = any free)' },
  { path: 'ws.allowedOrigins', flag: 'ws-origins', env: 'FERRY_WS_ORIGINS', arg: 'list', help: 'allowed Origins for WebSocket and WebTransport, comma list (empty = any)' },
  { path: 'ws.tls.cert', flag: 'ws-tls-cert', env: 'FERRY_WS_TLS_CERT', arg: 'file', help: 'WebSocket TLS certificate (PEM)' },
  { path: 'ws.tls.key', flag: 'ws-tls-key', env: 'FERRY_WS_TLS_KEY', arg: 'file', help: 'WebSocket TLS private key (PEM)' },
  { path: 'tcp.port', flag: 'tcp-port', env: 'FERRY_TCP_PORT', arg: 'port', help: 'raw TCP port (0 = any free)' },
  { path: 'tcp.tls.cert', flag: 'tcp-tls-cert', env: 'FERRY_TCP_TLS_CERT', arg: 'file', help: 'TCP TLS certificate (PEM)' },
  { path: 'tcp.tls.key', flag: 'tcp-tls-key', env: 'FERRY_TCP_TLS_KEY', arg: 'file', help: 'TCP TLS private key (PEM)' },
  { path: 'wt.port', flag: 'wt-port', env: 'FERRY_WT_PORT', arg: 'port', help: 'WebTransport UDP port (0 = any free)' },
  { path: 'wt.path', flag: 'wt-path', env: 'FERRY_WT_PATH', arg: 'path', help: 'WebTransport URL path' },
  { path: 'wt.cert', flag: 'wt-cert', env: 'FERRY_WT_CERT', arg: 'file', help: 'WebTransport CA-issued certificate (PEM; none = rotating dev certificates)' },
  { path: 'wt.key', flag: 'wt-key', env: 'FERRY_WT_KEY', arg: 'file', help: 'WebTransport private key (PEM)' },
  { path: 'grpc.port', flag: 'grpc-port', env: 'FERRY_GRPC_PORT', arg: 'port', help: 'gRPC access gateway port' },
  { path: 'admin.port', flag: 'admin-port', env: 'FERRY_ADMIN_PORT', arg: 'port', help: 'admin HTTP port' },
  { path: 'admin.host', flag: 'admin-host', env: 'FERRY_ADMIN_HOST', arg: 'addr', help: 'address the admin port binds' },
  { path: 'admin.demo', flag: 'admin-demo', env: 'FERRY_ADMIN_DEMO', arg: 'mode', help: 'demo token endpoint, on a loopback --admin-host only: auto (only with the dev secret), on, off' },
  { path: 'admin.apiKey', flag: 'admin-key', env: 'FERRY_ADMIN_KEY', arg: 'key', help: 'bearer key of mutating admin routes and /stats, >= 16 characters (unset = generated in <data-dir>/admin/dev-secret; prefer the env var)' },
  { path: 'admin.allowedHosts', flag: 'admin-allowed-hosts', env: 'FERRY_ADMIN_ALLOWED_HOSTS', arg: 'list', help: 'Host names the admin port answers (any port), comma list, * = any; the bound address is added' },
  { path: 'admin.metricsAuth', flag: 'admin-metrics-auth', env: 'FERRY_ADMIN_METRICS_AUTH', arg: 'bool', help: '/metrics needs the admin key too' },
  { path: 'admin.maxBodyBytes', flag: 'admin-max-body-bytes', env: 'FERRY_ADMIN_MAX_BODY_BYTES', arg: 'size', help: 'largest admin request body' },
  { path: 'admin.bodyTimeoutMs', flag: 'admin-body-timeout', env: 'FERRY_ADMIN_BODY_TIMEOUT', arg: 'duration', help: 'time allowed for an admin request body' },
  { path: 'ws.enabled', flag: 'ws', env: 'FERRY_WS_ENABLED', negate: true, help: 'disable the WebSocket listener' },
  { path: 'tcp.enabled', flag: 'tcp', env: 'FERRY_TCP_ENABLED', negate: true, help: 'disable the TCP listener' },
  { path: 'wt.enabled', flag: 'wt', env: 'FERRY_WT_ENABLED', negate: true, help: 'disable the WebTransport listener' },
  { path: 'grpc.enabled', flag: 'grpc', env: 'FERRY_GRPC_ENABLED', negate: true, help: 'disable the gRPC service' },
  { path: 'admin.enabled', flag: 'admin', env: 'FERRY_ADMIN_ENABLED', negate: true, help: 'disable the admin port' },
  { path: 'auth.hmacSecrets', mapKey: '', flag: 'auth-secret', env: 'FERRY_AUTH_SECRET', arg: 'secret', help: 'HS256 secret without kid, >= 32 bytes (prefer the env var: flags show in ps)' },
  { path: 'auth.issuer', flag: 'auth-issuer', env: 'FERRY_AUTH_ISSUER', arg: 'iss', help: 'required token issuer ("" = any)' },
  { path: 'auth.audience', flag: 'auth-audience', env: 'FERRY_AUTH_AUDIENCE', arg: 'aud', help: 'required token audience ("" = any)' },
  { path: 'auth.clockSkewMs', flag: 'auth-clock-skew', env: 'FERRY_AUTH_CLOCK_SKEW', arg: 'duration', help: 'tolerance on token exp/nbf' },
  { path: 'auth.deadlineMs', flag: 'auth-deadline', env: 'FERRY_AUTH_DEADLINE', arg: 'duration', help: 'time allowed for the first frame' },
  { path: 'topics.unmatched', flag: 'topics-unmatched', env: 'FERRY_TOPICS_UNMATCHED', arg: 'mode', help: 'topics no topics.rules entry matches: open, grant (grant holders only), closed, or auto (open with the dev secret, else grant)' },
  { path: 'presence.visibility', flag: 'presence-visibility', env: 'FERRY_PRESENCE_VISIBILITY', arg: 'mode', help: 'whose presence clients see: everyone, granted (self + token claim), or auto (everyone only with the dev secret)' },
  { path: 'auth.reservedUserIds', flag: 'auth-reserved-users', env: 'FERRY_AUTH_RESERVED_USERS', arg: 'list', help: 'server-only user ids no client token may name, comma list (ids starting with $ always are)' },
  { path: 'auth.allowNoExpiry', flag: 'auth-allow-no-expiry', env: 'FERRY_AUTH_ALLOW_NO_EXPIRY', arg: 'bool', help: 'accept client tokens without exp (they never expire)' },
  { path: 'session.heartbeatMs', flag: 'heartbeat', env: 'FERRY_HEARTBEAT', arg: 'duration', help: 'server ping interval' },
  { path: 'session.idleTimeoutMs', flag: 'idle-timeout', env: 'FERRY_IDLE_TIMEOUT', arg: 'duration', help: 'close after this long without a frame' },
  { path: 'limits.maxFrameBytes', flag: 'max-frame-bytes', env: 'FERRY_MAX_FRAME_BYTES', arg: 'size', help: 'largest accepted frame' },
  { path: 'limits.connectionsPerIp', flag: 'connections-per-ip', env: 'FERRY_CONNECTIONS_PER_IP', arg: 'n', help: 'connections allowed per client IP' },
  { path: 'limits.maxConnections', flag: 'max-connections', env: 'FERRY_MAX_CONNECTIONS', arg: 'n', help: 'client connections allowed on this node (ws + tcp + wt, from accept)' },
  { path: 'limits.handshakeTimeoutMs', flag: 'handshake-timeout', env: 'FERRY_HANDSHAKE_TIMEOUT', arg: 'duration', help: 'time from accept to the end of a TLS/HTTP/QUIC handshake or a first gRPC call' },
  { path: 'limits.reservedFds', flag: 'reserved-fds', env: 'FERRY_RESERVED_FDS', arg: 'n', help: 'file descriptors kept for the node itself; sockets are refused beyond the rest' },
  { path: 'limits.outboundQueueBytes', flag: 'outbound-queue-bytes', env: 'FERRY_OUTBOUND_QUEUE_BYTES', arg: 'size', help: 'per-connection send queue cap' },
  { path: 'limits.framesPerSecond', flag: 'rate-frames', env: 'FERRY_RATE_FRAMES', arg: 'n', help: 'frames/s per connection (burst 2x)' },
  { path: 'limits.bytesPerSecond', flag: 'rate-bytes', env: 'FERRY_RATE_BYTES', arg: 'size', help: 'bytes/s per connection (burst 2x)' },
  { path: 'limits.floodToleranceSeconds', flag: 'flood-tolerance', env: 'FERRY_FLOOD_TOLERANCE', arg: 'seconds', help: 'seconds over the rate limit before 4006 FLOOD' },
  { path: 'limits.controlFramePercent', flag: 'rate-control-percent', env: 'FERRY_RATE_CONTROL_PERCENT', arg: 'percent', help: 'what a Ping, Pong or Ack costs toward the frame rate, % of a request' },
  { path: 'limits.abuseThreshold', flag: 'abuse-threshold', env: 'FERRY_ABUSE_THRESHOLD', arg: 'n', help: 'connections from one address cut for abuse within 10 s before it is refused at accept for a while (0 = never)' },
  { path: 'limits.abuseMaxBanMs', flag: 'abuse-max-ban', env: 'FERRY_ABUSE_MAX_BAN', arg: 'duration', help: 'longest refusal of an abusive address (bans start at 1 s and double)' },
  { path: 'store.maxPendingAppends', flag: 'store-max-pending', env: 'FERRY_STORE_MAX_PENDING', arg: 'n', help: 'QoS-1 messages being stored or forwarded at once on this node; more are answered 109 BUSY' },
  { path: 'session.maxInflightSends', flag: 'max-inflight-sends', env: 'FERRY_MAX_INFLIGHT_SENDS', arg: 'n', help: 'QoS-1 sends and service requests of one connection awaiting their answer; at the limit it is not read' },
  { path: 'redis.maxBacklogBytes', flag: 'redis-max-backlog', env: 'FERRY_REDIS_MAX_BACKLOG', arg: 'size', help: 'bytes for other nodes not yet written to Redis above which QoS-0 messages are shed' },
  { path: 'redis.url', flag: 'redis', env: 'FERRY_REDIS_URL', arg: 'url', help: 'join a cluster through this Redis (redis://host:port)' },
  { path: 'redis.cluster', flag: 'redis-cluster', env: 'FERRY_REDIS_CLUSTER', arg: 'list', help: 'join a cluster through Redis Cluster (host:port,...)' },
  { path: 'redis.sentinel', flag: 'redis-sentinel', env: 'FERRY_REDIS_SENTINEL', arg: 'list', help: 'join a cluster through Redis Sentinel (host:port,...; with --redis-master-name)' },
  { path: 'redis.masterName', flag: 'redis-master-name', env: 'FERRY_REDIS_MASTER_NAME', arg: 'name', help: 'the name the sentinels monitor the primary under' },
  { path: 'store.durability', flag: 'durability', env: 'FERRY_DURABILITY', arg: 'mode', help: 'when a QoS-1 send is acked: ack-after-write (Redis has it) or ack-after-replica (WAIT confirmed it on replicas)' },
  { path: 'store.replicas', flag: 'durability-replicas', env: 'FERRY_DURABILITY_REPLICAS', arg: 'n', help: 'ack-after-replica: replicas that must confirm each QoS-1 append' },
  { path: 'store.replicaTimeoutMs', flag: 'durability-timeout', env: 'FERRY_DURABILITY_TIMEOUT', arg: 'duration', help: 'ack-after-replica: longest wait for them, then 107 (retryable)' },
  { path: 'redis.keyPrefix', flag: 'redis-prefix', env: 'FERRY_REDIS_PREFIX', arg: 'prefix', help: 'prefix of every Redis key' },
  { path: 'redis.livenessTtlMs', flag: 'redis-liveness-ttl', env: 'FERRY_REDIS_LIVENESS_TTL', arg: 'duration', help: 'a node silent this long counts as dead' },
  { path: 'redis.claimIdleMs', flag: 'redis-claim-idle', env: 'FERRY_REDIS_CLAIM_IDLE', arg: 'duration', help: "idle time before a dead node's inbox entries are claimed" },
  { path: 'redis.dataCheckMs', flag: 'redis-data-check', env: 'FERRY_REDIS_DATA_CHECK', arg: 'duration', help: 'how often to check Redis for lost data, besides every reconnect (0 = only on reconnects)' },
  { path: 'redis.lossAuditSize', flag: 'redis-loss-audit-size', env: 'FERRY_REDIS_LOSS_AUDIT_SIZE', arg: 'n', help: 'recent appends remembered to count what Redis lost (0 = none)' },
  { path: 'access.role', flag: 'role', env: 'FERRY_ROLE', arg: 'role', help: 'all (listeners + access service), access (gRPC only) or message (listeners; tokens checked by --access-url)' },
  { path: 'access.apiKeys', mapKey: 'default', flag: 'access-api-key', env: 'FERRY_ACCESS_API_KEY', arg: 'key', help: 'API key "default" for gRPC callers, >= 16 characters (prefer the env var)' },
  { path: 'access.callerKey', flag: 'access-caller-key', env: 'FERRY_ACCESS_CALLER_KEY', arg: 'key', help: 'role message: API key presented to the access service' },
  { path: 'access.accessUrl', flag: 'access-url', env: 'FERRY_ACCESS_URL', arg: 'host:port', help: 'role message: the access service' },
  { path: 'access.tlsCert', flag: 'grpc-tls-cert', env: 'FERRY_GRPC_TLS_CERT', arg: 'file', help: 'gRPC TLS certificate (PEM)' },
  { path: 'access.tlsKey', flag: 'grpc-tls-key', env: 'FERRY_GRPC_TLS_KEY', arg: 'file', help: 'gRPC TLS private key (PEM)' },
  { path: 'access.clientCa', flag: 'grpc-client-ca', env: 'FERRY_GRPC_CLIENT_CA', arg: 'file', help: 'require gRPC client certificates signed by this CA (mTLS)' },
  { path: 'access.maxMessageBytes', flag: 'grpc-max-message-bytes', env: 'FERRY_GRPC_MAX_MESSAGE_BYTES', arg: 'size', help: 'largest gRPC request or response' },
  { path: 'access.sessionTokenTtlMs', flag: 'session-token-ttl', env: 'FERRY_SESSION_TOKEN_TTL', arg: 'duration', help: 'longest lifetime of a Login session token' },
  { path: 'access.validationCacheMs', flag: 'access-cache-ttl', env: 'FERRY_ACCESS_CACHE_TTL', arg: 'duration', help: 'role message: how long an accepted token is cached' },
  { path: 'access.connectionsPerIp', flag: 'grpc-connections-per-ip', env: 'FERRY_GRPC_CONNECTIONS_PER_IP', arg: 'n', help: 'gRPC sockets allowed per caller IP (own pool, apart from clients)' },
  { path: 'access.maxConnections', flag: 'grpc-max-connections', env: 'FERRY_GRPC_MAX_CONNECTIONS', arg: 'n', help: 'gRPC sockets allowed on this node' },
  { path: 'access.idleTimeoutMs', flag: 'grpc-idle-timeout', env: 'FERRY_GRPC_IDLE_TIMEOUT', arg: 'duration', help: 'close a gRPC socket after this long without a call (GOAWAY)' },
  { path: 'drain.timeoutMs', flag: 'drain-timeout', env: 'FERRY_DRAIN_TIMEOUT', arg: 'duration', help: 'how long a drain may take' },
];

/** Parsing context: relative paths resolve against `baseDir`; env and flag values arrive as strings. */
export interface ParseContext {
  baseDir: string;
  fromString: boolean;
}

/**
 * A parsed value, or what the value should have been (`an integer 0-65535`) and, for values that must not
 * be echoed, what to say instead of the value (`6 bytes`).
 */
export type ParseResult = { ok: true; value: unknown } | { ok: false; expected: string; got?: string };

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: DAY };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kib: 1024,
  mib: MIB,
  gib: 1024 * MIB,
  kb: 1000,
  mb: 1000_000,
  gb: 1000_000_000,
};

/**
 * Parses and range-checks one value for `spec`. For map leaves `raw` is one entry's value (maps are set
 * entry by entry, so FERRY_AUTH_SECRET can add the kid-less secret beside the file's). Never throws.
 */
export function parseLeaf(spec: LeafSpec, raw: unknown, ctx: ParseContext): ParseResult {
  const k = spec.kind;
  switch (k.type) {
    case 'string': {
      const expected = k.expected ?? (k.nonEmpty ? 'a non-empty string' : 'a string');
      if (typeof raw !== 'string') return { ok: false, expected };
      if ((k.nonEmpty && raw.length === 0) || (k.pattern && !k.pattern.test(raw)))
        return { ok: false, expected };
      return { ok: true, value: raw };
    }
    case 'path':
      // '' stays '' (meaning "not set", e.g. no TLS); anything else becomes absolute.
      if (typeof raw !== 'string') return { ok: false, expected: 'a file or directory path' };
      return { ok: true, value: raw === '' ? '' : absolute(raw, ctx.baseDir) };
    case 'enum':
      return typeof raw === 'string' && k.values.includes(raw)
        ? { ok: true, value: raw }
        : { ok: false, expected: `one of ${k.values.join(', ')}` };
    case 'bool':
      return parseBool(raw);
    case 'port':
      return parseInt(raw, 0, 65535, ctx.fromString);
    case 'int':
      return parseInt(raw, k.min, k.max, ctx.fromString);
    case 'duration':
      return inRange(
        parseUnits(raw, DURATION_UNITS, 'ms'),
        k.min,
        k.max,
        formatDuration,
        'a duration like 500ms, 10s, 5m or 1h (a bare number is ms)',
      );
    case 'size':
      return inRange(
        parseUnits(raw, SIZE_UNITS, 'b'),
        k.min,
        k.max,
        formatSize,
        'a size like 65536, 64KiB or 1MiB',
      );
    case 'origins':
      return parseOrigins(raw);
    case 'hosts':
      return parseHosts(raw);
    case 'idList':
      return parseIdList(raw);
    case 'map':
      if (k.entry === 'apiKey') return parseApiKey(raw);
      if (k.entry === 'route') return parseRouteTarget(raw);
      if (k.entry === 'upstreamKind') return parseUpstreamKind(raw);
      if (k.entry === 'topicRule') return parseTopicRule(raw);
      return k.entry === 'secret' ? parseSecret(raw) : parseKey(raw, ctx.baseDir);
  }
}

function absolute(p: string, baseDir: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

function parseBool(raw: unknown): ParseResult {
  if (typeof raw === 'boolean') return { ok: true, value: raw };
  const s = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (['true', '1', 'yes', 'on'].includes(s)) return { ok: true, value: true };
  if (['false', '0', 'no', 'off'].includes(s)) return { ok: true, value: false };
  return { ok: false, expected: 'true or false' };
}

function parseInt(raw: unknown, min: number, max: number, fromString: boolean): ParseResult {
  const n =
    typeof raw === 'number'
      ? raw
      : fromString && typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
        ? Number(raw)
        : NaN;
  return Number.isSafeInteger(n) && n >= min && n <= max
    ? { ok: true, value: n }
    : {
        ok: false,
        expected: max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer ${min}-${max}`,
      };
}

/** `1.5s` -> 1500; a bare number (or numeric string) is taken in `bareUnit`. NaN when unparseable. */
function parseUnits(raw: unknown, units: Record<string, number>, bareUnit: string): number {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? raw : NaN;
  if (typeof raw !== 'string') return NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  if (!m) return NaN;
  const unit = units[(m[2] || bareUnit).toLowerCase()];
  return unit === undefined ? NaN : Number(m[1]) * unit;
}

function inRange(
  n: number,
  min: number,
  max: number,
  fmt: (v: number) => string,
  expected: string,
): ParseResult {
  if (Number.isNaN(n)) return { ok: false, expected };
  const v = Math.round(n);
  if (v < min) return { ok: false, expected: `at least ${fmt(min)}` };
  if (v > max) return { ok: false, expected: `at most ${fmt(max)}` };
  return { ok: true, value: v };
}

/** Milliseconds from `500`, `"500ms"`, `"10s"`, `"5m"`, `"1h"`, `"1d"`; NaN when not a duration. */
export function parseDurationMs(raw: unknown): number {
  const n = parseUnits(raw, DURATION_UNITS, 'ms');
  return Number.isNaN(n) ? n : Math.round(n);
}

/** `90000` -> `1.5m`, for messages. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY],
    ['h', 3600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % (size / 10) === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** `65536` -> `64KiB`, for messages. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 * MIB],
    ['MiB', MIB],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

/** A JSON array, or a comma list from env and flags, with each item mapped by `item` (null = invalid). */
function parseList(raw: unknown, expected: string, item: (v: unknown) => string | null): ParseResult {
  const items = typeof raw === 'string' ? commaList(raw) : raw;
  if (!Array.isArray(items)) return { ok: false, expected };
  const out: string[] = [];
  for (const v of items) {
    const parsed = item(v);
    if (parsed === null) return { ok: false, expected };
    out.push(parsed);
  }
  return { ok: true, value: out };
}

function parseOrigins(raw: unknown): ParseResult {
  return parseList(raw, 'a list of origins like https://app.example.com', originOf);
}

function originOf(item: unknown): string | null {
  if (typeof item !== 'string') return null;
  let url: URL;
  try {
    url = new URL(item);
  } catch {
    return null;
  }
  // An Origin header is scheme://host[:port] only (RFC 6454 §6.2): anything more can never match.
  if (url.origin === 'null' || url.pathname.length > 1 || url.search || url.hash || url.username) return null;
  return url.origin;
}

/** Host names or IP literals without a port (`[::1]` and `::1` alike), or `*`. */
function parseHosts(raw: unknown): ParseResult {
  const expected = 'a list of host names or IP addresses without ports, like localhost,10.0.0.5 (or *)';
  return parseList(raw, expected, hostEntry);
}

function hostEntry(item: unknown): string | null {
  if (item === ANY_HOST) return ANY_HOST;
  // A port in the entry would be ignored when matching: refuse it rather than let it mislead.
  if (typeof item !== 'string' || /\]:|^[^:[]*:[^:]*$/.test(item)) return null;
  return normalizeHost(item);
}

/** `a, b,,c` -> ['a', 'b', 'c']: how env variables and flags spell lists. */
function commaList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The longest id an id list may hold: the largest `limits.maxUserIdLength` allowed. */
const MAX_LISTED_ID_BYTES = 1024;

/** User ids (a JSON array, or a comma list from env and flags), each a valid identifier. */
function parseIdList(raw: unknown): ParseResult {
  const expected = 'a list of user ids (docs/protocol.md §5.9: no control or format characters)';
  const items = typeof raw === 'string' ? commaList(raw) : raw;
  if (!Array.isArray(items)) return { ok: false, expected };
  for (const [i, item] of items.entries()) {
    if (typeof item !== 'string') return { ok: false, expected, got: `entry ${i}: a ${typeof item}` };
    const problem = identifierProblem(item, MAX_LISTED_ID_BYTES);
    if (problem !== null) return { ok: false, expected, got: `entry ${i} ${problem}` };
  }
  return { ok: true, value: [...new Set(items as string[])] };
}

function parseSecret(raw: unknown): ParseResult {
  const expected = `an HS256 secret of at least ${MIN_HMAC_SECRET_BYTES} bytes`;
  // RFC 7518 §3.2: the key must be at least as long as the hash output. Report the length, never the value.
  if (typeof raw !== 'string') return { ok: false, expected, got: `a ${raw === null ? 'null' : typeof raw}` };
  const bytes = Buffer.byteLength(raw);
  if (bytes >= MIN_HMAC_SECRET_BYTES) return { ok: true, value: raw };
  return { ok: false, expected, got: `${bytes} byte${bytes === 1 ? '' : 's'}` };
}

/** API keys are compared as given; 16+ characters keeps guessing out of reach. The value is never echoed. */
function parseApiKey(raw: unknown): ParseResult {
  const expected = 'an API key of 16-1024 characters without spaces';
  if (typeof raw !== 'string') return { ok: false, expected, got: `a ${raw === null ? 'null' : typeof raw}` };
  if (/^\S{16,1024}$/.test(raw)) return { ok: true, value: raw };
  return { ok: false, expected, got: `${raw.length} characters` };
}

function parseKey(raw: unknown, baseDir: string): ParseResult {
  if (typeof raw !== 'string' || raw.trim() === '') {
    return { ok: false, expected: 'PEM text or the path of a PEM or JWKS file' };
  }
  return { ok: true, value: isKeyPath(raw) ? absolute(raw.trim(), baseDir) : raw };
}
