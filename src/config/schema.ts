/**
 * Ferry's configuration, described once. Each leaf below is one setting: its type, default, range or
 * pattern, and, where it has them, its env variable, CLI flag and --help text (setting.ts builds the
 * nodes). From this one tree come the `FerryConfig` type, `defaultConfig()`, the leaf table the loader
 * (load.ts) validates files, env and flags against, and the options and help of the CLI (src/cli/).
 *
 * It is a TypeBox schema, i.e. a JSON Schema value: `default`, `minimum`/`maximum`, `pattern` and
 * `enum` are the standard keywords, the type is `Static<>` of the same object, and Ferry's own
 * annotations (how to parse durations and sizes, env and flag names) ride on each node under a symbol.
 * Parsing and the messages of invalid values stay Ferry's own (values.ts): they name the setting and
 * where its value came from, and accept `10s` or `64KiB` where JSON Schema would want a number.
 *
 * Durations are milliseconds, sizes bytes, ports 0 = any free port. Timer-driven durations stay under
 * 2^31-1 ms: Node turns larger setTimeout delays into 1 ms.
 */
import type { Static } from '@sinclair/typebox';
import {
  bool,
  defaultsOf,
  duration,
  int,
  list,
  nullableGroup,
  objectMap,
  oneOf,
  path,
  port,
  size,
  str,
  stringMap,
  tablesOf,
  Type,
  type LeafSpec,
  type SettingSpec,
} from './setting.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const HOST = { nonEmpty: true, pattern: /^\S+$/, expected: 'a host name or IP address' };
const URL_PATH = { pattern: /^\/\S*$/, expected: 'a URL path starting with "/"' };
const API_KEY = { pattern: /^$|^\S{16,1024}$/, expected: '16-1024 characters without spaces' };
const HOST_LIST = /^$|^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/;

/** Who may do one action on a topic (docs/security.md, "Topics"). */
const TopicAccessSchema = Type.Union([
  Type.Literal('any'),
  Type.Literal('grant'),
  Type.Literal('subscriber'),
  Type.Literal('none'),
]);
export type TopicAccess = Static<typeof TopicAccessSchema>;

/** One entry of `topics.rules`: the access level of each action (`subscriber` is for publish only). */
const TopicRule = Type.Object({
  subscribe: TopicAccessSchema,
  publish: TopicAccessSchema,
  /** Replay of retained messages at Subscribe (`since_seq` > 0 or `from_start`). */
  history: TopicAccessSchema,
});
export type TopicRule = Static<typeof TopicRule>;

