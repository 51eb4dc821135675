/**
 * A log-linear latency histogram (HdrHistogram-like): buckets grow by 1% from 1 µs to ~100 s, so any
 * percentile is within 1% of the true value, recording is O(1) with no allocation, and histograms
 * from several load-generator processes merge by adding counts.
 */

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Lowest bucket bound, microseconds. */
const MIN_US = 1;
/** 1 µs * 1.01^1852 ≈ 100 s. */
const BUCKETS = 1852;

export interface HistogramJson {
  counts: Record<string, number>;
  total: number;
  maxUs: number;
  sumUs: number;
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  total = 0;
  maxUs = 0;
  sumUs = 0;

  /** Records one latency in milliseconds. */
  recordMs(ms: number): void {
    const us = ms * 1000;
    let i = us <= MIN_US ? 0 : Math.ceil(Math.log(us / MIN_US) / LOG_GROWTH);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.counts[i]!++;
    this.total++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Adds another histogram's counts (from `toJSON`). */
  merge(other: HistogramJson): void {
    for (const [k, v] of Object.entries(other.counts)) this.counts[Number(k)]! += v;
    this.total += other.total;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  /** Sparse form for IPC and result files. */
  toJSON(): HistogramJson {
    const counts: Record<string, number> = {};
    this.counts.forEach((v, i) => {
      if (v !== 0) counts[i] = v;
    });
    return { counts, total: this.total, maxUs: this.maxUs, sumUs: this.sumUs };
  }

  /** The value at quantile q (0..1), in ms: the upper bound of the bucket holding it (max for q = 1). */
  quantileMs(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(MIN_US * GROWTH ** i, this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  summary(): LatencySummary {
    return {
      count: this.total,
      meanMs: this.total === 0 ? 0 : this.sumUs / this.total / 1000,
      p50Ms: this.quantileMs(0.5),
      p90Ms: this.quantileMs(0.9),
      p99Ms: this.quantileMs(0.99),
      p999Ms: this.quantileMs(0.999),
      maxMs: this.maxUs / 1000,
    };
  }
}
