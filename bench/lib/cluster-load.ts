/**
 * One open-loop load step against a two-node cluster (bench/cluster.ts): forks the generator
 * processes (Ferry and the minimal forward, which speaks Ferry's frames: bench/lib/loadgen-worker.ts
 * through bench/loadgen.ts; Socket.IO: bench/lib/socketio-worker.ts), connects client p to node 1 and
 * its partner p + N/2 to node 2 so that every message crosses nodes, paces `rate` msg/s, and measures
 * over the window: latency, loss, acks, CPU of each node and of redis-server (/proc), their RSS, and
 * each generator process's own CPU.
 * Optionally SIGSTOPs one node for a while during the window (the lag test).
 */
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LatencySummary } from './histogram.js';
import { forkWorker, pairSlice, request, stopWorkers } from './ipc.js';
import { startWorkers, type WorkerInit, type WorkerReady } from './loadgen-worker.js';
import { addCounts, combine } from './pair-stats.js';
import { CpuMeter, machineBusy, machineCpu, otherCores, rssBytes } from './proc.js';
import { BENCH_SECRET } from './tokens.js';

/** Ferry, Socket.IO + adapter, or bench/lib/minimal-forward-node.ts (the floor). */
export type ClusterTarget = 'ferry' | 'socketio' | 'minimal';

/** A process whose CPU and RSS the step reports. */
export interface ProcRef {
  label: string;
  pid: number;
}

export interface ClusterStepOptions {
  target: ClusterTarget;
  /** Node 1 and node 2 client URLs (ws://…/ws for Ferry and the minimal forward, http://… for Socket.IO). */
  urls: [string, string];
  clients: number;
  rate: number;
  durationS: number;
  warmupS: number;
  graceS: number;
  payload: number;
  qos: 0 | 1;
  procs: number;
  /** User-id prefix, fresh per step so that no step sees another's leftovers. */
  userPrefix: string;
  nodes: ProcRef[];
  redis: ProcRef;
  /** Lag test: SIGSTOP `pid` `atS` seconds into the measured window, SIGCONT `forS` seconds later. */
  pause?: { pid: number; atS: number; forS: number };
  /** Ferry generator: refused senders wait out `retry_after_ms` (`--honor-retry`). */
  honorRetryAfter?: boolean;
  /** QoS 0 with no per-message answer: Sends with id 0 (no SendAck), emits without an ack callback. */
  noAck?: boolean;
  /** Socket.IO generator: bare `ws` with the wire protocol (default) or socket.io-client. */
  sioClient?: 'raw' | 'socket.io-client';
}

export interface ClusterStepResult {
  target: ClusterTarget;
  qos: 0 | 1;
  /** Sends asked for no answer (acked stays 0). */
  noAck: boolean;
  rate: number;
  clients: number;
  connected: number;
  connectFailures: Record<string, number>;
  sent: number;
  delivered: number;
  loss: number;
  lossRatio: number;
  /** Sends the server acknowledged (SendAck / Socket.IO ack), and acked messages never delivered. */
  acked: number;
  ackedNotDelivered: number;
  /** Sends answered with an Error frame (Ferry: e.g. 107 UNAVAILABLE for QoS 1 it cannot store). */
  refused: number;
  sentRate: number;
  throughput: number;
  gaps: number;
  duplicates: number;
  pacerBacklog: number;
  /** Ferry generator: sends skipped because a client socket had more than 4 MiB unsent. */
  skippedBackpressure: number;
  /** Ferry generator with `honorRetryAfter`: sends skipped while a retry advice ran. */
  skippedRetryAfter: number;
  latency: LatencySummary;
  ackLatency: LatencySummary;
  /** CPU share (1 = one core) per node label and of redis-server over the measured window. */
  nodeCpu: Record<string, number>;
  redisCpu: number;
  /** (nodes + redis-server) CPU µs per delivered message, and the nodes alone. */
  cpuPerMessageUs: number;
  nodeCpuPerMessageUs: number;
  rss: Record<string, number>;
  /** Highest RSS of each node and of redis-server, sampled every 250 ms from warm-up to the end of the grace. */
  rssPeak: Record<string, number>;
  loadgenCpu: number[];
  /** A generator process used more than 85% of a core: the generator may be the limit. */
  generatorBound: boolean;
  machineBusy: number;
  otherCores: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
}

/** A generator process above this share of a core may be what limits the step. */
export const GENERATOR_BOUND = 0.85;

function workerScript(target: ClusterTarget): string {
  const here = fileURLToPath(import.meta.url);
  const ext = here.endsWith('.ts') ? '.ts' : '.js';
  // bench/loadgen.ts runs loadgen-worker's workerMain when forked with --worker.
  return target !== 'socketio'
    ? join(dirname(here), '..', `loadgen${ext}`)
    : join(dirname(here), `socketio-worker${ext}`);
}

const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));

function resume(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // already gone
  }
}

