/** Who may do one action on a topic (docs/security.md, "Topics"). */
export type TopicAccess = 'any' | 'grant' | 'subscriber' | 'none';

/** One entry of `topics.rules`: the access level of each action (`subscriber` is for publish only). */
export interface TopicRule {
  subscribe: TopicAccess;
  publish: TopicAccess;
  /** Replay of retained messages at Subscribe (`since_seq` > 0 or `from_start`). */
  history: TopicAccess;
}

/**
 * The shape of Ferry's configuration and its embedded defaults. Loading (file < env < flags) and
 * validation live in config.ts; this file is only the contract every layer reads.
 * Durations are milliseconds, sizes bytes, ports 0 = any free port.
 */
export interface FerryConfig {
  nodeId: string;
  host: string;
  /** Directory for generated state (dev keys, dev certificates). */
  dataDir: string;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'; pretty: boolean };

  ws: {
    enabled: boolean;
    port: number;
    path: string;
    /**
     * Allowed Origin header values for WebSocket and WebTransport (one list: a browser app uses both);
     * empty = allow any (and requests without Origin).
     */
    allowedOrigins: string[];
    tls: { cert: string; key: string } | null;
  };
  tcp: { enabled: boolean; port: number; tls: { cert: string; key: string } | null };
  wt: {
    enabled: boolean;
    /** UDP port (QUIC). */
    port: number;
    path: string;
    /** CA-issued certificate and key (PEM paths); both '' = rotating dev certificates in `dataDir`/certs. */
    cert: string;
    key: string;
  };
  grpc: { enabled: boolean; port: number };
  /**
   * `demo`: the dev-only /demo page's token endpoint (POST /demo/token mints a token for any user).
   * 'auto' = on only while the node signs with its generated dev secret (no auth keys configured);
   * 'on' = also with a configured HS256 secret (staging, tests); 'off' = never.
   * Either way only while `host` is a loopback address (docs/security.md, "The admin plane").
   */
  admin: {
    enabled: boolean;
    host: string;
    port: number;
    demo: 'auto' | 'on' | 'off';
    /** Bearer key of mutating routes and /stats; '' = generated in `dataDir`/admin/dev-secret. */
    apiKey: string;
    /** `Host` names answered (any port) besides the bound address; `*` = any. */
    allowedHosts: string[];
    /** /metrics needs the admin key as well. */
    metricsAuth: boolean;
    /** Largest request body a mutating route reads, and how long it may take to arrive. */
    maxBodyBytes: number;
    bodyTimeoutMs: number;
  };

  auth: {
    /** Shared secrets for HS256, by key id ("" = no kid). */
    hmacSecrets: Record<string, string>;
    /** PEM public keys (RS256/ES256) or JWKS files, by key id. */
    publicKeys: Record<string, string>;
    /** Optional issuer and audience to require. */
    issuer: string;
    audience: string;
    clockSkewMs: number;
    /** Deadline for the first (Authenticate) frame. */
    deadlineMs: number;
    /** What happens when a device connects twice: replace the older connection. */
    duplicateDevice: 'replace-old' | 'reject-new';
    /** Server-only user ids (besides every id starting with `$`): no client token may name one. */
    reservedUserIds: string[];
    /** Accept client tokens without `exp` (they would never expire); false = refuse them with 4504. */
    allowNoExpiry: boolean;
  };

  limits: {
    maxFrameBytes: number;
    /** Per connection, token bucket: sustained frames/s and bytes/s (burst = 2x). */
    framesPerSecond: number;
    bytesPerSecond: number;
    /** Consecutive seconds over the limit before the connection is cut with 4006 FLOOD. */
    floodToleranceSeconds: number;
    /** What a Ping, Pong or Ack costs toward framesPerSecond, in percent of a request frame. */
    controlFramePercent: number;
    /**
     * Connections from one address cut for abuse (bad frames, protocol violations, refused tokens,
     * missed deadlines, floods) within 10 s before new ones from it are refused at accept for a while
     * (1 s, doubling while it goes on, up to `abuseMaxBanMs`); 0 = never.
     */
    abuseThreshold: number;
    abuseMaxBanMs: number;
    /**
     * Client sockets (ws, tcp, wt) per IP address and per node, counted from accept (TLS handshakes,
     * HTTP requests and upgrades, QUIC handshakes included), not only sessions.
     */
    connectionsPerIp: number;
    maxConnections: number;
    /**
     * Deadline of every transport handshake before the first frame, from accept: TLS, the WebSocket
     * HTTP request and upgrade, the QUIC handshake and WebTransport CONNECT, a gRPC socket's first call.
     */
    handshakeTimeoutMs: number;
    /**
     * File descriptors kept for the node's own work (Redis, logs, admin, files): sockets are refused
     * once the open-file limit minus this many are in use.
     */
    reservedFds: number;
    /** Per-connection outbound cap (queued + transport-buffered bytes). */
    outboundQueueBytes: number;
    maxSubscriptionsPerConnection: number;
    maxTopicLength: number;
    maxUserIdLength: number;
  };

