import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Histogram, type Registry } from 'prom-client';

/** How often the event loop is sampled (ms): the loop is late when a sample comes later than this. */
export const EVENT_LOOP_SAMPLE_MS = 10;

/**
 * Upper bounds (seconds) of `ferry_event_loop_delay_seconds`: fine below 10 ms, where a healthy loop
 * sits, and up to seconds, where a stall is an incident.
 */
export const EVENT_LOOP_DELAY_BUCKETS = [
  0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
] as const;

/**
 * `ferry_event_loop_delay_seconds`: a cumulative Prometheus histogram of how late the event loop ran a
 * timer due every {@link EVENT_LOOP_SAMPLE_MS} ms, fed by `perf_hooks.monitorEventLoopDelay`.
 *
 * Node's monitor records the time between two samples (the interval plus the delay) in an HDR
 * histogram; at each scrape the samples recorded since the last one are moved into the Prometheus
 * histogram with the interval taken off, and the monitor is reset. Unlike prom-client's
 * `nodejs_eventloop_lag_p99_seconds` gauges (a percentile of the last scrape interval only, which no
 * query can combine across scrapes or nodes), the buckets only grow, so `histogram_quantile` over
 * `rate(...)` gives any window's p99 or p99.9, and the `le` buckets count the stalls of each size.
 * A sample is one observation: a stall of 40 ms counts once, not four times.
 */
export class EventLoopDelay {
  private readonly monitor: IntervalHistogram;

  constructor(registry: Registry) {
    this.monitor = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });
    this.monitor.enable();
    const drain = (h: Histogram): void => this.drainInto(h);
    new Histogram({
      name: 'ferry_event_loop_delay_seconds',
      help:
        `How late the event loop ran a timer due every ${EVENT_LOOP_SAMPLE_MS} ms ` +
        '(perf_hooks.monitorEventLoopDelay; one observation per sample)',
      buckets: [...EVENT_LOOP_DELAY_BUCKETS],
      registers: [registry],
      collect() {
        drain(this);
      },
    });
  }

  /** Stops sampling (the monitor's timer); the histogram keeps what it has. Idempotent. */
  close(): void {
    this.monitor.disable();
  }

  /**
   * Moves the monitor's samples into `h`. The HDR histogram yields its distribution as (percentile,
   * value) points; the samples between two points are observed at the upper one, which never puts a
   * sample in a lower bucket than its own.
   */
  private drainInto(h: Histogram): void {
    const total = this.monitor.count;
    if (total === 0) return;
    const intervalNs = EVENT_LOOP_SAMPLE_MS * 1e6;
    let done = 0;
    for (const [percentile, valueNs] of this.monitor.percentiles) {
      const upTo = Math.min(total, Math.round((total * percentile) / 100));
      const delay = Math.max(0, valueNs - intervalNs) / 1e9;
      for (; done < upTo; done++) h.observe(delay);
    }
    const maxDelay = Math.max(0, this.monitor.max - intervalNs) / 1e9;
    for (; done < total; done++) h.observe(maxDelay);
    this.monitor.reset();
  }
}
