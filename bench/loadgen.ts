/**
 * Ferry load generator: N clients in K worker processes (`--procs`), paired 1:1 — client i and client
 * i + N/2 send to each other (bidirectional chat) — each message a Send whose payload carries the
 * sender's send time, so latency is measured send → Deliver on one process clock.
 *
 *   node --import tsx bench/loadgen.ts --url ws://127.0.0.1:8080/ws [--target ferry|baseline]
 *     [--clients 1000] [--rate 20000 | --rate 0 [--window W]] [--duration 20] [--warmup 3]
 *     [--grace 3] [--payload 100] [--qos 0|1] [--procs 1] [--server-pid PID | --admin-url URL]
 *     [--secret S] [--local-addresses 8] [--json]
 *
 * `--rate R` (msg/s, aggregate) paces open loop; `--rate 0` is closed loop with `--window` messages in
 * flight per sender (default: about 4,000 in flight in total): the saturation throughput. Reports sent, delivered, loss (sent − delivered
 * after the grace period), throughput (deliveries inside the measured window / its length), latency
 * percentiles, SendAck counts and latency, server RSS before/after and CPU, and every generator
 * process's CPU — a generator near 100% of a core means the generator, not the server, is the limit.
 *
 * bench/run.mjs starts the servers and calls `runLoad` from here; this CLI is for a server you run.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LatencySummary } from './lib/histogram.js';
import type { WorkerInit, WorkerReady } from './lib/loadgen-worker.js';
import { startWorkers, workerMain } from './lib/loadgen-worker.js';
import { forkWorker, pairSlice, request, stopWorkers } from './lib/ipc.js';
import { addCounts, combine } from './lib/pair-stats.js';
import { recordPerf } from './lib/perf.js';
import { machineBusy, machineCpu, otherCores, overWindow } from './lib/proc.js';
import { mib, ms, num, pct, printTable } from './lib/report.js';
import {
  serverCpuMeter,
  serverFds,
  serverRss,
  serverSyscallMeter,
  type ServerRef,
} from './lib/server-probe.js';
import { BENCH_SECRET, type TargetKind } from './lib/tokens.js';

export interface LoadOptions {
  url: string;
  target: TargetKind;
  secret: string;
  clients: number;
  /** Aggregate msg/s; 0 = closed loop (max sustained rate). */
  rate: number;
  /** Closed loop: messages in flight per sender; 0 = auto, about 4,000 in flight in total. */
  window: number;
  durationS: number;
  warmupS: number;
  graceS: number;
  payload: number;
  qos: 0 | 1;
  procs: number;
  /** QoS 1: ack after this many deliveries or this many ms (docs/protocol.md §5.4 suggests batching). */
  ackEvery: number;
  ackIntervalMs: number;
  /** Spread connections over this many source addresses 127.0.0.2.. (0 = kernel's choice). */
  localAddressCount: number;
  connectConcurrency: number;
  server: ServerRef;
  /** Record the server with `perf` during the measured window into this file (needs the pid). */
  perfFile?: string;
  /** User ids are `${userPrefix}${index}` (default `u`): a fresh prefix keeps runs on one server apart. */
  userPrefix?: string;
  /** Called once the workers start sending (warm-up begins): bench/flood.ts starts its flooder here. */
  onStart?: () => void;
}

export const DEFAULT_LOAD: Omit<LoadOptions, 'url' | 'server'> = {
  target: 'ferry',
  secret: BENCH_SECRET,
  clients: 1000,
  rate: 20_000,
  window: 0,
  durationS: 20,
  warmupS: 3,
  graceS: 3,
  payload: 100,
  qos: 0,
  procs: 1,
  ackEvery: 32,
  ackIntervalMs: 100,
  localAddressCount: 0,
  connectConcurrency: 100,
};

