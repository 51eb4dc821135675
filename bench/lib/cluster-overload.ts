/**
 * `npm run bench -- cluster --overload`: Ferry only, one fresh cluster per QoS, every step of
 * `--steps` run whatever the step before it did (the sweep stops at the first failing step; this
 * walks on past saturation). Per step: offered load, what was acked and delivered per second, p50/p99
 * of the delivered messages (QoS 1: every delivered message was acked first) and of the SendAcks,
 * the peak RSS of each node and of redis-server, the sends refused with 109 BUSY (and other codes)
 * and the sends the generator skipped because the node had stopped reading their socket (over 4 MiB
 * unsent: the node slowed them). Goal (docs/cluster.md, "Overload"): bounded RSS and a delivered
 * rate that plateaus past saturation instead of collapsing.
 */
import type { ClusterStepOptions, ClusterStepResult } from './cluster-load.js';
import { runClusterStep } from './cluster-load.js';
import { startCluster, type RunningCluster } from './cluster-nodes.js';
import { mib, ms, num, pct, printTable } from './report.js';

/** What the overload mode needs from bench/cluster.ts. */
export interface OverloadRun {
  steps: number[];
  qosList: (0 | 1)[];
  stepDurationS: number;
  logLevel: string;
  /** Builds the options of one step (fresh users per step). */
  stepOptions(cluster: RunningCluster, qos: 0 | 1, rate: number, durationS: number): ClusterStepOptions;
  waitQuiet(): Promise<unknown>;
  /** The generator's senders wait out `retry_after_ms` (for the table's title). */
  honorRetryAfter: boolean;
  log(line: string): void;
}

export interface OverloadStep {
  qos: 0 | 1;
  rate: number;
  r: ClusterStepResult;
}

const errorCount = (r: ClusterStepResult, code: string): number => r.errors[code] ?? 0;
const otherErrors = (r: ClusterStepResult): number =>
  Object.entries(r.errors).reduce((a, [k, n]) => (k === '109' ? a : a + n), 0);

/** Runs every step for every QoS; prints one table per QoS and returns the steps. */
export async function overloadScenario(o: OverloadRun): Promise<OverloadStep[]> {
  const out: OverloadStep[] = [];
  for (const qos of o.qosList) {
    const cluster = await startCluster('ferry', { sioMaxLen: 0, logLevel: o.logLevel });
    try {
      for (const rate of o.steps) {
        await o.waitQuiet();
        const r = await runClusterStep(o.stepOptions(cluster, qos, rate, o.stepDurationS));
        const peak = Object.values(r.rssPeak).map(mib).join(' / ');
        o.log(
          `  QoS ${qos} step ${num(rate)} msg/s: delivered ${num(r.throughput)}, acked ${num(r.acked)}, ` +
            `109 ${num(errorCount(r, '109'))}, slowed ${num(r.skippedBackpressure)}, ` +
            `held back ${num(r.skippedRetryAfter)}, RSS peak ${peak}`,
        );
        out.push({ qos, rate, r });
      }
    } finally {
      await cluster.stop();
    }
    const loop = o.honorRetryAfter ? 'open loop, senders honour retry_after_ms' : 'open loop';
    printTable(`overload, Ferry QoS ${qos} (${o.stepDurationS} s per step, ${loop})`, rows(out, qos));
  }
  return out;
}

function rows(steps: OverloadStep[], qos: 0 | 1): string[][] {
  return [
    [
      'offered msg/s',
      'acked msg/s',
      'delivered msg/s',
      'p50 / p99 delivered',
      'p99 SendAck',
      'RSS peak node1 / node2 / redis',
      '109 BUSY',
      'other errors',
      'slowed (skipped)',
      'held back (retry_after)',
      'acked not delivered',
      'generator CPU',
      'other procs',
    ],
    ...steps
      .filter((s) => s.qos === qos)
      .map(({ rate, r }) => [
        num(rate),
        num(r.acked / Math.max(1e-9, r.sentRate > 0 ? r.sent / r.sentRate : 1)),
        num(r.throughput),
        `${ms(r.latency.p50Ms)} / ${ms(r.latency.p99Ms)}`,
        ms(r.ackLatency.p99Ms),
        Object.values(r.rssPeak).map(mib).join(' / '),
        num(errorCount(r, '109')),
        num(otherErrors(r)),
        num(r.skippedBackpressure),
        num(r.skippedRetryAfter),
        num(r.ackedNotDelivered),
        `${r.loadgenCpu.map((c) => pct(c)).join(' ')}${r.generatorBound ? ' (bound)' : ''}`,
        r.otherCores.toFixed(2),
      ]),
  ];
}