  /**
   * Topic permissions (docs/security.md): rules by topic pattern (`*` wildcard, `{user}` = the client's
   * user id; the most specific match decides) and the rule of topics none matches: 'open' (anyone
   * subscribes, publishes and reads history), 'grant' (only users holding a grant for the topic),
   * 'closed' (nobody), or 'auto' = open while the node signs with its generated development secret,
   * grant once auth keys are configured.
   */
  topics: { rules: Record<string, TopicRule>; unmatched: 'auto' | 'open' | 'grant' | 'closed' };

  /**
   * Whose presence a client may query: 'everyone', 'granted' (itself and the user ids its token's
   * `presence` claim lists), or 'auto' = everyone with the development secret, granted otherwise.
   */
  presence: { visibility: 'auto' | 'everyone' | 'granted' };

  session: {
    heartbeatMs: number;
    idleTimeoutMs: number;
    /** Max QoS-1 deliveries in flight (sent, not acked) per connection before replay waits. */
    maxInflight: number;
    /**
     * Max QoS-1 Send/Publish and ServiceRequest frames of one connection waiting for their answer;
     * at the limit the session stops reading that connection until one is answered.
     */
    maxInflightSends: number;
  };

  store: {
    /** Per user / per topic log length cap. */
    maxMessagesPerLog: number;
    /** Age after which stored messages are dropped. */
    retentionMs: number;
    /** How long a client message id is remembered for dedup. */
    dedupWindowMs: number;
    /** Global cap on stored bytes; the oldest messages go first. */
    maxBytes: number;
    /**
     * QoS-1 messages this node may have between the start of their append and the end of their
     * forward; beyond it a new QoS-1 message is answered 109 BUSY (with retry_after_ms).
     */
    maxPendingAppends: number;
    /**
     * When a QoS-1 SendAck goes out (docs/cluster.md, "Durability modes"): 'ack-after-write' once Redis
     * (or the in-memory store) has the message; 'ack-after-replica' once `WAIT replicas
     * replicaTimeoutMs` has confirmed it on that many Redis replicas (cluster mode only).
     */
    durability: 'ack-after-write' | 'ack-after-replica';
    /** ack-after-replica: replicas that must confirm each append (WAIT's numreplicas). */
    replicas: number;
    /** ack-after-replica: longest wait for them; then 107 UNAVAILABLE (retryable), the message stays stored. */
    replicaTimeoutMs: number;
  };

