/**
 * The pair workload of bench/webtransport.ts, for WebSocket and WebTransport alike: N clients in
 * pairs (client p and client p + N/2 chat with each other), driven by forked workers
 * (bench/lib/wt-pair-worker.ts: pacing, payload layout, delivery checks). This side forks them,
 * measures the server's CPU (/proc/<pid>/stat) and the machine's packet counters (/proc/net/snmp)
 * over the measured window only, and adds the workers' counts up.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LatencySummary } from './histogram.js';
import { forkWorker, pairSlice, request, stopWorkers } from './ipc.js';
import { MIN_PAYLOAD, addCounts, combine } from './pair-stats.js';
import { CpuMeter, machineBusy, machineCpu, otherCores, overWindow } from './proc.js';
import type { BenchTransport } from './wt-conn.js';
import {
  type PairWorkload,
  type WorkerDone,
  type WorkerInit,
  type WorkerReady,
  type WorkerStart,
} from './wt-pair-worker.js';

export type { PairWorkload } from './wt-pair-worker.js';

/** A pair run's totals over all workers, with the server's CPU over the measured window. */
export interface PairResult {
  kind: BenchTransport;
  mode: string;
  qos: 0 | 1;
  payload: number;
  clients: number;
  connected: number;
  connectFailures: Record<string, number>;
  sent: number;
  delivered: number;
  sentTotal: number;
  deliveredTotal: number;
  /** Deliveries inside the measured window per second. */
  throughput: number;
  acked: number;
  ackedTotal: number;
  duplicates: number;
  gaps: number;
  missingAcked: number;
  deliveredTwice: number;
  outOfOrder: number;
  unacked: number;
  skippedBackpressure: number;
  stalls: number;
  pacerBacklog: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  latency: LatencySummary;
  ackLatency: LatencySummary;
  /** CPU share (1 = one core) of the server and of each generator process over the window. */
  serverCpu: number;
  serverCpuSplit: { user: number; system: number };
  /** Server CPU microseconds per delivered message (user + system). */
  serverCpuPerMessageUs: number;
  loadgenCpu: number[];
  machineBusy: number;
  otherCores: number;
  windowSeconds: number;
  generatorBound: boolean;
  serverBound: boolean;
  /** Machine-wide UDP datagrams dropped for a full receive buffer during the run (/proc/net/snmp). */
  udpRcvbufErrors: number;
  /**
   * Packets received machine-wide (server and clients, loopback) per delivered message in the measured
   * window: UDP datagrams for WebTransport, TCP segments for WebSocket.
   */
  packetsPerMessage: number;
}

/** Machine-wide packet counters from /proc/net/snmp (NaN if unreadable). */
export interface NetCounters {
  udpInDatagrams: number;
  udpRcvbufErrors: number;
  tcpInSegs: number;
}

/** Reads {@link NetCounters} now; callers subtract two readings. */
export function netCounters(): NetCounters {
  const field = (lines: string[], prefix: string, name: string): number => {
    const rows = lines.filter((l) => l.startsWith(prefix));
    const names = rows[0]?.split(/\s+/) ?? [];
    const values = rows[1]?.split(/\s+/) ?? [];
    return Number(values[names.indexOf(name)]);
  };
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n');
    return {
      udpInDatagrams: field(lines, 'Udp:', 'InDatagrams'),
      udpRcvbufErrors: field(lines, 'Udp:', 'RcvbufErrors'),
      tcpInSegs: field(lines, 'Tcp:', 'InSegs'),
    };
  } catch {
    return { udpInDatagrams: NaN, udpRcvbufErrors: NaN, tcpInSegs: NaN };
  }
}

/** The worker entry point, beside this file (.ts under tsx). */
const WORKER_SCRIPT = fileURLToPath(new URL('./wt-pair-worker.ts', import.meta.url));

