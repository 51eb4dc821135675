/**
 * One node's figures at one moment, as the operator's console (`/console`), the gRPC `Stats.nodes`
 * list and `ferry status` show them. A sample is plain JSON: nodes write theirs to Redis and read
 * each other's from there (cluster-samples.ts).
 */

/** Figures of one upstream (business) service on one node. */
export interface ServiceSample {
  service: string;
  kind: string;
  /** Connected gRPC instances (-1 for a Redis-stream service: its consumers are not known to the node). */
  instances: number;
  /** Requests waiting in the node's queues for this service, every priority. */
  queued: number;
  /** Requests that failed since the node started (refused busy plus unavailable). */
  failures: number;
}

/** Redis as one node sees it (absent when the node runs without Redis). */
export interface RedisSample {
  up: boolean;
  /** Entries not yet read by this node's consumer groups (inbox plus broadcast). */
  lag: number;
  /** Entries read but not yet acknowledged by this node's consumer groups. */
  pending: number;
  /** `used_memory` of the Redis server this node's keyless commands reach; -1 while unknown. */
  memoryBytes: number;
}

/** Delivery latency percentiles over one sample interval, milliseconds (null: nothing delivered). */
export interface LatencySample {
  p50: number;
  p90: number;
  p99: number;
}

/** One node at one moment. Rates and disconnect counts cover the interval since its previous sample. */
export interface NodeSample {
  nodeId: string;
  /** When it was taken (ms since the epoch). */
  t: number;
  ready: boolean;
  draining: boolean;
  uptimeSeconds: number;
  /** Open client connections by transport. */
  connections: { ws: number; tcp: number; wt: number };
  /** Authenticated sessions (all transports). */
  sessions: number;
  /** Users with at least one session on this node. */
  users: number;
  /** Client messages accepted per second (Send and Publish, every QoS). */
  inPerSec: number;
  /** Deliver frames handed to recipients per second. */
  outPerSec: number;
  /** QoS-1 deliveries sent and not yet acknowledged, plus QoS-1 appends not yet forwarded. */
  qos1Backlog: number;
  latencyMs: LatencySample | null;
  /** 99th percentile of the event-loop delay over the interval, milliseconds. */
  eventLoopP99Ms: number;
  rssBytes: number;
  redis: RedisSample | null;
  upstream: ServiceSample[];
  /** Disconnects the server made during the interval, by `"<code> <NAME>"`. */
  disconnects: Record<string, number>;
  /** Risky settings of this node's configuration (risky-settings.ts). */
  warnings: string[];
}

/** How often a node takes a sample. */
export const SAMPLE_INTERVAL_MS = 2000;
/** How far back samples are kept: the console's charts show this window. */
export const HISTORY_MS = 15 * 60_000;
/** Samples kept per node. */
export const HISTORY_SAMPLES = Math.ceil(HISTORY_MS / SAMPLE_INTERVAL_MS);
/** A node whose newest sample is older than this is shown as down. */
export const STALE_AFTER_MS = 3 * SAMPLE_INTERVAL_MS;

/** Total connections of a sample. */
export function totalConnections(s: Pick<NodeSample, 'connections'>): number {
  return s.connections.ws + s.connections.tcp + s.connections.wt;
}
