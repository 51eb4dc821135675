/**
 * Takes a NodeSample of this node every SAMPLE_INTERVAL_MS and hands it to a SampleStore (memory on a
 * single node, Redis in a cluster). The figures come from the same places `/stats` and `/metrics`
 * read: the gateway's stats() and the prom-client registry, so the console cannot disagree with them.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Histogram } from 'prom-client';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { NodeSample, RedisSample, ServiceSample } from './node-sample.js';
import { SAMPLE_INTERVAL_MS } from './node-sample.js';
import type { SampleStore } from './sample-store.js';

/** Where the sampler reads this node's figures. */
export interface NodeSamplerSources {
  nodeId: string;
  metrics: Metrics;
  /** The `/stats` JSON of this node (Gateway.stats()). */
  stats: () => Record<string, unknown>;
  /** `used_memory` of Redis (absent without Redis); called at most every REDIS_MEMORY_EVERY_MS. */
  redisMemory?: () => Promise<number>;
  /** Risky settings of the configuration (risky-settings.ts), fixed for the node's life. */
  warnings: readonly string[];
  store: SampleStore;
  logger: Logger;
  /** Sampling period (tests may shorten it); default SAMPLE_INTERVAL_MS. */
  intervalMs?: number;
}

/** Redis INFO is asked at most this often (it walks the server's memory counters). */
const REDIS_MEMORY_EVERY_MS = 10_000;

interface Counters {
  t: number;
  messagesIn: number;
  messagesOut: number;
  disconnects: Map<string, number>;
  /** Delivery latency histogram: cumulative count per upper bound (seconds). */
  buckets: Map<number, number>;
}

/** Samples this node on a timer; `close()` stops it (idempotent). */
export class NodeSampler {
  private readonly s: NodeSamplerSources;
  private readonly loopDelay: IntervalHistogram;
  private timer: NodeJS.Timeout | null = null;
  private previous: Counters | null = null;
  private redisMemory = -1;
  private redisMemoryAtMs = 0;
  private running: Promise<void> | null = null;

  constructor(sources: NodeSamplerSources) {
    this.s = sources;
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
  }

