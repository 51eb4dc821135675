import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { EVENT_LOOP_SAMPLE_MS, EventLoopDelay } from '../../../src/observability/event-loop-delay.js';
import { Metrics } from '../../../src/observability/metrics.js';

interface Buckets {
  count: number;
  sum: number;
  /** Cumulative count per `le`. */
  le: Map<number, number>;
}

async function scrape(registry: Registry): Promise<Buckets> {
  const [metric] = (await registry.getMetricsAsJSON()).filter(
    (m) => m.name === 'ferry_event_loop_delay_seconds',
  );
  expect(metric, 'ferry_event_loop_delay_seconds is registered').to.not.equal(undefined);
  const out: Buckets = { count: 0, sum: 0, le: new Map() };
  for (const v of metric!.values as {
    metricName?: string;
    value: number;
    labels: { le?: string | number };
  }[]) {
    if (v.metricName === 'ferry_event_loop_delay_seconds_count') out.count = v.value;
    else if (v.metricName === 'ferry_event_loop_delay_seconds_sum') out.sum = v.value;
    else if (v.labels.le !== undefined && v.labels.le !== '+Inf') out.le.set(Number(v.labels.le), v.value);
  }
  return out;
}

/**
 * Resolves after the monitor's first sample: Node records a sample as the time since the one before, so
 * the first timer run only sets the start. Its uv timer, due EVENT_LOOP_SAMPLE_MS after enable(), runs
 * before this later-due one (libuv runs timers in due order): an ordering, not a guess at a duration.
 */
function firstSample(): Promise<void> {
  return new Promise((r) => setTimeout(r, EVENT_LOOP_SAMPLE_MS + 1));
}

/** Holds the event loop for `ms` (the stall under test), then lets the due timers run. */
async function stall(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else runs
  }
  // The monitor's timer fell due during the stall, before this one: libuv runs timers in due order.
  await new Promise((r) => setTimeout(r, 1));
}

describe('EventLoopDelay (ferry_event_loop_delay_seconds)', () => {
  let eld: EventLoopDelay | null = null;

  afterEach(() => {
    eld?.close();
    eld = null;
  });

  it('records a stall of the event loop in the bucket of its size, once', async () => {
    const registry = new Registry();
    eld = new EventLoopDelay(registry);
    await firstSample();
    await stall(80);
    const a = await scrape(registry);
    expect(a.count).to.be.greaterThan(0);
    // The stall is one sample about 70-80 ms late (the 10 ms sampling interval is taken off).
    expect(a.count - a.le.get(0.05)!, 'samples later than 50 ms').to.be.at.least(1);
    expect(a.sum).to.be.at.least(0.05);
  });

  it('moves each sample in once: a scrape after close() adds nothing', async () => {
    const registry = new Registry();
    eld = new EventLoopDelay(registry);
    await firstSample();
    await stall(30);
    eld.close();
    const a = await scrape(registry);
    const b = await scrape(registry);
    expect(b.count).to.equal(a.count);
    expect(b.sum).to.equal(a.sum);
  });

  it('is part of the metrics with the process metrics, and absent without them', async () => {
    const withDefaults = new Metrics();
    try {
      const text = await withDefaults.registry.metrics();
      expect(text).to.include('# TYPE ferry_event_loop_delay_seconds histogram');
      expect(text).to.include('ferry_event_loop_delay_seconds_bucket{le="0.02"}');
      // prom-client's own per-scrape gauges are still there.
      expect(text).to.include('ferry_nodejs_eventloop_lag_p99_seconds');
    } finally {
      withDefaults.eventLoopDelay?.close();
    }
    const without = new Metrics({ defaultMetrics: false });
    expect(without.eventLoopDelay).to.equal(null);
    expect(await without.registry.metrics()).to.not.include('ferry_event_loop_delay_seconds');
  });
});
