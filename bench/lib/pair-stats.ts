/**
 * The bookkeeping every pair load generator does the same way (bench/lib/loadgen-worker.ts,
 * wt-pair-worker.ts, socketio-worker.ts): client p and its partner send to each other, each message
 * stamped with its send time, sender and per-sender number, so the receiver can check order (gaps,
 * duplicates) and measure latency on the one clock both share. The coordinators add the workers'
 * counts up with {@link combine}.
 */
import { Histogram, type HistogramJson, type LatencySummary } from './histogram.js';

/** The counts every pair worker reports (the workers add their own beside them). */
export interface PairCounts {
  clients: number;
  /** Measured-epoch messages sent, delivered (unique, by the end of the grace period). */
  sent: number;
  delivered: number;
  /** Deliveries of any epoch that arrived inside the measured window. */
  deliveredInWindow: number;
  /** Message numbers that arrived ahead of the expected one (loss or reordering), and stale ones. */
  gaps: number;
  duplicates: number;
  /** Acks for measured-epoch messages, and all acks. */
  acked: number;
  ackedTotal: number;
  /** Sends skipped because the client's transport had more than 4 MiB unsent. */
  skippedBackpressure: number;
  /** Sends skipped while the server's retry advice (`retry_after_ms`) ran (honorRetryAfter). */
  skippedRetryAfter: number;
  /** Closed-loop senders restarted after 2 s without a delivery (lost tail messages). */
  stalls: number;
  /** How far the open-loop pacer fell behind its schedule at the end (messages). */
  pacerBacklog: number;
  errors: Record<string, number>;
  /** Disconnect frames and transport closes seen during the run, by code or reason. */
  closes: Record<string, number>;
  latency: HistogramJson;
  ackLatency: HistogramJson;
  /** CPU seconds of this process during the measured window, and the window's wall seconds. */
  cpuSeconds: number;
  windowSeconds: number;
}

/** Timestamp, sender, message number and epoch take the first 17 payload bytes. */
export const MIN_PAYLOAD = 17;

/**
 * Writes the stamp (little endian: [0,8) float64 send time, [8,12) sender index, [12,16) per-sender
 * message number, [16] epoch) at `p` and fills the rest of the payload, so every message of a given
 * size costs the server the same.
 */
export function stampPayload(
  buf: Buffer,
  p: number,
  payloadLength: number,
  sentAt: number,
  sender: number,
  seq: number,
  epoch: number,
): void {
  buf.writeDoubleLE(sentAt, p);
  buf.writeUInt32LE(sender, p + 8);
  buf.writeUInt32LE(seq, p + 12);
  buf[p + 16] = epoch;
  if (payloadLength > MIN_PAYLOAD) buf.fill(0x61, p + MIN_PAYLOAD, p + payloadLength);
}

/** What {@link readStamp} reads back; one object per worker, reused, so delivery allocates nothing. */
export interface Stamp {
  sentAt: number;
  sender: number;
  seq: number;
  epoch: number;
}

export function readStamp(buf: Buffer, p: number, into: Stamp): Stamp {
  into.sentAt = buf.readDoubleLE(p);
  into.sender = buf.readUInt32LE(p + 8);
  into.seq = buf.readUInt32LE(p + 12);
  into.epoch = buf[p + 16]!;
  return into;
}

/** Per-client ring of send times for ack latency: an ack more than `size` sends late is not timed. */
export class SendRing {
  private readonly times: Float64Array;
  private readonly seqs: Int32Array;

  constructor(private readonly size = 1024) {
    this.times = new Float64Array(size);
    this.seqs = new Int32Array(size).fill(-1);
  }

  record(seq: number, at: number): void {
    const slot = seq % this.size;
    this.times[slot] = at;
    this.seqs[slot] = seq;
  }

  /** The send time of `seq`, or undefined if the ring has moved past it. */
  sentAt(seq: number): number | undefined {
    const slot = seq % this.size;
    return this.seqs[slot] === seq ? this.times[slot] : undefined;
  }
}

