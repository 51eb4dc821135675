/**
 * What sessions count and log: per-frame counters kept as plain numbers and moved into prom-client in
 * bulk, the sampled delivery-latency histogram, disconnect and reply-error counters, and the logger.
 */
import { disconnectCodeName, DisconnectCode, replyCodeName } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { TransportKind } from '../transport/transport.js';

/** Index of a transport in the per-transport counter arrays. */
export const TRANSPORT_INDEX: Readonly<Record<TransportKind, number>> = { ws: 0, tcp: 1, wt: 2 };
export const TRANSPORT_KINDS: readonly TransportKind[] = ['ws', 'tcp', 'wt'];

/** One delivery in this many is observed by the latency histogram. */
export const LATENCY_SAMPLE_EVERY = 8;

/** What happened to a frame over its connection's rate limit: the `action` label, by counter index. */
export const RATE_ACTIONS = ['refused', 'held', 'dropped'] as const;
export const RATE_REFUSED = 0;
export const RATE_HELD = 1;
export const RATE_DROPPED = 2;

/**
 * Per-frame counters kept as plain numbers and moved into prom-client in bulk (`flush`): a labelled
 * prom-client `inc` hashes its labels on every call (~100 ns), several times per message. Flushed by
 * the sweep (every second) and by `SessionManager.flushMetrics()`, so /metrics lags by at most one
 * sweep interval unless the scrape handler flushes first.
 */
export class TrafficCounters {
  readonly framesIn = [0, 0, 0];
  readonly bytesIn = [0, 0, 0];
  readonly framesOut = [0, 0, 0];
  readonly bytesOut = [0, 0, 0];
  /** Deliver frames queued to recipients, by QoS. */
  readonly delivered = [0, 0];
  /** Frames over their connection's rate limit, by RATE_ACTIONS index (refused, held, dropped). */
  readonly rateLimited = [0, 0, 0];
  /** Frames held because their connection had `maxInflightSends` requests awaiting an answer. */
  windowHeld = 0;

  /** Adds everything counted since the last flush to the Prometheus metrics and resets. */
  flush(m: Metrics): void {
    for (let i = 0; i < 3; i++) {
      const labels = { transport: TRANSPORT_KINDS[i]! };
      let v: number;
      if ((v = take(this.framesIn, i)) > 0) m.framesIn.inc(labels, v);
      if ((v = take(this.bytesIn, i)) > 0) m.bytesIn.inc(labels, v);
      if ((v = take(this.framesOut, i)) > 0) m.framesOut.inc(labels, v);
      if ((v = take(this.bytesOut, i)) > 0) m.bytesOut.inc(labels, v);
    }
    for (let q = 0; q < 2; q++) {
      const v = take(this.delivered, q);
      if (v > 0) m.messagesDelivered.inc({ qos: String(q) }, v);
    }
    for (let a = 0; a < RATE_ACTIONS.length; a++) {
      const v = take(this.rateLimited, a);
      if (v > 0) m.rateLimited.inc({ action: RATE_ACTIONS[a]! }, v);
    }
    if (this.windowHeld > 0) m.overload.inc({ action: 'held' }, this.windowHeld);
    this.windowHeld = 0;
  }
}

/** Returns values[i] and zeroes it. */
function take(values: number[], i: number): number {
  const v = values[i]!;
  values[i] = 0;
  return v;
}

/** The metrics and the logger of every session of one gateway. */
export class SessionTelemetry {
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly traffic = new TrafficCounters();
  /** Delivery latency histogram children by QoS (0, 1). */
  readonly latency: readonly [{ observe(v: number): void }, { observe(v: number): void }];
  /** Counts stamped hand-offs; every LATENCY_SAMPLE_EVERY-th is observed (see `sampleLatency`). */
  private latencyTick = 0;

  constructor(metrics: Metrics, log: Logger) {
    this.metrics = metrics;
    this.log = log;
    this.latency = [metrics.deliveryLatency.labels('0'), metrics.deliveryLatency.labels('1')];
  }

  /**
   * Whether this hand-off's latency goes into the histogram. A prom-client observe costs as much as
   * a third of a QoS-0 delivery, so one in LATENCY_SAMPLE_EVERY is observed: the distribution (and
   * its quantiles) is unbiased; the histogram's _count is deliveries / 8 (messagesDelivered has the
   * exact count).
   */
  sampleLatency(): boolean {
    return ++this.latencyTick % LATENCY_SAMPLE_EVERY === 0;
  }

  /**
   * Counts a server-initiated disconnect: always in `ferry_disconnects_total`, and in
   * `ferry_errors_total` unless it is an orderly one (normal close, go-away, replaced, kicked).
   */
  countDisconnect(code: number): void {
    const name = disconnectCodeName(code);
    const labels = { code: String(code), name };
    this.metrics.disconnects.inc(labels);
    if (!ORDERLY.has(code)) this.metrics.errors.inc(labels);
  }

  /** Counts a reply error sent to a client. */
  countReplyError(code: number): void {
    this.metrics.errors.inc({ code: String(code), name: replyCodeName(code) });
  }
}

const ORDERLY = new Set<number>([
  DisconnectCode.NORMAL,
  DisconnectCode.GOING_AWAY,
  DisconnectCode.REPLACED,
  DisconnectCode.KICKED,
]);