  /**
   * Cluster mode (docs/cluster.md): set `url` (one Redis) or `cluster` (Redis Cluster seed
   * nodes) and the node forwards through Redis Streams and keeps presence and the QoS-1 store in Redis.
   * Both empty = a single node with the in-process bus and the in-memory store.
   */
  redis: {
    /** `redis://[user:pass@]host:port[/db]` (or `rediss://`); '' = not set. */
    url: string;
    /** Redis Cluster seed nodes, `host:port,host:port`; '' = not set. */
    cluster: string;
    /** Redis Sentinel addresses, `host:port,host:port`, that monitor `masterName`; '' = not set. */
    sentinel: string;
    /** With `sentinel`: the name the sentinels monitor the primary under (`sentinel monitor <name> ...`). */
    masterName: string;
    /** Prefix of every key Ferry writes, so several deployments can share one Redis. */
    keyPrefix: string;
    /** TTL of this node's liveness key; a node whose key expired counts as dead (refreshed every TTL/3). */
    livenessTtlMs: number;
    /** TTL of a user's presence key (refreshed every TTL/3 while the user has a session here). */
    presenceTtlMs: number;
    /** How long a presence look-up is cached for QoS-0 routing (dropped early on presence events). */
    presenceCacheMs: number;
    /** How long a dead node's inbox entry must have been idle before a live node claims it (XAUTOCLAIM). */
    claimIdleMs: number;
    /** Stream entries read per XREADGROUP call. */
    readBatch: number;
    /**
     * Optional safety cap (0 = none, the default): approximate MAXLEN of the bus streams, which are
     * otherwise trimmed only behind every consumer group. A cap can drop entries a lagging group has
     * not read, so it is for operators who prefer bounded Redis memory to that guarantee.
     */
    streamMaxLen: number;
    /**
     * How often the data guard checks each Redis shard's data marker and run_id (docs/cluster.md,
     * "When Redis loses data"), besides every connection change; 0 = only on connection changes.
     */
    dataCheckMs: number;
    /** Appends each node remembers for the audit after Redis lost data (0 = none: no message count). */
    lossAuditSize: number;
    /** Bytes for other nodes not yet written to Redis above which QoS-0 messages are shed (counted). */
    maxBacklogBytes: number;
  };

  /**
   * The gRPC access gateway (docs/access-api.md). The port is `grpc.port`.
   * Roles: 'all' = client listeners and the access service in one process; 'access' = only the access
   * service (no client listeners); 'message' = only client listeners, validating tokens through the
   * access service at `accessUrl` (no gRPC server).
   */
  access: {
    role: 'all' | 'access' | 'message';
    /** API keys callers present, by name (the name is logged and becomes the push sender's device). */
    apiKeys: Record<string, string>;
    /** Key a message node presents to the access service; '' = `apiKeys.default`, else the dev key. */
    callerKey: string;
    /** `host:port` of the access service, for role 'message'. */
    accessUrl: string;
    /** TLS for the gRPC port (PEM paths, '' = plaintext); `clientCa` set = client certificates required. */
    tlsCert: string;
    tlsKey: string;
    clientCa: string;
    maxMessageBytes: number;
    /** Server keepalive pings, and how long to wait for their answer. */
    keepaliveMs: number;
    keepaliveTimeoutMs: number;
    /** Longest (and default) lifetime of a Login session token. */
    sessionTokenTtlMs: number;
    /** Role 'message': how long an accepted token is trusted without asking the access service again. */
    validationCacheMs: number;
    /**
     * gRPC sockets per IP address and per node, counted from accept: a pool of their own, apart from
     * the client caps, so business systems behind one NAT are not refused for client floods.
     */
    connectionsPerIp: number;
    maxConnections: number;
    /** A gRPC socket without a call for this long is closed with GOAWAY (the client reconnects on use). */
    idleTimeoutMs: number;
  };

  /**
   * Client ServiceRequest types -> business service (docs/upstreams.md): a type or range
   * ("1000-1999") -> "service" or "service:priority" (critical, high, normal, low; default normal).
   * The service "gateway" is built in (echo). Reloadable at run time (SIGHUP, POST /routes/reload).
   */
  routes: Record<string, string>;

  /** How routed messages reach services (docs/upstreams.md). */
  upstream: {
    /** Service name -> kind: "grpc" (instances connect to Upstream.Connect) or "redis" (a stream). */
    services: Record<string, string>;
    /** A batch leaves with this many messages, or when its oldest has waited `batchMs`. */
    batchSize: number;
    batchMs: number;
    /** Bound of each priority's queue, per service; a full queue answers 109 BUSY (retryable). */
    queueCritical: number;
    queueHigh: number;
    queueNormal: number;
    queueLow: number;
    /** Batches outstanding per service before messages wait in the queue. */
    maxInflightBatches: number;
    /** Delivery attempts before a message fails with 107 UNAVAILABLE; backoff doubles from base to max. */
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    /** How long a gRPC instance has to ack a batch before it is sent again (to the ring's owner). */
    ackTimeoutMs: number;
    /** A repeated (user, msg_id) within this window is answered as a duplicate, not forwarded. */
    dedupWindowMs: number;
  };

  drain: {
    /** On SIGTERM, how long to wait for queues to flush before closing anyway. */
    timeoutMs: number;
    /** Advised delay before clients reconnect after go-away. */
    reconnectDelayMs: number;
  };
}