/** Runs one pair workload against a running node whose pid is `serverPid`. */
export async function runPairs(w: PairWorkload, serverPid: number): Promise<PairResult> {
  const procs = Math.max(1, Math.min(w.procs, w.pairs));
  const runTag = `${w.userPrefix}${Date.now().toString(36)}`;
  const net0 = netCounters();
  const workers: ChildProcess[] = [];
  for (let k = 0; k < procs; k++) workers.push(forkWorker(WORKER_SCRIPT));
  try {
    const ready = await Promise.all(
      workers.map((child, k) => {
        const { pairStart, pairEnd } = pairSlice(k, procs, w.pairs, w.rate);
        const init: WorkerInit = {
          type: 'init',
          w: { ...w, connectConcurrency: Math.max(1, Math.ceil(w.connectConcurrency / procs)) },
          pairStart,
          pairEnd,
          runTag,
        };
        return request<WorkerReady>(child, init, 'ready', 120_000);
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    const limitMs = w.warmupMs + w.durationMs + w.graceMs + 60_000;
    const dones = workers.map((child, k) => {
      const start: WorkerStart = { type: 'start', rate: pairSlice(k, procs, w.pairs, w.rate).rate };
      return request<WorkerDone>(child, start, 'done', limitMs);
    });
    const measured = overWindow(
      w.warmupMs,
      w.durationMs,
      () => ({ meter: new CpuMeter(serverPid), m0: machineCpu(), n0: netCounters() }),
      ({ meter, m0, n0 }) => {
        const n1 = netCounters();
        const packets = w.kind === 'wt' ? n1.udpInDatagrams - n0.udpInDatagrams : n1.tcpInSegs - n0.tcpInSegs;
        return { split: meter.split(), busy: machineBusy(m0, machineCpu()), packets };
      },
    );
    const stats = await Promise.all(dones);
    const { split, busy, packets } = await measured;
    const { sum, latency, ackLatency, loadgenCpu, windowSeconds, errors, closes } = combine(stats);
    const throughput = sum((s) => s.deliveredInWindow) / windowSeconds;
    const serverCpu = split.user + split.system;
    return {
      kind: w.kind,
      mode: w.rate > 0 ? `open loop ${w.rate} msg/s` : `closed loop, window ${w.window}/sender`,
      qos: w.qos,
      payload: Math.max(MIN_PAYLOAD, w.payload),
      clients: w.pairs * 2,
      connected: ready.reduce((a, r) => a + r.connected, 0),
      connectFailures: ready.reduce((a, r) => addCounts(a, r.connectFailures), {}),
      sent: sum((s) => s.sent),
      delivered: sum((s) => s.delivered),
      sentTotal: sum((s) => s.sentTotal),
      deliveredTotal: sum((s) => s.deliveredTotal),
      throughput,
      acked: sum((s) => s.acked),
      ackedTotal: sum((s) => s.ackedTotal),
      duplicates: sum((s) => s.duplicates),
      gaps: sum((s) => s.gaps),
      missingAcked: sum((s) => s.missingAcked),
      deliveredTwice: sum((s) => s.deliveredTwice),
      outOfOrder: sum((s) => s.outOfOrder),
      unacked: sum((s) => s.unacked),
      skippedBackpressure: sum((s) => s.skippedBackpressure),
      stalls: sum((s) => s.stalls),
      pacerBacklog: sum((s) => s.pacerBacklog),
      errors,
      closes,
      latency,
      ackLatency,
      serverCpu,
      serverCpuSplit: split,
      serverCpuPerMessageUs: throughput > 0 ? (serverCpu / throughput) * 1e6 : NaN,
      loadgenCpu,
      machineBusy: busy,
      otherCores: otherCores(busy, serverCpu, ...loadgenCpu),
      windowSeconds,
      generatorBound: loadgenCpu.some((c) => c > 0.9),
      serverBound: serverCpu > 0.9,
      udpRcvbufErrors: netCounters().udpRcvbufErrors - net0.udpRcvbufErrors,
      packetsPerMessage: packets / (sum((s) => s.deliveredInWindow) || 1),
    };
  } finally {
    await stopWorkers(workers);
  }
}