export interface LoadResult {
  target: TargetKind;
  transport: 'ws' | 'tcp';
  clients: number;
  connected: number;
  connectFailures: Record<string, number>;
  connectSeconds: number;
  mode: string;
  qos: 0 | 1;
  payload: number;
  procs: number;
  durationS: number;
  sent: number;
  delivered: number;
  loss: number;
  lossRatio: number;
  sentRate: number;
  /** Deliveries inside the measured window per second. */
  throughput: number;
  acked: number;
  gaps: number;
  duplicates: number;
  skippedBackpressure: number;
  stalls: number;
  pacerBacklog: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  latency: LatencySummary;
  ackLatency: LatencySummary;
  /** CPU share (1 = one core) of each generator process during the measured window. */
  loadgenCpu: number[];
  serverCpu: number;
  machineBusy: number;
  /** Cores busy with processes other than the server and the generators during the window. */
  otherCores: number;
  serverRss: { before: number; connected: number; after: number };
  serverFds: { connected: number };
  /** Server CPU share in user space and in the kernel (sockets) separately. */
  serverCpuSplit: { user: number; system: number };
  /** Server read and write system calls per delivered message during the measured window. */
  serverSyscallsPerMessage: { reads: number; writes: number };
  /** Which side ran out of CPU first, by the 90%-of-a-core rule (both can be true). */
  generatorBound: boolean;
  serverBound: boolean;
}

/** The closed-loop window when none is given: about 4,000 messages in flight over all senders. */
export function autoWindow(clients: number): number {
  return Math.max(1, Math.ceil(4000 / clients));
}