/** The configuration schema: every setting of a node, with its default. */
// prettier-ignore
export const FERRY_CONFIG_SCHEMA = Type.Object({
  nodeId: str('', { pattern: /^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, expected: 'up to 64 of A-Z a-z 0-9 . _ -' }, { flag: 'node-id', env: 'FERRY_NODE_ID', arg: 'id', help: 'node id ("" = <hostname>-<random>)' }),
  host: str('0.0.0.0', HOST, { flag: 'host', env: 'FERRY_HOST', arg: 'addr', help: 'address the client listeners bind' }),
  /** Directory for generated state (dev keys, dev certificates). */
  dataDir: path('.ferry', { flag: 'data-dir', env: 'FERRY_DATA_DIR', arg: 'dir', help: 'directory for dev keys and certs' }),
  log: Type.Object({
    level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info', { flag: 'log-level', env: 'FERRY_LOG_LEVEL', arg: 'level', help: 'trace..fatal or silent' }),
    pretty: bool(false),
  }),
  ws: Type.Object({
    enabled: bool(true, { flag: 'ws', env: 'FERRY_WS_ENABLED', negate: true, help: 'disable the WebSocket listener' }),
    port: port(8080, { flag: 'ws-port', env: 'FERRY_WS_PORT', arg: 'port', help: 'WebSocket port (0 = any free)' }),
    path: str('/ws', URL_PATH),
    /**
     * Allowed Origin header values for WebSocket and WebTransport (one list: a browser app uses both);
     * empty = allow any (and requests without Origin).
     */
    allowedOrigins: list('origins', [], { flag: 'ws-origins', env: 'FERRY_WS_ORIGINS', arg: 'list', help: 'allowed Origins for WebSocket and WebTransport, comma list (empty = any)' }),
    tls: nullableGroup({
      cert: path('', { flag: 'ws-tls-cert', env: 'FERRY_WS_TLS_CERT', arg: 'file', help: 'WebSocket TLS certificate (PEM)' }),
      key: path('', { flag: 'ws-tls-key', env: 'FERRY_WS_TLS_KEY', arg: 'file', help: 'WebSocket TLS private key (PEM)' }),
    }),
  }),
  tcp: Type.Object({
    enabled: bool(true, { flag: 'tcp', env: 'FERRY_TCP_ENABLED', negate: true, help: 'disable the TCP listener' }),
    port: port(7000, { flag: 'tcp-port', env: 'FERRY_TCP_PORT', arg: 'port', help: 'raw TCP port (0 = any free)' }),
    tls: nullableGroup({
      cert: path('', { flag: 'tcp-tls-cert', env: 'FERRY_TCP_TLS_CERT', arg: 'file', help: 'TCP TLS certificate (PEM)' }),
      key: path('', { flag: 'tcp-tls-key', env: 'FERRY_TCP_TLS_KEY', arg: 'file', help: 'TCP TLS private key (PEM)' }),
    }),
  }),
  wt: Type.Object({
    enabled: bool(true, { flag: 'wt', env: 'FERRY_WT_ENABLED', negate: true, help: 'disable the WebTransport listener' }),
    /** UDP port (QUIC). */
    port: port(4433, { flag: 'wt-port', env: 'FERRY_WT_PORT', arg: 'port', help: 'WebTransport UDP port (0 = any free)' }),
    path: str('/wt', URL_PATH, { flag: 'wt-path', env: 'FERRY_WT_PATH', arg: 'path', help: 'WebTransport URL path' }),
    /** CA-issued certificate and key (PEM paths); both '' = rotating dev certificates in `dataDir`/certs. */
    cert: path('', { flag: 'wt-cert', env: 'FERRY_WT_CERT', arg: 'file', help: 'WebTransport CA-issued certificate (PEM; none = rotating dev certificates)' }),
    key: path('', { flag: 'wt-key', env: 'FERRY_WT_KEY', arg: 'file', help: 'WebTransport private key (PEM)' }),
  }),
  grpc: Type.Object({
    enabled: bool(true, { flag: 'grpc', env: 'FERRY_GRPC_ENABLED', negate: true, help: 'disable the gRPC service' }),
    port: port(50051, { flag: 'grpc-port', env: 'FERRY_GRPC_PORT', arg: 'port', help: 'gRPC access gateway port' }),
  }),
  /**
   * `demo`: the dev-only /demo page's token endpoint (POST /demo/token mints a token for any user).
   * 'auto' = on only while the node signs with its generated dev secret (no auth keys configured);
   * 'on' = also with a configured HS256 secret (staging, tests); 'off' = never.
   * Either way only while `host` is a loopback address (docs/security.md, "The admin plane").
   */
  admin: Type.Object({
    enabled: bool(true, { flag: 'admin', env: 'FERRY_ADMIN_ENABLED', negate: true, help: 'disable the admin port' }),
    host: str('127.0.0.1', HOST, { flag: 'admin-host', env: 'FERRY_ADMIN_HOST', arg: 'addr', help: 'address the admin port binds' }),
    port: port(9090, { flag: 'admin-port', env: 'FERRY_ADMIN_PORT', arg: 'port', help: 'admin HTTP port' }),
    demo: oneOf(['auto', 'on', 'off'], 'auto', { flag: 'admin-demo', env: 'FERRY_ADMIN_DEMO', arg: 'mode', help: 'demo token endpoint, on a loopback --admin-host only: auto (only with the dev secret), on, off' }),
    /** Bearer key of mutating routes and /stats; '' = generated in `dataDir`/admin/dev-secret. */
    apiKey: str('', API_KEY, { flag: 'admin-key', env: 'FERRY_ADMIN_KEY', arg: 'key', help: 'bearer key of mutating admin routes and /stats, >= 16 characters (unset = generated in <data-dir>/admin/dev-secret; prefer the env var)', secret: true }),
    /** `Host` names answered (any port) besides the bound address; `*` = any. */
    allowedHosts: list('hosts', ['localhost','127.0.0.1','::1'], { flag: 'admin-allowed-hosts', env: 'FERRY_ADMIN_ALLOWED_HOSTS', arg: 'list', help: 'Host names the admin port answers (any port), comma list, * = any; the bound address is added' }),
    /** /metrics needs the admin key as well. */
    metricsAuth: bool(false, { flag: 'admin-metrics-auth', env: 'FERRY_ADMIN_METRICS_AUTH', arg: 'bool', help: '/metrics needs the admin key too' }),
    /** Largest request body a mutating route reads, and how long it may take to arrive. */
    maxBodyBytes: size(16_384, 256, 16 * MIB, { flag: 'admin-max-body-bytes', env: 'FERRY_ADMIN_MAX_BODY_BYTES', arg: 'size', help: 'largest admin request body' }),
    bodyTimeoutMs: duration(10_000, 100, 600_000, { flag: 'admin-body-timeout', env: 'FERRY_ADMIN_BODY_TIMEOUT', arg: 'duration', help: 'time allowed for an admin request body' }),
  }),
  auth: Type.Object({
    /** Shared secrets for HS256, by key id ("" = no kid). */
    hmacSecrets: stringMap('secret', {}, { flag: 'auth-secret', env: 'FERRY_AUTH_SECRET', arg: 'secret', mapKey: '', help: 'HS256 secret without kid, >= 32 bytes (prefer the env var: flags show in ps)', secret: true }),
    /** PEM public keys (RS256/ES256) or JWKS files, by key id. */
    publicKeys: stringMap('key', {}),
    /** Optional issuer and audience to require. */
    issuer: str('', {}, { flag: 'auth-issuer', env: 'FERRY_AUTH_ISSUER', arg: 'iss', help: 'required token issuer ("" = any)' }),
    audience: str('', {}, { flag: 'auth-audience', env: 'FERRY_AUTH_AUDIENCE', arg: 'aud', help: 'required token audience ("" = any)' }),
    clockSkewMs: duration(30_000, 0, HOUR, { flag: 'auth-clock-skew', env: 'FERRY_AUTH_CLOCK_SKEW', arg: 'duration', help: 'tolerance on token exp/nbf' }),
    /** Deadline for the first (Authenticate) frame. */
    deadlineMs: duration(10_000, 100, 600_000, { flag: 'auth-deadline', env: 'FERRY_AUTH_DEADLINE', arg: 'duration', help: 'time allowed for the first frame' }),
    /** What happens when a device connects twice: replace the older connection. */
    duplicateDevice: oneOf(['replace-old', 'reject-new'], 'replace-old'),
    /** Server-only user ids (besides every id starting with `$`): no client token may name one. */
    reservedUserIds: list('idList', ['system'], { flag: 'auth-reserved-users', env: 'FERRY_AUTH_RESERVED_USERS', arg: 'list', help: 'server-only user ids no client token may name, comma list (ids starting with $ always are)' }),
    /** Accept client tokens without `exp` (they would never expire); false = refuse them with 4504. */
    allowNoExpiry: bool(false, { flag: 'auth-allow-no-expiry', env: 'FERRY_AUTH_ALLOW_NO_EXPIRY', arg: 'bool', help: 'accept client tokens without exp (they never expire)' }),
  }),
  limits: Type.Object({
    maxFrameBytes: size(65_536, 256, 64 * MIB, { flag: 'max-frame-bytes', env: 'FERRY_MAX_FRAME_BYTES', arg: 'size', help: 'largest accepted frame' }),
    /** Per connection, token bucket: sustained frames/s and bytes/s (burst = 2x). */
    framesPerSecond: int(200, 1, 1_000_000, { flag: 'rate-frames', env: 'FERRY_RATE_FRAMES', arg: 'n', help: 'frames/s per connection (burst 2x)' }),
    bytesPerSecond: size(MIB, 1, 1 * GIB, { flag: 'rate-bytes', env: 'FERRY_RATE_BYTES', arg: 'size', help: 'bytes/s per connection (burst 2x)' }),
    /** Consecutive seconds over the limit before the connection is cut with 4006 FLOOD. */
    floodToleranceSeconds: int(3, 1, 3600, { flag: 'flood-tolerance', env: 'FERRY_FLOOD_TOLERANCE', arg: 'seconds', help: 'seconds over the rate limit before 4006 FLOOD' }),
    /** What a Ping, Pong or Ack costs toward framesPerSecond, in percent of a request frame. */
    controlFramePercent: int(25, 1, 100, { flag: 'rate-control-percent', env: 'FERRY_RATE_CONTROL_PERCENT', arg: 'percent', help: 'what a Ping, Pong or Ack costs toward the frame rate, % of a request' }),
    /**
     * Connections from one address cut for abuse (bad frames, protocol violations, refused tokens,
     * missed deadlines, floods) within 10 s before new ones from it are refused at accept for a while
     * (1 s, doubling while it goes on, up to `abuseMaxBanMs`); 0 = never.
     */
    abuseThreshold: int(20, 0, 1_000_000, { flag: 'abuse-threshold', env: 'FERRY_ABUSE_THRESHOLD', arg: 'n', help: 'connections from one address cut for abuse within 10 s before it is refused at accept for a while (0 = never)' }),
    abuseMaxBanMs: duration(60_000, 1000, DAY, { flag: 'abuse-max-ban', env: 'FERRY_ABUSE_MAX_BAN', arg: 'duration', help: 'longest refusal of an abusive address (bans start at 1 s and double)' }),
    /**
     * Client sockets (ws, tcp, wt) per IP address and per node, counted from accept (TLS handshakes,
     * HTTP requests and upgrades, QUIC handshakes included), not only sessions.
     */
    connectionsPerIp: int(20_000, 1, 10_000_000, { flag: 'connections-per-ip', env: 'FERRY_CONNECTIONS_PER_IP', arg: 'n', help: 'connections allowed per client IP' }),
    maxConnections: int(100_000, 1, 100_000_000, { flag: 'max-connections', env: 'FERRY_MAX_CONNECTIONS', arg: 'n', help: 'client connections allowed on this node (ws + tcp + wt, from accept)' }),
    /**
     * Deadline of every transport handshake before the first frame, from accept: TLS, the WebSocket
     * HTTP request and upgrade, the QUIC handshake and WebTransport CONNECT, a gRPC socket's first call.
     */
    handshakeTimeoutMs: duration(10_000, 100, 600_000, { flag: 'handshake-timeout', env: 'FERRY_HANDSHAKE_TIMEOUT', arg: 'duration', help: 'time from accept to the end of a TLS/HTTP/QUIC handshake or a first gRPC call' }),
    /**
     * File descriptors kept for the node's own work (Redis, logs, admin, files): sockets are refused
     * once the open-file limit minus this many are in use.
     */
    reservedFds: int(256, 0, 1_000_000, { flag: 'reserved-fds', env: 'FERRY_RESERVED_FDS', arg: 'n', help: 'file descriptors kept for the node itself; sockets are refused beyond the rest' }),
    /** Per-connection outbound cap (queued + transport-buffered bytes). */
    outboundQueueBytes: size(MIB, 1024, 1 * GIB, { flag: 'outbound-queue-bytes', env: 'FERRY_OUTBOUND_QUEUE_BYTES', arg: 'size', help: 'per-connection send queue cap' }),
    maxSubscriptionsPerConnection: int(128, 0, 100_000),
    maxTopicLength: int(256, 1, 4096),
    maxUserIdLength: int(128, 1, 1024),
  }),
  /**
   * Topic permissions (docs/security.md): rules by topic pattern (`*` wildcard, `{user}` = the client's
   * user id; the most specific match decides) and the rule of topics none matches: 'open' (anyone
   * subscribes, publishes and reads history), 'grant' (only users holding a grant for the topic),
   * 'closed' (nobody), or 'auto' = open while the node signs with its generated development secret,
   * grant once auth keys are configured.
   */
  topics: Type.Object({
    rules: objectMap('topicRule', TopicRule, {
      // Broadcast{everyone} publishes to $all: every client may listen and catch up.
      $all: { subscribe: 'any', publish: 'none', history: 'any' },
    }),
    unmatched: oneOf(['auto', 'open', 'grant', 'closed'], 'auto', { flag: 'topics-unmatched', env: 'FERRY_TOPICS_UNMATCHED', arg: 'mode', help: 'topics no topics.rules entry matches: open, grant (grant holders only), closed, or auto (open with the dev secret, else grant)' }),
  }),
  /**
   * Whose presence a client may query: 'everyone', 'granted' (itself and the user ids its token's
   * `presence` claim lists), or 'auto' = everyone with the development secret, granted otherwise.
   */
  presence: Type.Object({
    visibility: oneOf(['auto', 'everyone', 'granted'], 'auto', { flag: 'presence-visibility', env: 'FERRY_PRESENCE_VISIBILITY', arg: 'mode', help: 'whose presence clients see: everyone, granted (self + token claim), or auto (everyone only with the dev secret)' }),
  }),
  session: Type.Object({
    heartbeatMs: duration(25_000, 100, HOUR, { flag: 'heartbeat', env: 'FERRY_HEARTBEAT', arg: 'duration', help: 'server ping interval' }),
    idleTimeoutMs: duration(60_000, 1000, DAY, { flag: 'idle-timeout', env: 'FERRY_IDLE_TIMEOUT', arg: 'duration', help: 'close after this long without a frame' }),
    /** Max QoS-1 deliveries in flight (sent, not acked) per connection before replay waits. */
    maxInflight: int(256, 1, 1_000_000),
    /**
     * Max QoS-1 Send/Publish and ServiceRequest frames of one connection waiting for their answer;
     * at the limit the session stops reading that connection until one is answered.
     */
    maxInflightSends: int(32, 1, 100_000, { flag: 'max-inflight-sends', env: 'FERRY_MAX_INFLIGHT_SENDS', arg: 'n', help: 'QoS-1 sends and service requests of one connection awaiting their answer; at the limit it is not read' }),
  }),
  store: Type.Object({
    /** Per user / per topic log length cap. */
    maxMessagesPerLog: int(1000, 1, 100_000_000),
    /** Age after which stored messages are dropped. */
    retentionMs: duration(DAY, 1000, 24 * DAY),
    /** How long a client message id is remembered for dedup. */
    dedupWindowMs: duration(600_000, 0, 24 * DAY),
    /** Global cap on stored bytes; the oldest messages go first. */
    maxBytes: size(256 * MIB, 1024, 1024 * GIB),
    /**
     * QoS-1 messages this node may have between the start of their append and the end of their
     * forward; beyond it a new QoS-1 message is answered 109 BUSY (with retry_after_ms).
     */
    maxPendingAppends: int(4096, 1, 10_000_000, { flag: 'store-max-pending', env: 'FERRY_STORE_MAX_PENDING', arg: 'n', help: 'QoS-1 messages being stored or forwarded at once on this node; more are answered 109 BUSY' }),
    /**
     * When a QoS-1 SendAck goes out (docs/cluster.md, "Durability modes"): 'ack-after-write' once Redis
     * (or the in-memory store) has the message; 'ack-after-replica' once `WAIT replicas
     * replicaTimeoutMs` has confirmed it on that many Redis replicas (cluster mode only).
     */
    durability: oneOf(['ack-after-write', 'ack-after-replica'], 'ack-after-write', { flag: 'durability', env: 'FERRY_DURABILITY', arg: 'mode', help: 'when a QoS-1 send is acked: ack-after-write (Redis has it) or ack-after-replica (WAIT confirmed it on replicas)' }),
    /** ack-after-replica: replicas that must confirm each append (WAIT's numreplicas). */
    replicas: int(1, 1, 100, { flag: 'durability-replicas', env: 'FERRY_DURABILITY_REPLICAS', arg: 'n', help: 'ack-after-replica: replicas that must confirm each QoS-1 append' }),
    /** ack-after-replica: longest wait for them; then 107 UNAVAILABLE (retryable), the message stays stored. */
    replicaTimeoutMs: duration(1000, 10, 60_000, { flag: 'durability-timeout', env: 'FERRY_DURABILITY_TIMEOUT', arg: 'duration', help: 'ack-after-replica: longest wait for them, then 107 (retryable)' }),
  }),
  /**
   * Cluster mode (docs/cluster.md): set `url` (one Redis) or `cluster` (Redis Cluster seed
   * nodes) and the node forwards through Redis Streams and keeps presence and the QoS-1 store in Redis.
   * Both empty = a single node with the in-process bus and the in-memory store.
   */
  redis: Type.Object({
    /** `redis://[user:pass@]host:port[/db]` (or `rediss://`); '' = not set. */
    url: str('', { pattern: /^$|^rediss?:\/\/[^\s/]+(\/\d+)?$/, expected: 'a URL like redis://127.0.0.1:6379' }, { flag: 'redis', env: 'FERRY_REDIS_URL', arg: 'url', help: 'join a cluster through this Redis (redis://host:port)' }),
    /** Redis Cluster seed nodes, `host:port,host:port`; '' = not set. */
    cluster: str('', { pattern: HOST_LIST, expected: 'a list like 10.0.0.1:7000,10.0.0.2:7000' }, { flag: 'redis-cluster', env: 'FERRY_REDIS_CLUSTER', arg: 'list', help: 'join a cluster through Redis Cluster (host:port,...)' }),
    /** Redis Sentinel addresses, `host:port,host:port`, that monitor `masterName`; '' = not set. */
    sentinel: str('', { pattern: HOST_LIST, expected: 'a list like 10.0.0.1:26379,10.0.0.2:26379' }, { flag: 'redis-sentinel', env: 'FERRY_REDIS_SENTINEL', arg: 'list', help: 'join a cluster through Redis Sentinel (host:port,...; with --redis-master-name)' }),
    /** With `sentinel`: the name the sentinels monitor the primary under (`sentinel monitor <name> ...`). */
    masterName: str('', { pattern: /^$|^[A-Za-z0-9._:-]{1,64}$/, expected: '1-64 of A-Z a-z 0-9 . _ : -' }, { flag: 'redis-master-name', env: 'FERRY_REDIS_MASTER_NAME', arg: 'name', help: 'the name the sentinels monitor the primary under' }),
    /** Prefix of every key Ferry writes, so several deployments can share one Redis. */
    keyPrefix: str('ferry', { pattern: /^[A-Za-z0-9._-]{1,32}$/, expected: '1-32 of A-Z a-z 0-9 . _ -' }, { flag: 'redis-prefix', env: 'FERRY_REDIS_PREFIX', arg: 'prefix', help: 'prefix of every Redis key' }),
    /** TTL of this node's liveness key; a node whose key expired counts as dead (refreshed every TTL/3). */
    livenessTtlMs: duration(10_000, 1000, HOUR, { flag: 'redis-liveness-ttl', env: 'FERRY_REDIS_LIVENESS_TTL', arg: 'duration', help: 'a node silent this long counts as dead' }),
    /** TTL of a user's presence key (refreshed every TTL/3 while the user has a session here). */
    presenceTtlMs: duration(90_000, 3000, DAY),
    /** How long a presence look-up is cached for QoS-0 routing (dropped early on presence events). */
    presenceCacheMs: duration(10_000, 0, 60_000),
    /** How long a dead node's inbox entry must have been idle before a live node claims it (XAUTOCLAIM). */
    claimIdleMs: duration(5000, 100, HOUR, { flag: 'redis-claim-idle', env: 'FERRY_REDIS_CLAIM_IDLE', arg: 'duration', help: 'idle time before a dead node\'s inbox entries are claimed' }),
    /** Stream entries read per XREADGROUP call. */
    readBatch: int(256, 1, 10_000),
    /**
     * Optional safety cap (0 = none, the default): approximate MAXLEN of the bus streams, which are
     * otherwise trimmed only behind every consumer group. A cap can drop entries a lagging group has
     * not read, so it is for operators who prefer bounded Redis memory to that guarantee.
     */
    streamMaxLen: int(0, 0, 1_000_000_000),
    /**
     * How often the data guard checks each Redis shard's data marker and run_id (docs/cluster.md,
     * "When Redis loses data"), besides every connection change; 0 = only on connection changes.
     */
    dataCheckMs: duration(5000, 0, HOUR, { flag: 'redis-data-check', env: 'FERRY_REDIS_DATA_CHECK', arg: 'duration', help: 'how often to check Redis for lost data, besides every reconnect (0 = only on reconnects)' }),
    /** Appends each node remembers for the audit after Redis lost data (0 = none: no message count). */
    lossAuditSize: int(100_000, 0, 10_000_000, { flag: 'redis-loss-audit-size', env: 'FERRY_REDIS_LOSS_AUDIT_SIZE', arg: 'n', help: 'recent appends remembered to count what Redis lost (0 = none)' }),
    /** Bytes for other nodes not yet written to Redis above which QoS-0 messages are shed (counted). */
    maxBacklogBytes: size(16 * MIB, 65_536, 1 * GIB, { flag: 'redis-max-backlog', env: 'FERRY_REDIS_MAX_BACKLOG', arg: 'size', help: 'bytes for other nodes not yet written to Redis above which QoS-0 messages are shed' }),
  }),
  /**
   * The gRPC access gateway (docs/access-api.md). The port is `grpc.port`.
   * Roles: 'all' = client listeners and the access service in one process; 'access' = only the access
   * service (no client listeners); 'message' = only client listeners, validating tokens through the
   * access service at `accessUrl` (no gRPC server).
   */
  access: Type.Object({
    role: oneOf(['all', 'access', 'message'], 'all', { flag: 'role', env: 'FERRY_ROLE', arg: 'role', help: 'all (listeners + access service), access (gRPC only) or message (listeners; tokens checked by --access-url)' }),
    /** API keys callers present, by name (the name is logged and becomes the push sender's device). */
    apiKeys: stringMap('apiKey', {}, { flag: 'access-api-key', env: 'FERRY_ACCESS_API_KEY', arg: 'key', mapKey: 'default', help: 'API key "default" for gRPC callers, >= 16 characters (prefer the env var)', secret: true }),
    /** Key a message node presents to the access service; '' = `apiKeys.default`, else the dev key. */
    callerKey: str('', API_KEY, { flag: 'access-caller-key', env: 'FERRY_ACCESS_CALLER_KEY', arg: 'key', help: 'role message: API key presented to the access service', secret: true }),
    /** `host:port` of the access service, for role 'message'. */
    accessUrl: str('', { pattern: /^$|^[^\s/]+:\d{1,5}$/, expected: 'host:port of the access service' }, { flag: 'access-url', env: 'FERRY_ACCESS_URL', arg: 'host:port', help: 'role message: the access service' }),
    /** TLS for the gRPC port (PEM paths, '' = plaintext); `clientCa` set = client certificates required. */
    tlsCert: path('', { flag: 'grpc-tls-cert', env: 'FERRY_GRPC_TLS_CERT', arg: 'file', help: 'gRPC TLS certificate (PEM)' }),
    tlsKey: path('', { flag: 'grpc-tls-key', env: 'FERRY_GRPC_TLS_KEY', arg: 'file', help: 'gRPC TLS private key (PEM)' }),
    clientCa: path('', { flag: 'grpc-client-ca', env: 'FERRY_GRPC_CLIENT_CA', arg: 'file', help: 'require gRPC client certificates signed by this CA (mTLS)' }),
    maxMessageBytes: size(4 * MIB, 1024, 256 * MIB, { flag: 'grpc-max-message-bytes', env: 'FERRY_GRPC_MAX_MESSAGE_BYTES', arg: 'size', help: 'largest gRPC request or response' }),
    /** Server keepalive pings, and how long to wait for their answer. */
    keepaliveMs: duration(30_000, 1000, DAY),
    keepaliveTimeoutMs: duration(10_000, 100, HOUR),
    /** Longest (and default) lifetime of a Login session token. */
    sessionTokenTtlMs: duration(DAY, 60_000, 365 * DAY, { flag: 'session-token-ttl', env: 'FERRY_SESSION_TOKEN_TTL', arg: 'duration', help: 'longest lifetime of a Login session token' }),
    /** Role 'message': how long an accepted token is trusted without asking the access service again. */
    validationCacheMs: duration(30_000, 0, HOUR, { flag: 'access-cache-ttl', env: 'FERRY_ACCESS_CACHE_TTL', arg: 'duration', help: 'role message: how long an accepted token is cached' }),
    /**
     * gRPC sockets per IP address and per node, counted from accept: a pool of their own, apart from
     * the client caps, so business systems behind one NAT are not refused for client floods.
     */
    connectionsPerIp: int(256, 1, 10_000_000, { flag: 'grpc-connections-per-ip', env: 'FERRY_GRPC_CONNECTIONS_PER_IP', arg: 'n', help: 'gRPC sockets allowed per caller IP (own pool, apart from clients)' }),
    maxConnections: int(4096, 1, 100_000_000, { flag: 'grpc-max-connections', env: 'FERRY_GRPC_MAX_CONNECTIONS', arg: 'n', help: 'gRPC sockets allowed on this node' }),
    /** A gRPC socket without a call for this long is closed with GOAWAY (the client reconnects on use). */
    idleTimeoutMs: duration(300_000, 1000, DAY, { flag: 'grpc-idle-timeout', env: 'FERRY_GRPC_IDLE_TIMEOUT', arg: 'duration', help: 'close a gRPC socket after this long without a call (GOAWAY)' }),
  }),
  /**
   * Client ServiceRequest types -> business service (docs/upstreams.md): a type or range
   * ("1000-1999") -> "service" or "service:priority" (critical, high, normal, low; default normal).
   * The service "gateway" is built in (echo). Reloadable at run time (SIGHUP, POST /routes/reload).
   */
  routes: stringMap('route', {}),
  /** How routed messages reach services (docs/upstreams.md). */
  upstream: Type.Object({
    /**
     * Service name -> kind: "grpc" (instances connect to Upstream.Connect), "redis" (a stream) or
     * "amqp" (a RabbitMQ queue, `upstream.amqp.url`).
     */
    services: stringMap('upstreamKind', {}),
    /** A batch leaves with this many messages, or when its oldest has waited `batchMs`. */
    batchSize: int(64, 1, 10_000),
    batchMs: duration(2, 0, 60_000),
    /** Bound of each priority's queue, per service; a full queue answers 109 BUSY (retryable). */
    queueCritical: int(10_000, 1, 10_000_000),
    queueHigh: int(10_000, 1, 10_000_000),
    queueNormal: int(10_000, 1, 10_000_000),
    queueLow: int(5000, 1, 10_000_000),
    /** Batches outstanding per service before messages wait in the queue. */
    maxInflightBatches: int(8, 1, 10_000),
    /** Delivery attempts before a message fails with 107 UNAVAILABLE; backoff doubles from base to max. */
    maxAttempts: int(5, 1, 100),
    retryBaseMs: duration(100, 1, 600_000),
    retryMaxMs: duration(5000, 1, HOUR),
    /**
     * How long a gRPC instance has to ack a batch before it is sent again (to the ring's owner), and
     * how long the AMQP broker has to confirm a publish before it is retried.
     */
    ackTimeoutMs: duration(5000, 10, HOUR),
    /** A repeated (user, msg_id) within this window is answered as a duplicate, not forwarded. */
    dedupWindowMs: duration(600_000, 0, DAY),
    /** The RabbitMQ broker of `amqp` services (docs/upstreams.md, "AMQP upstream"). */
    amqp: Type.Object({
      /** `amqp://[user:pass@]host[:port][/vhost]` (or `amqps://`); '' = no amqp services. */
      url: str('', { pattern: /^$|^amqps?:\/\/[^\s/]+(\/\S*)?$/, expected: 'a URL like amqp://guest:guest@127.0.0.1:5672' }, { flag: 'amqp-url', env: 'FERRY_AMQP_URL', arg: 'url', help: 'RabbitMQ broker of amqp upstream services (amqp://user:pass@host:port/vhost)', secret: true }),
      /** Prefix of the queues Ferry declares: `<prefix>.svc.<service>` and `<prefix>.replies`. */
      prefix: str('ferry', { pattern: /^[A-Za-z0-9._-]{1,32}$/, expected: '1-32 of A-Z a-z 0-9 . _ -' }, { flag: 'amqp-prefix', env: 'FERRY_AMQP_PREFIX', arg: 'prefix', help: 'prefix of the RabbitMQ queues Ferry declares' }),
      /**
       * `x-max-length` of each service queue with `x-overflow: reject-publish` (0 = no cap): at the
       * cap the broker refuses publishes and clients get 109 BUSY. Part of the queue's declaration:
       * changing it needs the queue deleted (RabbitMQ refuses a redeclaration with other arguments).
       */
      queueMaxLength: int(0, 0, 1_000_000_000, { flag: 'amqp-queue-max-length', env: 'FERRY_AMQP_QUEUE_MAX_LENGTH', arg: 'n', help: 'cap of each amqp service queue, then 109 BUSY (0 = none)' }),
      /** Replies taken from `<prefix>.replies` at once by this node (channel prefetch). */
      replyPrefetch: int(64, 1, 65_535),
    }),
  }),
  drain: Type.Object({
    /** On SIGTERM, how long to wait for queues to flush before closing anyway. */
    timeoutMs: duration(10_000, 0, HOUR, { flag: 'drain-timeout', env: 'FERRY_DRAIN_TIMEOUT', arg: 'duration', help: 'how long a drain may take' }),
    /** Advised delay before clients reconnect after go-away. */
    reconnectDelayMs: duration(1000, 0, HOUR),
  }),
});

/** The shape of Ferry's configuration: what every layer reads. Loading and validation: load.ts. */
export type FerryConfig = Static<typeof FERRY_CONFIG_SCHEMA>;

/** The embedded defaults: `ferry start` with no configuration runs on exactly these. */
export function defaultConfig(): FerryConfig {
  return defaultsOf(FERRY_CONFIG_SCHEMA);
}

const TABLES = tablesOf(FERRY_CONFIG_SCHEMA);

/** Every leaf of FerryConfig by dotted path (`ws.port`): how it parses, and its env, flag and help. */
export const LEAVES: Readonly<Record<string, LeafSpec>> = TABLES.leaves;

/** Objects in the file that may be `null` (meaning "off") instead of holding their leaves. */
export const NULLABLE_GROUPS: ReadonlySet<string> = TABLES.nullableGroups;

/** Every setting with an env variable or a flag, in schema order (the order of --help). */
export const SETTINGS: readonly SettingSpec[] = TABLES.settings;