/** The embedded defaults: `ferry start` with no configuration runs on exactly these. */
export function defaultConfig(): FerryConfig {
  return {
    nodeId: '',
    host: '0.0.0.0',
    dataDir: '.ferry',
    log: { level: 'info', pretty: false },
    ws: { enabled: true, port: 8080, path: '/ws', allowedOrigins: [], tls: null },
    tcp: { enabled: true, port: 7000, tls: null },
    wt: { enabled: true, port: 4433, path: '/wt', cert: '', key: '' },
    grpc: { enabled: true, port: 50051 },
    admin: {
      enabled: true,
      host: '127.0.0.1',
      port: 9090,
      demo: 'auto',
      apiKey: '',
      allowedHosts: ['localhost', '127.0.0.1', '::1'],
      metricsAuth: false,
      maxBodyBytes: 16 * 1024,
      bodyTimeoutMs: 10_000,
    },
    auth: {
      hmacSecrets: {},
      publicKeys: {},
      issuer: '',
      audience: '',
      clockSkewMs: 30_000,
      deadlineMs: 10_000,
      duplicateDevice: 'replace-old',
      reservedUserIds: ['system'],
      allowNoExpiry: false,
    },
    limits: {
      maxFrameBytes: 64 * 1024,
      framesPerSecond: 200,
      bytesPerSecond: 1024 * 1024,
      floodToleranceSeconds: 3,
      controlFramePercent: 25,
      abuseThreshold: 20,
      abuseMaxBanMs: 60_000,
      connectionsPerIp: 20_000,
      maxConnections: 100_000,
      handshakeTimeoutMs: 10_000,
      reservedFds: 256,
      outboundQueueBytes: 1024 * 1024,
      maxSubscriptionsPerConnection: 128,
      maxTopicLength: 256,
      maxUserIdLength: 128,
    },
    topics: {
      // Broadcast{everyone} publishes to $all: every client may listen and catch up.
      rules: { $all: { subscribe: 'any', publish: 'none', history: 'any' } },
      unmatched: 'auto',
    },
    presence: { visibility: 'auto' },
    session: { heartbeatMs: 25_000, idleTimeoutMs: 60_000, maxInflight: 256, maxInflightSends: 32 },
    store: {
      maxMessagesPerLog: 1000,
      retentionMs: 24 * 3600_000,
      dedupWindowMs: 10 * 60_000,
      maxBytes: 256 * 1024 * 1024,
      maxPendingAppends: 4096,
      durability: 'ack-after-write',
      replicas: 1,
      replicaTimeoutMs: 1000,
    },
    redis: {
      url: '',
      cluster: '',
      sentinel: '',
      masterName: '',
      keyPrefix: 'ferry',
      livenessTtlMs: 10_000,
      presenceTtlMs: 90_000,
      presenceCacheMs: 10_000,
      claimIdleMs: 5000,
      readBatch: 256,
      streamMaxLen: 0,
      dataCheckMs: 5000,
      lossAuditSize: 100_000,
      maxBacklogBytes: 16 * 1024 * 1024,
    },
    access: {
      role: 'all',
      apiKeys: {},
      callerKey: '',
      accessUrl: '',
      tlsCert: '',
      tlsKey: '',
      clientCa: '',
      maxMessageBytes: 4 * 1024 * 1024,
      keepaliveMs: 30_000,
      keepaliveTimeoutMs: 10_000,
      sessionTokenTtlMs: 24 * 3600_000,
      validationCacheMs: 30_000,
      connectionsPerIp: 256,
      maxConnections: 4096,
      idleTimeoutMs: 5 * 60_000,
    },
    routes: {},
    upstream: {
      services: {},
      batchSize: 64,
      batchMs: 2,
      queueCritical: 10_000,
      queueHigh: 10_000,
      queueNormal: 10_000,
      queueLow: 5_000,
      maxInflightBatches: 8,
      maxAttempts: 5,
      retryBaseMs: 100,
      retryMaxMs: 5000,
      ackTimeoutMs: 5000,
      dedupWindowMs: 10 * 60_000,
    },
    drain: { timeoutMs: 10_000, reconnectDelayMs: 1000 },
  };
}