/** Runs one load test against an already running server. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (opts.clients < 2 || opts.clients % 2 !== 0) throw new Error('--clients must be an even number >= 2');
  const pairs = opts.clients / 2;
  const perSender = opts.window > 0 ? opts.window : autoWindow(opts.clients);
  const procs = Math.max(1, Math.min(opts.procs, pairs));
  const localAddresses = Array.from({ length: opts.localAddressCount }, (_, i) => `127.0.0.${i + 2}`);
  const runTag = Date.now().toString(36);
  const rssBefore = await serverRss(opts.server);

  const workers: ChildProcess[] = [];
  for (let k = 0; k < procs; k++) workers.push(forkWorker(fileURLToPath(import.meta.url)));

  try {
    const t0 = performance.now();
    const readies = workers.map((child, k) => {
      const slice = pairSlice(k, procs, pairs, opts.rate);
      const init: WorkerInit = {
        type: 'init',
        url: opts.url,
        target: opts.target,
        secret: opts.secret,
        clients: opts.clients,
        pairStart: slice.pairStart,
        pairEnd: slice.pairEnd,
        payload: opts.payload,
        qos: opts.qos,
        window: perSender,
        ackEvery: opts.ackEvery,
        ackIntervalMs: opts.ackIntervalMs,
        localAddresses,
        connectConcurrency: Math.max(1, Math.ceil(opts.connectConcurrency / procs)),
        runTag,
        ...(opts.userPrefix !== undefined ? { userPrefix: opts.userPrefix } : {}),
      };
      return request<WorkerReady>(child, init, 'ready');
    });
    const ready = await Promise.all(readies);
    const connectSeconds = (performance.now() - t0) / 1000;
    const connected = ready.reduce((a, r) => a + r.connected, 0);
    const connectFailures = ready.reduce((a, r) => addCounts(a, r.connectFailures), {});
    await new Promise((r) => setTimeout(r, 500));
    const rssConnected = await serverRss(opts.server);
    const fdsConnected = serverFds(opts.server);

    const dones = startWorkers(workers, pairs, opts.rate, opts);
    opts.onStart?.();
    let perfDone: Promise<void> = Promise.resolve();
    // Server and machine CPU over the measured window only.
    const measured = overWindow(
      opts.warmupS * 1000,
      opts.durationS * 1000,
      () => {
        const begun = {
          meter: serverCpuMeter(opts.server),
          sysMeter: serverSyscallMeter(opts.server),
          m0: machineCpu(),
        };
        if (opts.perfFile !== undefined && opts.server.pid !== undefined) {
          perfDone = recordPerf(opts.server.pid, opts.durationS, opts.perfFile);
        }
        return begun;
      },
      ({ meter, sysMeter, m0 }) => {
        const split = meter.split();
        return {
          serverCpu: split.user + split.system,
          split,
          busy: machineBusy(m0, machineCpu()),
          sys: sysMeter.delta(),
        };
      },
    );
    const stats = await Promise.all(dones);
    const { serverCpu, split, busy, sys } = await measured;
    await perfDone;
    const rssAfter = await serverRss(opts.server);

    const { sum, latency, ackLatency, loadgenCpu, windowSeconds, errors, closes } = combine(stats);
    const sent = sum((s) => s.sent);
    const delivered = sum((s) => s.delivered);
    return {
      target: opts.target,
      transport: opts.url.startsWith('tcp://') ? 'tcp' : 'ws',
      clients: opts.clients,
      connected,
      connectFailures,
      connectSeconds,
      mode: opts.rate > 0 ? `open loop ${num(opts.rate)} msg/s` : `closed loop, window ${perSender}/sender`,
      qos: opts.qos,
      payload: opts.payload,
      procs,
      durationS: opts.durationS,
      sent,
      delivered,
      loss: sent - delivered,
      lossRatio: sent > 0 ? (sent - delivered) / sent : 0,
      sentRate: sent / windowSeconds,
      throughput: sum((s) => s.deliveredInWindow) / windowSeconds,
      acked: sum((s) => s.acked),
      gaps: sum((s) => s.gaps),
      duplicates: sum((s) => s.duplicates),
      skippedBackpressure: sum((s) => s.skippedBackpressure),
      stalls: sum((s) => s.stalls),
      pacerBacklog: sum((s) => s.pacerBacklog),
      errors,
      closes,
      latency,
      ackLatency,
      loadgenCpu,
      serverCpu,
      machineBusy: busy,
      otherCores: otherCores(busy, serverCpu, ...loadgenCpu),
      serverRss: { before: rssBefore, connected: rssConnected, after: rssAfter },
      serverFds: { connected: fdsConnected },
      serverCpuSplit: split,
      serverSyscallsPerMessage: {
        reads: sys.reads / (sum((s) => s.deliveredInWindow) || 1),
        writes: sys.writes / (sum((s) => s.deliveredInWindow) || 1),
      },
      generatorBound: loadgenCpu.some((c) => c > 0.9),
      serverBound: serverCpu > 0.9,
    };
  } finally {
    await stopWorkers(workers);
  }
}

function fmtCounts(c: Record<string, number>): string {
  const e = Object.entries(c);
  return e.length === 0 ? '-' : e.map(([k, v]) => `${k}: ${num(v)}`).join(', ');
}

/** The workload flags this CLI and `npm run bench` (bench/suite.ts) share, with the same defaults. */
export const LOAD_SHAPE_FLAGS = {
  clients: { type: 'string', default: String(DEFAULT_LOAD.clients) },
  rate: { type: 'string', default: String(DEFAULT_LOAD.rate) },
  window: { type: 'string', default: String(DEFAULT_LOAD.window) },
  duration: { type: 'string', default: String(DEFAULT_LOAD.durationS) },
  warmup: { type: 'string', default: String(DEFAULT_LOAD.warmupS) },
  grace: { type: 'string', default: String(DEFAULT_LOAD.graceS) },
  payload: { type: 'string', default: String(DEFAULT_LOAD.payload) },
  qos: { type: 'string', default: String(DEFAULT_LOAD.qos) },
  procs: { type: 'string', default: String(DEFAULT_LOAD.procs) },
} as const;

