import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric Ferry exports, on one registry per gateway (so tests can run several
 * gateways in one process). Layers receive this object; hot paths touch pre-bound children only.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly connections = new Gauge({
    name: 'ferry_connections',
    help: 'Open client connections by transport (authenticated or not)',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly sessions = new Gauge({
    name: 'ferry_sessions',
    help: 'Authenticated sessions by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly connectionsAccepted = new Counter({
    name: 'ferry_connections_accepted_total',
    help: 'Connections accepted by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'ferry_connections_refused_total',
    help: 'Connections refused before a session was created, by transport and reason',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });
  readonly framesIn = new Counter({
    name: 'ferry_frames_in_total',
    help: 'Frames received from clients by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly framesOut = new Counter({
    name: 'ferry_frames_out_total',
    help: 'Frames sent to clients by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly bytesIn = new Counter({
    name: 'ferry_bytes_in_total',
    help: 'Frame bytes received from clients by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly bytesOut = new Counter({
    name: 'ferry_bytes_out_total',
    help: 'Frame bytes sent to clients by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'ferry_errors_total',
    help: 'Errors sent to clients by numeric code (reply errors 100-999, disconnects 4000-4999)',
    labelNames: ['code', 'name'] as const,
    registers: [this.registry],
  });
  readonly disconnects = new Counter({
    name: 'ferry_disconnects_total',
    help: 'Connections closed by the server, by disconnect code',
    labelNames: ['code', 'name'] as const,
    registers: [this.registry],
  });
  readonly grpcRefused = new Counter({
    name: 'ferry_grpc_refused_total',
    help: 'gRPC calls of the access API and Upstream refused, by method and gRPC status name (e.g. UNAUTHENTICATED)',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });
  readonly messagesAccepted = new Counter({
    name: 'ferry_messages_accepted_total',
    help: 'Client messages accepted (Send and Publish) by QoS and kind',
    labelNames: ['qos', 'kind'] as const,
    registers: [this.registry],
  });
  readonly messagesDelivered = new Counter({
    name: 'ferry_messages_delivered_total',
    help: 'Deliver frames queued to recipients by QoS',
    labelNames: ['qos'] as const,
    registers: [this.registry],
  });
  readonly messagesDropped = new Counter({
    name: 'ferry_messages_dropped_total',
    help: 'Outbound frames dropped (slow consumer shedding of ephemeral/QoS-0 frames)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'ferry_duplicates_total',
    help: 'QoS-1 sends recognised as duplicates by client message id',
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: 'ferry_delivery_latency_seconds',
    help: 'Time from accepting a message to handing its Deliver frame to the recipient transport',
    labelNames: ['qos'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly outboundQueueBytes = new Gauge({
    name: 'ferry_outbound_queue_bytes',
    help: 'Bytes waiting in per-connection outbound queues (sum over connections)',
    registers: [this.registry],
  });
  readonly outboundQueueFrames = new Gauge({
    name: 'ferry_outbound_queue_frames',
    help: 'Frames waiting in per-connection outbound queues (sum over connections)',
    registers: [this.registry],
  });
  readonly storeMessages = new Gauge({
    name: 'ferry_store_messages',
    help: 'QoS-1 messages retained in the message store',
    registers: [this.registry],
  });

  // Cluster mode (issue 4, docs/cluster.md): sampled by the cluster janitor, counted by the Redis bus.
  readonly clusterStreamLag = new Gauge({
    name: 'ferry_cluster_stream_lag',
    help: "Entries not yet read by this node's consumer group, by stream (inbox, broadcast)",
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });
  readonly clusterStreamPending = new Gauge({
    name: 'ferry_cluster_stream_pending',
    help: "Entries read by this node's consumer group but not yet acknowledged, by stream",
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });
  readonly clusterReclaimed = new Counter({
    name: 'ferry_cluster_reclaimed_total',
    help: "Stream entries taken over from dead nodes' inboxes (XAUTOCLAIM or unread) and re-routed",
    registers: [this.registry],
  });
  readonly clusterRedisErrors = new Counter({
    name: 'ferry_cluster_redis_errors_total',
    help: 'Redis command and connection errors, by operation',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  readonly clusterMessages = new Counter({
    name: 'ferry_cluster_messages_total',
    help: 'Items forwarded through Redis streams, by direction (out = XADDed, in = read and handled)',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly clusterRedisUp = new Gauge({
    name: 'ferry_cluster_redis_up',
    help: '1 while the connection to Redis is ready, 0 while it is down (cluster mode only)',
    registers: [this.registry],
  });
  // store.durability ack-after-replica (docs/cluster.md, "Durability modes"): counted by ReplicaWait.
  readonly storeReplicaWaits = new Counter({
    name: 'ferry_store_replica_waits_total',
    help: 'WAIT commands sent to confirm QoS-1 appends on replicas (one per batch of appends and primary)',
    registers: [this.registry],
  });
  readonly storeReplicaConfirmations = new Counter({
    name: 'ferry_store_replica_confirmations_total',
    help: 'QoS-1 appends by replica confirmation result (confirmed; timeout or interrupted: refused with 107)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  // The admin port (docs/security.md, "The admin plane"): requests refused before their handler ran.
  readonly adminRefused = new Counter({
    name: 'ferry_admin_requests_refused_total',
    help: 'Admin HTTP requests refused before their handler ran, by reason (host_not_allowed, unauthorized, ...)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'ferry_' });
  }
}