/** Runs one step; the nodes and redis-server keep running. */
export async function runClusterStep(o: ClusterStepOptions): Promise<ClusterStepResult> {
  if (o.clients < 2 || o.clients % 2 !== 0) throw new Error('--clients must be an even number >= 2');
  if (o.rate <= 0) throw new Error('the cluster bench runs open loop: --rate must be > 0');
  const pairs = o.clients / 2;
  const procs = Math.max(1, Math.min(o.procs, pairs));
  const workers: ChildProcess[] = [];
  for (let k = 0; k < procs; k++) workers.push(forkWorker(workerScript(o.target)));
  let stopped = false;
  try {
    const ready = await Promise.all(
      workers.map((child, k) => {
        const slice = pairSlice(k, procs, pairs, o.rate);
        const init: WorkerInit = {
          type: 'init',
          url: o.urls[0],
          partnerUrl: o.urls[1],
          userPrefix: o.userPrefix,
          // The minimal forward takes the token as the user id, like the baseline server.
          target: o.target === 'minimal' ? 'baseline' : 'ferry',
          secret: BENCH_SECRET,
          clients: o.clients,
          pairStart: slice.pairStart,
          pairEnd: slice.pairEnd,
          payload: o.payload,
          qos: o.qos,
          window: 1,
          ackEvery: 32,
          ackIntervalMs: 100,
          localAddresses: [],
          connectConcurrency: Math.max(1, Math.ceil(100 / procs)),
          runTag: `${o.userPrefix}${Date.now().toString(36)}`,
          honorRetryAfter: o.honorRetryAfter === true,
          noAck: o.noAck === true,
          sioClient: o.sioClient ?? 'raw',
        };
        return request<WorkerReady>(child, init, 'ready');
      }),
    );
    const connected = ready.reduce((a, r) => a + r.connected, 0);
    const connectFailures = ready.reduce((a, r) => addCounts(a, r.connectFailures), {});
    // Let presence settle on both nodes before the first message.
    await sleep(500);

    const procsToWatch = [...o.nodes, o.redis];
    const rssPeak: Record<string, number> = Object.fromEntries(procsToWatch.map((p) => [p.label, 0]));
    const sampleRss = (): void => {
      for (const p of procsToWatch) rssPeak[p.label] = Math.max(rssPeak[p.label]!, rssBytes(p.pid) || 0);
    };
    const rssTimer = setInterval(sampleRss, 250);
    const dones = startWorkers(workers, pairs, o.rate, o);
    const pause = o.pause;
    if (pause !== undefined) {
      setTimeout(
        () => {
          if (stopped) return;
          process.kill(pause.pid, 'SIGSTOP');
          setTimeout(() => resume(pause.pid), pause.forS * 1000);
        },
        (o.warmupS + pause.atS) * 1000,
      );
    }
    const measured = (async () => {
      await sleep(o.warmupS * 1000);
      const meters = o.nodes.map((n) => new CpuMeter(n.pid));
      const redisMeter = new CpuMeter(o.redis.pid);
      const m0 = machineCpu();
      await sleep(o.durationS * 1000);
      return {
        nodeCpu: Object.fromEntries(o.nodes.map((n, i) => [n.label, meters[i]!.share()])),
        redisCpu: redisMeter.share(),
        busy: machineBusy(m0, machineCpu()),
      };
    })();
    const stats = await Promise.all(dones).finally(() => clearInterval(rssTimer));
    sampleRss();
    const { nodeCpu, redisCpu, busy } = await measured;
    const rss = Object.fromEntries([...o.nodes, o.redis].map((p) => [p.label, rssBytes(p.pid)]));

    const { sum, latency, ackLatency, loadgenCpu, windowSeconds, errors, closes } = combine(stats);
    const sent = sum((s) => s.sent);
    const delivered = sum((s) => s.delivered);
    const acked = sum((s) => s.acked);
    const throughput = sum((s) => s.deliveredInWindow) / windowSeconds;
    const serverCpu = Object.values(nodeCpu).reduce((a, b) => a + b, 0);
    return {
      target: o.target,
      qos: o.qos,
      noAck: o.noAck === true,
      rate: o.rate,
      clients: o.clients,
      connected,
      connectFailures,
      sent,
      delivered,
      loss: sent - delivered,
      lossRatio: sent > 0 ? (sent - delivered) / sent : 0,
      acked,
      ackedNotDelivered: Math.max(0, acked - delivered),
      refused: stats.reduce((a, s) => a + Object.values(s.errors).reduce((x, y) => x + y, 0), 0),
      sentRate: sent / windowSeconds,
      throughput,
      gaps: sum((s) => s.gaps),
      duplicates: sum((s) => s.duplicates),
      pacerBacklog: sum((s) => s.pacerBacklog),
      skippedBackpressure: sum((s) => s.skippedBackpressure),
      skippedRetryAfter: sum((s) => s.skippedRetryAfter),
      latency,
      ackLatency,
      nodeCpu,
      redisCpu,
      cpuPerMessageUs: throughput > 0 ? ((serverCpu + redisCpu) / throughput) * 1e6 : NaN,
      nodeCpuPerMessageUs: throughput > 0 ? (serverCpu / throughput) * 1e6 : NaN,
      rss,
      rssPeak,
      loadgenCpu,
      generatorBound: loadgenCpu.some((c) => c > GENERATOR_BOUND),
      machineBusy: busy,
      otherCores: otherCores(busy, serverCpu, redisCpu, ...loadgenCpu),
      errors,
      closes,
    };
  } finally {
    stopped = true;
    if (o.pause !== undefined) resume(o.pause.pid);
    await stopWorkers(workers);
  }
}
