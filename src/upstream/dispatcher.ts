/**
 * One service's path from the gateway to its upstream: bounded priority queues, batching (a batch
 * leaves when it has `batchSize` messages or its oldest has waited `batchMs`), at most
 * `maxInflightBatches` batches outstanding, and retries with exponential backoff and jitter for the
 * messages an upstream did not take. A message's promise settles exactly once: resolved when the
 * upstream holds it, rejected with 109 BUSY at the door (queue full, or the transport reports
 * backpressure) or 107 UNAVAILABLE after
 * `maxAttempts` attempts. Nothing is dropped silently.
 */
import { ReplyCode, RequestError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { PriorityQueues, type QueueBounds } from './priority-queues.js';
import { PRIORITIES, type Priority } from './route-table.js';
import type { UpstreamMetrics } from './upstream-metrics.js';
import type { UpstreamMessage, UpstreamTransport } from './upstream-transport.js';

/** Tunables shared by every service (config `upstream.*`). */
export interface DispatchSettings {
  batchSize: number;
  batchMs: number;
  bounds: QueueBounds;
  maxInflightBatches: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

interface Pending {
  readonly msg: UpstreamMessage;
  readonly priority: Priority;
  readonly resolve: () => void;
  readonly reject: (err: RequestError) => void;
}

/** Counters for /stats. */
export interface DispatcherStats {
  kind: string;
  routed: number;
  failed: { busy: number; unavailable: number };
  retried: number;
  queued: Record<Priority, number>;
  retrying: number;
  inflightBatches: number;
  batches: number;
  avgBatchSize: number;
  latencyMs: { avg: number; max: number };
}

/** Backoff before attempt `attempt + 1`: base doubling to max, plus up to 25% jitter. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 20));
  return Math.round(d + Math.random() * d * 0.25);
}

export class Dispatcher {
  readonly service: string;
  readonly transport: UpstreamTransport;
  private settings: DispatchSettings;
  private readonly queues: PriorityQueues<Pending>;
  private readonly metrics: UpstreamMetrics;
  private readonly log: Logger;
  private readonly depthGauges: Record<Priority, { set(v: number): void }>;
  private readonly routedCounter: { inc(v?: number): void };
  private readonly latencyHist: { observe(v: number): void };
  private readonly batchHist: { observe(v: number): void };
  private timer: NodeJS.Timeout | null = null;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private inflight = 0;
  private closed = false;
  private readonly s = { routed: 0, busy: 0, unavailable: 0, retried: 0, batches: 0, batched: 0 };
  private latencySumMs = 0;
  private latencyMaxMs = 0;

  constructor(opts: {
    service: string;
    transport: UpstreamTransport;
    settings: DispatchSettings;
    metrics: UpstreamMetrics;
    logger: Logger;
  }) {
    this.service = opts.service;
    this.transport = opts.transport;
    this.settings = opts.settings;
    this.queues = new PriorityQueues<Pending>(opts.settings.bounds);
    this.metrics = opts.metrics;
    this.log = opts.logger;
    const m = opts.metrics;
    const svc = opts.service;
    this.depthGauges = {
      critical: m.queueDepth.labels(svc, 'critical'),
      high: m.queueDepth.labels(svc, 'high'),
      normal: m.queueDepth.labels(svc, 'normal'),
      low: m.queueDepth.labels(svc, 'low'),
    };
    this.routedCounter = m.routed.labels(svc);
    this.latencyHist = m.latency.labels(svc);
    this.batchHist = m.batchSize.labels(svc);
  }

  /** New tunables (reload). */
  configure(settings: DispatchSettings): void {
    this.settings = settings;
    this.queues.setBounds(settings.bounds);
    this.pump(false);
  }

  /** Messages waiting or being retried (a removed route's dispatcher lives until this is 0). */
  get backlog(): number {
    return this.queues.size + this.retryTimers.size + this.inflight;
  }

  /** Queues a message; the promise settles as described in the file comment. */
  submit(msg: UpstreamMessage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closed) {
        reject(this.unavailable('the gateway is shutting down'));
        return;
      }
      const item: Pending = { msg, priority: msg.priority, resolve, reject };
      if (this.transport.busy?.(this.service) === true || !this.queues.offer(item)) {
        this.failBusy(item);
        return;
      }
      this.depthGauges[item.priority].set(this.queues.depth(item.priority));
      this.pump(false);
    });
  }

  stats(): DispatcherStats {
    const q = Object.fromEntries(PRIORITIES.map((p) => [p, this.queues.depth(p)])) as Record<
      Priority,
      number
    >;
    const s = this.s;
    return {
      kind: this.transport.kind,
      routed: s.routed,
      failed: { busy: s.busy, unavailable: s.unavailable },
      retried: s.retried,
      queued: q,
      retrying: this.retryTimers.size,
      inflightBatches: this.inflight,
      batches: s.batches,
      avgBatchSize: s.batches === 0 ? 0 : round2(s.batched / s.batches),
      latencyMs: { avg: s.routed === 0 ? 0 : round2(this.latencySumMs / s.routed), max: this.latencyMaxMs },
    };
  }

  /** Fails everything still queued or waiting to retry with UNAVAILABLE. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    for (const item of this.queues.take(Number.MAX_SAFE_INTEGER))
      this.fail(item, 'the gateway is shutting down');
    this.updateGauges();
  }

  /**
   * Sends batches while there is room in flight. A partial batch leaves only when `force` (its timer
   * fired) or batching is off; otherwise a timer is armed for the oldest waiting message.
   */
  private pump(force: boolean): void {
    const st = this.settings;
    while (!this.closed && this.inflight < st.maxInflightBatches && this.queues.size > 0) {
      if (!force && st.batchMs > 0 && this.queues.size < st.batchSize) {
        this.timer ??= setTimeout(() => {
          this.timer = null;
          this.pump(true);
        }, st.batchMs);
        return;
      }
      this.sendBatch(this.queues.take(st.batchSize));
    }
  }

  private sendBatch(batch: Pending[]): void {
    if (this.timer !== null && this.queues.size === 0) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.inflight++;
    this.updateGauges();
    this.s.batches++;
    this.s.batched += batch.length;
    this.batchHist.observe(batch.length);
    const byMsg = new Map<UpstreamMessage, Pending>(batch.map((p) => [p.msg, p]));
    this.transport.send(this.service, [...byMsg.keys()]).then(
      (notTaken) => this.batchDone(byMsg, notTaken),
      (err: unknown) => {
        // Transports never reject by contract; treat a broken one as "nothing taken".
        this.log.error({ err, service: this.service }, 'upstream transport failed a whole batch');
        this.batchDone(byMsg, [...byMsg.keys()]);
      },
    );
  }

  private batchDone(byMsg: Map<UpstreamMessage, Pending>, notTaken: UpstreamMessage[]): void {
    this.inflight--;
    const failed = new Set(notTaken);
    const now = Date.now();
    for (const [msg, item] of byMsg) {
      if (failed.has(msg)) continue;
      const ms = now - msg.timestampMs;
      this.s.routed++;
      this.latencySumMs += ms;
      if (ms > this.latencyMaxMs) this.latencyMaxMs = ms;
      this.latencyHist.observe(ms / 1000);
      item.resolve();
    }
    const taken = byMsg.size - failed.size;
    if (taken > 0) this.routedCounter.inc(taken);
    for (const msg of failed) this.retryLater(byMsg.get(msg)!);
    this.pump(false);
  }

  private retryLater(item: Pending): void {
    const st = this.settings;
    if (this.transport.busy?.(this.service) === true) {
      // Pushed back by the service side: the client hears it now instead of after every retry.
      this.failBusy(item);
      return;
    }
    if (this.closed || item.msg.attempt >= st.maxAttempts) {
      this.fail(item, `no instance of service ${this.service} took the message`);
      return;
    }
    this.s.retried++;
    this.metrics.retried.inc({ service: this.service });
    const t = setTimeout(
      () => {
        this.retryTimers.delete(t);
        item.msg.attempt++;
        this.queues.requeue(item);
        this.pump(true);
      },
      retryDelayMs(item.msg.attempt, st.retryBaseMs, st.retryMaxMs),
    );
    this.retryTimers.add(t);
  }

  private failBusy(item: Pending): void {
    this.s.busy++;
    this.metrics.failed.inc({ service: this.service, reason: 'busy' });
    item.reject(
      new RequestError(ReplyCode.BUSY, `service ${this.service} is busy; retry later`, {
        retryable: true,
        retryAfterMs: Math.max(this.settings.retryBaseMs, this.settings.batchMs),
      }),
    );
  }

  private fail(item: Pending, why: string): void {
    this.s.unavailable++;
    this.metrics.failed.inc({ service: this.service, reason: 'unavailable' });
    item.reject(this.unavailable(why));
  }

  private unavailable(message: string): RequestError {
    return new RequestError(ReplyCode.UNAVAILABLE, message, {
      retryable: true,
      retryAfterMs: this.settings.retryMaxMs,
    });
  }

  private updateGauges(): void {
    for (const p of PRIORITIES) this.depthGauges[p].set(this.queues.depth(p));
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
