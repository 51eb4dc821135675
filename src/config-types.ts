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
  admin: { enabled: boolean; host: string; port: number };

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
  };

  limits: {
    maxFrameBytes: number;
    /** Per connection, token bucket: sustained frames/s and bytes/s (burst = 2x). */
    framesPerSecond: number;
    bytesPerSecond: number;
    /** Consecutive seconds over the limit before the connection is cut with 4006 FLOOD. */
    floodToleranceSeconds: number;
    connectionsPerIp: number;
    maxConnections: number;
    /** Per-connection outbound cap (queued + transport-buffered bytes). */
    outboundQueueBytes: number;
    maxSubscriptionsPerConnection: number;
    maxTopicLength: number;
    maxUserIdLength: number;
  };

  session: {
    heartbeatMs: number;
    idleTimeoutMs: number;
    /** Max QoS-1 deliveries in flight (sent, not acked) per connection before replay waits. */
    maxInflight: number;
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
    admin: { enabled: true, host: '127.0.0.1', port: 9090 },
    auth: {
      hmacSecrets: {},
      publicKeys: {},
      issuer: '',
      audience: '',
      clockSkewMs: 30_000,
      deadlineMs: 10_000,
      duplicateDevice: 'replace-old',
    },
    limits: {
      maxFrameBytes: 64 * 1024,
      framesPerSecond: 200,
      bytesPerSecond: 1024 * 1024,
      floodToleranceSeconds: 3,
      connectionsPerIp: 20_000,
      maxConnections: 100_000,
      outboundQueueBytes: 1024 * 1024,
      maxSubscriptionsPerConnection: 128,
      maxTopicLength: 256,
      maxUserIdLength: 128,
    },
    session: { heartbeatMs: 25_000, idleTimeoutMs: 60_000, maxInflight: 256 },
    store: {
      maxMessagesPerLog: 1000,
      retentionMs: 24 * 3600_000,
      dedupWindowMs: 10 * 60_000,
      maxBytes: 256 * 1024 * 1024,
    },
    drain: { timeoutMs: 10_000, reconnectDelayMs: 1000 },
  };
}