  /** Takes the first sample now (so the console has a figure at once), then one per interval. */
  start(): void {
    this.loopDelay.enable();
    this.tick();
    this.timer = setInterval(() => this.tick(), this.s.intervalMs ?? SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops sampling and waits for a sample in progress. Idempotent. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.loopDelay.disable();
    await this.running;
  }

  private tick(): void {
    if (this.running !== null) return; // a slow Redis write: skip this beat rather than pile up
    this.running = this.sampleOnce()
      .then(() => undefined)
      .catch((err: unknown) => this.s.logger.debug({ err }, 'console sample failed'))
      .finally(() => {
        this.running = null;
      });
  }

  /** Takes one sample and stores it; resolves with it. */
  async sampleOnce(): Promise<NodeSample> {
    const stats = this.s.stats();
    const now = Date.now();
    const counters = await this.counters(now);
    const prev = this.previous;
    this.previous = counters;
    const dt = prev === null ? 0 : (counters.t - prev.t) / 1000;
    const rate = (cur: number, old: number | undefined): number =>
      dt > 0 && old !== undefined ? Math.max(0, Math.round(((cur - old) / dt) * 10) / 10) : 0;
    const sessions = (stats.sessions ?? {}) as {
      connections?: Record<string, number>;
      sessions?: { total?: number };
      users?: number;
      inflight?: number;
      draining?: boolean;
    };
    const overload = (stats.overload ?? {}) as { pendingAppends?: number };
    const conn = sessions.connections ?? {};
    const disconnects: Record<string, number> = {};
    for (const [key, n] of counters.disconnects) {
      const d = n - (prev?.disconnects.get(key) ?? 0);
      if (d > 0 && prev !== null) disconnects[key] = d;
    }
    const sample: NodeSample = {
      nodeId: this.s.nodeId,
      t: now,
      ready: stats.ready === true,
      draining: sessions.draining === true,
      uptimeSeconds: Number(stats.uptimeSeconds ?? 0),
      connections: { ws: conn.ws ?? 0, tcp: conn.tcp ?? 0, wt: conn.wt ?? 0 },
      sessions: sessions.sessions?.total ?? 0,
      users: sessions.users ?? 0,
      inPerSec: rate(counters.messagesIn, prev?.messagesIn),
      outPerSec: rate(counters.messagesOut, prev?.messagesOut),
      qos1Backlog: (sessions.inflight ?? 0) + (overload.pendingAppends ?? 0),
      latencyMs: prev === null ? null : percentiles(counters.buckets, prev.buckets),
      eventLoopP99Ms: Math.round(this.loopDelay.percentile(99) / 1e4) / 100,
      rssBytes: process.memoryUsage.rss(),
      redis: await this.redis(stats, now),
      upstream: services(stats.upstream),
      disconnects,
      warnings: [...this.s.warnings],
    };
    this.loopDelay.reset();
    await this.s.store.put(sample);
    return sample;
  }

  private async counters(t: number): Promise<Counters> {
    const m = this.s.metrics;
    const sum = async (c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> =>
      (await c.get()).values.reduce((a, v) => a + v.value, 0);
    const disconnects = new Map<string, number>();
    for (const v of (await m.disconnects.get()).values)
      disconnects.set(`${v.labels.code ?? ''} ${v.labels.name ?? ''}`.trim(), v.value);
    return {
      t,
      messagesIn: await sum(m.messagesAccepted),
      messagesOut: await sum(m.messagesDelivered),
      disconnects,
      buckets: await bucketCounts(m.deliveryLatency),
    };
  }

  private async redis(stats: Record<string, unknown>, now: number): Promise<RedisSample | null> {
    const cluster = stats.cluster as { redisReady?: boolean; streams?: Record<string, number> } | undefined;
    if (cluster === undefined) return null;
    const st = cluster.streams ?? {};
    if (this.s.redisMemory !== undefined && now - this.redisMemoryAtMs >= REDIS_MEMORY_EVERY_MS) {
      this.redisMemoryAtMs = now;
      try {
        this.redisMemory = await this.s.redisMemory();
      } catch {
        this.redisMemory = -1;
      }
    }
    return {
      up: cluster.redisReady === true,
      lag: (st.inboxLag ?? 0) + (st.broadcastLag ?? 0),
      pending: (st.inboxPending ?? 0) + (st.broadcastPending ?? 0),
      memoryBytes: cluster.redisReady === true ? this.redisMemory : -1,
    };
  }
}

/** Cumulative bucket counts of a histogram, summed over its label sets, by upper bound. */
async function bucketCounts(h: Histogram<string>): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const v of (await h.get()).values) {
    if (v.metricName?.endsWith('_bucket') !== true) continue;
    const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
    out.set(le, (out.get(le) ?? 0) + v.value);
  }
  return out;
}

/**
 * p50/p90/p99 of what was observed between two cumulative snapshots, as the upper bound of the bucket
 * the percentile falls in (Prometheus's histogram_quantile interpolates inside it; an upper bound never
 * understates). Null when nothing was observed.
 */
export function percentiles(
  now: Map<number, number>,
  before: Map<number, number>,
): { p50: number; p90: number; p99: number } | null {
  const bounds = [...now.keys()].sort((a, b) => a - b);
  const delta = bounds.map((le) => (now.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = delta[delta.length - 1] ?? 0;
  if (total <= 0) return null;
  const at = (q: number): number => {
    const rank = q * total;
    const i = delta.findIndex((c) => c >= rank);
    const le = bounds[i] ?? Infinity;
    // Past the largest finite bound: report that bound (the histogram knows no more).
    const finite = Number.isFinite(le) ? le : (bounds[bounds.length - 2] ?? 0);
    return Math.round(finite * 1e6) / 1e3;
  };
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

/** The upstream part of /stats as ServiceSamples. */
function services(upstream: unknown): ServiceSample[] {
  const svc = (upstream as { services?: Record<string, Record<string, unknown>> } | undefined)?.services;
  if (svc === undefined) return [];
  return Object.entries(svc).map(([service, s]) => {
    const queued = Object.values((s.queued ?? {}) as Record<string, number>).reduce((a, n) => a + n, 0);
    const failed = (s.failed ?? {}) as { busy?: number; unavailable?: number };
    const instances = Array.isArray(s.instances) ? s.instances.length : -1;
    return {
      service,
      kind: String(s.kind ?? ''),
      instances,
      queued: queued + Number(s.retrying ?? 0),
      failures: (failed.busy ?? 0) + (failed.unavailable ?? 0),
    };
  });
}