/** A worker's {@link PairCounts} with the latency histograms behind them. */
export class PairTally<C extends PairCounts = PairCounts> {
  readonly latency = new Histogram();
  readonly ackLatency = new Histogram();
  /** True inside the measured window (deliveries of either epoch then count towards throughput). */
  measuring = false;

  constructor(readonly counts: C) {}

  /**
   * One message from the receiver's partner, numbered `seq` by its sender. Returns the number of
   * messages it skipped over (0 in order), or -1 for a message number already seen, counted as a
   * duplicate unless `countStale` is false (the caller has its own duplicate rule).
   */
  arrived(
    receiver: { expected: number },
    seq: number,
    epoch: number,
    latencyMs: number,
    countStale = true,
  ): number {
    const c = this.counts;
    if (seq < receiver.expected) {
      if (countStale) c.duplicates++;
      return -1;
    }
    const gap = seq - receiver.expected;
    c.gaps += gap;
    receiver.expected = seq + 1;
    if (this.measuring) c.deliveredInWindow++;
    if (epoch === 1) {
      c.delivered++;
      this.latency.recordMs(latencyMs);
    }
    return gap;
  }

  /** An ack; `sentAt` (when known) times measured ones. */
  ackArrived(measured: boolean, sentAt: number | undefined, now: number): void {
    this.counts.ackedTotal++;
    if (!measured) return;
    this.counts.acked++;
    if (sentAt !== undefined) this.ackLatency.recordMs(now - sentAt);
  }

  closed(key: string): void {
    this.counts.closes[key] = (this.counts.closes[key] ?? 0) + 1;
  }

  /** The counts with the histograms filled in, for the coordinator. */
  finish(): C {
    this.counts.latency = this.latency.toJSON();
    this.counts.ackLatency = this.ackLatency.toJSON();
    return this.counts;
  }
}

/** All counts zero: the start of a {@link PairTally}. */
export function emptyCounts(): PairCounts {
  const empty = new Histogram().toJSON();
  return {
    clients: 0,
    sent: 0,
    delivered: 0,
    deliveredInWindow: 0,
    gaps: 0,
    duplicates: 0,
    acked: 0,
    ackedTotal: 0,
    skippedBackpressure: 0,
    skippedRetryAfter: 0,
    stalls: 0,
    pacerBacklog: 0,
    errors: {},
    closes: {},
    latency: empty,
    ackLatency: empty,
    cpuSeconds: 0,
    windowSeconds: 0,
  };
}

export function addCounts(
  into: Record<string, number>,
  from: Record<string, number>,
): Record<string, number> {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}

/** What the coordinators derive the same way from all workers' counts. */
export interface Combined<C> {
  sum: (f: (s: C) => number) => number;
  latency: LatencySummary;
  ackLatency: LatencySummary;
  /** CPU share (1 = one core) of each generator process over its measured window. */
  loadgenCpu: number[];
  /** The longest worker window: throughput divides by it. */
  windowSeconds: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
}

export function combine<C extends PairCounts>(stats: C[]): Combined<C> {
  const latency = new Histogram();
  const ackLatency = new Histogram();
  for (const s of stats) {
    latency.merge(s.latency);
    ackLatency.merge(s.ackLatency);
  }
  return {
    sum: (f) => stats.reduce((a, s) => a + f(s), 0),
    latency: latency.summary(),
    ackLatency: ackLatency.summary(),
    loadgenCpu: stats.map((s) => (s.windowSeconds > 0 ? s.cpuSeconds / s.windowSeconds : 0)),
    windowSeconds: Math.max(...stats.map((s) => s.windowSeconds)),
    errors: stats.reduce((a, s) => addCounts(a, s.errors), {}),
    closes: stats.reduce((a, s) => addCounts(a, s.closes), {}),
  };
}
