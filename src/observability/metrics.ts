import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { EventLoopDelay } from './event-loop-delay.js';

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
    help: 'Sockets and connections refused or closed before a session was created, by transport and reason',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });
  readonly sockets = new Gauge({
    name: 'ferry_sockets',
    help: 'Admitted sockets by transport (ws, tcp, wt, grpc) and phase (pre_auth, authenticated), from accept on',
    labelNames: ['transport', 'phase'] as const,
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
    help: "Messages dropped after they were taken, by reason: ephemeral / qos0 (shed from a slow consumer's queue), closed (queued when the connection closed), forward_failed (a QoS-0 message the bus could not hand to another node after it was acked)",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'ferry_rate_limited_total',
    help: "Client frames over their connection's rate limit, by what the server did: refused (answered with 104), held (not read until they fitted), dropped (datagrams)",
    labelNames: ['action'] as const,
    registers: [this.registry],
  });
  readonly overload = new Counter({
    name: 'ferry_overload_total',
    help: 'Client messages the node slowed or refused because its store or bus could not keep up: busy (QoS 1 answered with 109), held (a connection at its send window was not read), shed (QoS 0 dropped, bus backlog over its bound)',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });
  readonly pendingAppends = new Gauge({
    name: 'ferry_pending_appends',
    help: 'QoS-1 messages between the start of their store append and the end of their forward (bounded by store.maxPendingAppends)',
    registers: [this.registry],
  });
  readonly busBacklogBytes = new Gauge({
    name: 'ferry_bus_backlog_bytes',
    help: 'Bytes of messages for other nodes not yet written to Redis (bounded for QoS 0 by redis.maxBacklogBytes)',
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
  // Data loss in the store (docs/cluster.md, "When Redis loses data"): what this node can see of it.
  readonly storeLogResets = new Counter({
    name: 'ferry_store_log_resets_total',
    help: 'Clients whose Authenticate.last_seq was past the end of their log, answered with log_reset (the store no longer has the history they saw)',
    registers: [this.registry],
  });
  readonly storeRedisChanges = new Counter({
    name: 'ferry_store_redis_changes_total',
    help: 'Redis shards whose data marker or server process (run_id) changed under this node (a flush, restart or failover), each followed by an audit',
    registers: [this.registry],
  });
  readonly storeDataLoss = new Counter({
    name: 'ferry_store_data_loss_total',
    help: 'Times this node found that Redis lost data, by how (marker: the data marker was gone or replaced; audit: stored messages gone after a restart or failover)',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  readonly storeMessagesLost = new Counter({
    name: 'ferry_store_messages_lost_total',
    help: 'QoS-1 messages this node stored and acknowledged that Redis no longer had when checked after a loss (a lower bound, docs/cluster.md)',
    registers: [this.registry],
  });
  readonly storeUsersAffected = new Counter({
    name: 'ferry_store_users_affected_total',
    help: 'Users whose stored messages Redis lost, as this node found them (its recent appends and its sessions), per loss',
    registers: [this.registry],
  });

  // Cluster mode (docs/cluster.md): sampled by the cluster janitor, counted by the Redis bus.
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

  /** `ferry_event_loop_delay_seconds` (event-loop-delay.ts); null without the process metrics. */
  readonly eventLoopDelay: EventLoopDelay | null = null;

  /**
   * `defaultMetrics` (default true): prom-client's process and Node.js metrics (`ferry_process_*`,
   * `ferry_nodejs_*`) and `ferry_event_loop_delay_seconds`.
   */
  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: 'ferry_' });
      this.eventLoopDelay = new EventLoopDelay(this.registry);
    }
  }
}
