/**
 * What a dispatcher hands business-service messages to. One implementation per upstream kind sits
 * beside this file: grpc-upstream.ts (instances connected over `Upstream.Connect`), redis-upstream.ts
 * (a Redis Stream per service), amqp-upstream.ts (a RabbitMQ queue per service), gateway-upstream.ts
 * (answered in-process).
 */
import type { Priority } from './route-table.js';

/** One client message on its way to a service. */
export interface UpstreamMessage {
  readonly msgId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
  readonly nodeId: string;
  readonly type: number;
  readonly payload: Uint8Array;
  readonly priority: Priority;
  /** When the gateway accepted it (ms since the epoch). */
  readonly timestampMs: number;
  /** Delivery attempts so far, including the one in progress (1 on the first). */
  attempt: number;
}

/**
 * Delivers batches to one kind of upstream. `send` resolves with the messages that were NOT taken
 * (the dispatcher retries those with backoff); every other message is held by the service side from
 * then on (Redis: XADDed; gRPC: the instance acked the batch; AMQP: the broker confirmed). It never
 * rejects.
 */
export interface UpstreamTransport {
  readonly kind: 'grpc' | 'redis' | 'amqp' | 'gateway';
  send(service: string, batch: UpstreamMessage[]): Promise<UpstreamMessage[]>;
  /** Per-service details for /stats (instances, stream key, ...). */
  describe(service: string): Record<string, unknown>;
  /**
   * Optional backpressure from the service side (AMQP: the broker blocked the connection, or the
   * service's queue is at its cap). While true, the dispatcher answers new messages with 109 BUSY at
   * once, and fails with BUSY (rather than retrying) the messages `send` returned as not taken.
   */
  busy?(service: string): boolean;
  /** Called when a route names this service (at start and on reload); may prepare (XGROUP CREATE). */
  prepare?(service: string): Promise<void>;
  close(): Promise<void>;
}