/** Rows describing one result, for `printTable` (one column per result). */
export function loadRows(results: { label: string; r: LoadResult }[]): string[][] {
  const col = (f: (r: LoadResult) => string): string[] => results.map((x) => f(x.r));
  return [
    ['', ...results.map((x) => x.label)],
    ['transport / QoS / payload', ...col((r) => `${r.transport} / ${r.qos} / ${r.payload} B`)],
    ['clients (connected)', ...col((r) => `${num(r.clients)} (${num(r.connected)})`)],
    ['mode', ...col((r) => r.mode)],
    ['sent (measured window)', ...col((r) => num(r.sent))],
    ['delivered', ...col((r) => num(r.delivered))],
    ['loss', ...col((r) => `${num(r.loss)} (${pct(r.lossRatio, 3)})`)],
    ['send rate msg/s', ...col((r) => num(r.sentRate))],
    ['throughput msg/s (delivered)', ...col((r) => num(r.throughput))],
    ['latency p50', ...col((r) => ms(r.latency.p50Ms))],
    ['latency p99', ...col((r) => ms(r.latency.p99Ms))],
    ['latency p99.9', ...col((r) => ms(r.latency.p999Ms))],
    ['latency max', ...col((r) => ms(r.latency.maxMs))],
    ['SendAcks (measured)', ...col((r) => num(r.acked))],
    ['SendAck latency p50 / p99', ...col((r) => `${ms(r.ackLatency.p50Ms)} / ${ms(r.ackLatency.p99Ms)}`)],
    ['server CPU (1 core = 100%)', ...col((r) => pct(r.serverCpu))],
    [
      'server CPU µs / message (user + kernel)',
      ...col(
        (r) =>
          `${num((r.serverCpu / r.throughput) * 1e6, 1)} (${num((r.serverCpuSplit.user / r.throughput) * 1e6, 1)} + ${num((r.serverCpuSplit.system / r.throughput) * 1e6, 1)})`,
      ),
    ],
    [
      'server syscalls / message (read, write)',
      ...col(
        (r) =>
          `${r.serverSyscallsPerMessage.reads.toFixed(2)}, ${r.serverSyscallsPerMessage.writes.toFixed(2)}`,
      ),
    ],
    ['generator CPU per process', ...col((r) => r.loadgenCpu.map((c) => pct(c)).join(' '))],
    [
      'machine busy (all cores) / other procs',
      ...col((r) => `${pct(r.machineBusy)} / ${r.otherCores.toFixed(2)} cores`),
    ],
    [
      'limit',
      ...col(
        (r) =>
          (r.serverBound ? 'server' : '') +
            (r.generatorBound ? (r.serverBound ? '+generator' : 'generator') : '') || 'neither at 90%',
      ),
    ],
    [
      'server RSS before / connected / after',
      ...col((r) => `${mib(r.serverRss.before)} / ${mib(r.serverRss.connected)} / ${mib(r.serverRss.after)}`),
    ],
    ['errors (code: n)', ...col((r) => fmtCounts(r.errors))],
    ['closes', ...col((r) => fmtCounts(r.closes))],
    ['connect failures', ...col((r) => fmtCounts(r.connectFailures))],
    [
      'backpressure skips / stalls / gaps / dups',
      ...col(
        (r) => `${num(r.skippedBackpressure)} / ${num(r.stalls)} / ${num(r.gaps)} / ${num(r.duplicates)}`,
      ),
    ],
  ];
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      target: { type: 'string', default: DEFAULT_LOAD.target },
      secret: { type: 'string', default: DEFAULT_LOAD.secret },
      ...LOAD_SHAPE_FLAGS,
      'ack-every': { type: 'string', default: String(DEFAULT_LOAD.ackEvery) },
      'ack-interval': { type: 'string', default: String(DEFAULT_LOAD.ackIntervalMs) },
      'local-addresses': { type: 'string', default: String(DEFAULT_LOAD.localAddressCount) },
      'server-pid': { type: 'string' },
      'admin-url': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.url === undefined) throw new Error('--url ws://host:port/ws or tcp://host:port is required');
  const server: ServerRef = {};
  if (values['server-pid'] !== undefined) server.pid = Number(values['server-pid']);
  if (values['admin-url'] !== undefined) server.adminUrl = values['admin-url'];
  const result = await runLoad({
    ...DEFAULT_LOAD,
    url: values.url,
    target: values.target === 'baseline' ? 'baseline' : 'ferry',
    secret: values.secret,
    clients: Number(values.clients),
    rate: Number(values.rate),
    window: Number(values.window),
    durationS: Number(values.duration),
    warmupS: Number(values.warmup),
    graceS: Number(values.grace),
    payload: Number(values.payload),
    qos: values.qos === '1' ? 1 : 0,
    procs: Number(values.procs),
    ackEvery: Number(values['ack-every']),
    ackIntervalMs: Number(values['ack-interval']),
    localAddressCount: Number(values['local-addresses']),
    server,
  });
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else printTable(`load test: ${result.target}`, loadRows([{ label: result.target, r: result }]));
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (process.argv.includes('--worker')) workerMain();
else if (isMain) {
  cli().catch((err: unknown) => {
    process.stderr.write(`loadgen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
