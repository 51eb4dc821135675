/**
 * What one flooding client does to everyone else: `npm run bench -- flood [flags]`.
 *
 * One Ferry node (dist/, the default rate limits: 200 frames/s, 1 MiB/s, flood tolerance 3 s) and
 * --pairs 100 bystander pairs (bench/loadgen.ts, one worker process, WebSocket) exchanging --rate
 * 1,000 msg/s in total, QoS 1 (stored, SendAcked, acked by the recipients), 100-byte payloads. Each
 * round measures the bystanders first with nobody flooding (quiet), then once per flood kind and
 * flooder transport, with one flooding client (bench/lib/flood-worker.ts, its own process) writing
 * that frame kind as fast as its socket takes it from the start of the warm-up to the end of the
 * measured window, and reconnecting whenever it is cut.
 *
 *   --kinds ping,ping-60k,pong,ack,send,publish,subscribe,garbage,preauth   (default: all)
 *   --transports tcp,ws   --rounds 1   --duration 8   --warmup 1   --grace 3
 *   --pairs 100   --rate 1000   --no-quiet-wait   --server-args "--flag value ..."
 *
 * Per phase: the bystanders' p50/p99/p99.9/max and loss, p99 against the quiet run of the same round
 * (the goal: within 2x), node CPU over the measured window, the flooder's CPU, how its connections
 * ended and how long each lived from its first flood byte, what it wrote and what the server answered,
 * what the node logged when it cut a flooder (frames processed and refused), and whether the
 * bystanders' generator fell behind its schedule. Appends to bench/results/flood.json.
 */
import { parseArgs } from 'node:util';
import { FLOOD_KINDS, startFlooder, type FloodKind, type FloodStats } from './lib/flood-worker.js';
import { ms, num, pct, printTable } from './lib/report.js';
import { startFerry, type RunningServer } from './lib/servers.js';
import { BENCH_SECRET } from './lib/tokens.js';
import { DEFAULT_LOAD, runLoad, type LoadResult } from './loadgen.js';

const FLAGS = {
  kinds: { type: 'string', default: FLOOD_KINDS.join(',') },
  transports: { type: 'string', default: 'tcp,ws' },
  rounds: { type: 'string', default: '1' },
  duration: { type: 'string', default: '8' },
  warmup: { type: 'string', default: '1' },
  grace: { type: 'string', default: '3' },
  pairs: { type: 'string', default: '100' },
  rate: { type: 'string', default: '1000' },
  'no-quiet-wait': { type: 'boolean', default: false },
  'server-args': { type: 'string', default: '' },
} as const;

/** What the node logs when it cuts a flooder (src/session/session.ts); older builds log nothing. */
const FLOOD_LOG_MSG = 'flooding connection cut';

/** One measured phase: the bystanders' load result, and the flooder's when there was one. */
export interface FloodPhase {
  label: string;
  kind: FloodKind | 'quiet';
  transport: 'tcp' | 'ws' | '-';
  load: LoadResult;
  flooder: FloodStats | null;
  /** The node's log records of flooders it cut during the phase. */
  cuts: Record<string, unknown>[];
}

/** Waits until the machine is quiet enough to measure (bench/suite.ts's check); `skip` returns at once. */
export type QuietWait = (skip: boolean) => Promise<number>;

async function phase(
  waitQuiet: QuietWait,
  server: RunningServer,
  v: ReturnType<typeof flags>,
  label: string,
  kind: FloodKind | 'quiet',
  transport: 'tcp' | 'ws' | '-',
): Promise<FloodPhase> {
  await waitQuiet(v['no-quiet-wait']);
  process.stderr.write(`  ${label}...\n`);
  const warmupS = Number(v.warmup);
  const durationS = Number(v.duration);
  const flooder =
    kind === 'quiet'
      ? null
      : await startFlooder({
          url: transport === 'tcp' ? server.urls.tcp : server.urls.ws,
          kind,
          secret: BENCH_SECRET,
          userId: `flooder-${label.replace(/\W+/g, '-')}`,
        });
  let flood: Promise<FloodStats> | null = null;
  const logStart = server.logs.length;
  try {
    const load = await runLoad({
      ...DEFAULT_LOAD,
      url: server.urls.ws,
      target: 'ferry',
      clients: Number(v.pairs) * 2,
      rate: Number(v.rate),
      durationS,
      warmupS,
      graceS: Number(v.grace),
      qos: 1,
      procs: 1,
      server: { pid: server.pid, ...(server.urls.admin ? { adminUrl: server.urls.admin } : {}) },
      userPrefix: `${label.replace(/\W+/g, '-')}-u`,
      onStart: () => {
        if (flooder !== null) flood = flooder.flood((warmupS + durationS) * 1000);
      },
    });
    const stats = flood === null ? null : await (flood as Promise<FloodStats>);
    const cuts = server.logs.slice(logStart).filter((r) => r.msg === FLOOD_LOG_MSG);
    return { label, kind, transport, load, flooder: stats, cuts };
  } finally {
    flooder?.stop();
  }
}

function flags(argv: string[]) {
  return parseArgs({ args: argv, options: FLAGS }).values;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function counts(c: Record<string, number>): string {
  const e = Object.entries(c).sort((a, b) => b[1] - a[1]);
  return e.length === 0 ? '-' : e.map(([k, n]) => `${k}: ${num(n)}`).join(', ');
}

/** The node's own count of frames it processed per cut flooder (median), when it logged any. */
function processedPerCut(p: FloodPhase): string {
  const n = p.cuts.map((c) => Number(c.framesProcessed)).filter(Number.isFinite);
  return n.length === 0 ? '-' : num(median(n));
}

function phaseRows(phases: FloodPhase[]): string[][] {
  const quiet = phases.find((p) => p.kind === 'quiet');
  const q99 = quiet?.load.latency.p99Ms ?? NaN;
  const rows = [
    [
      'flood',
      'via',
      'p50',
      'p99',
      'p99.9',
      'max',
      'loss',
      'p99 / quiet',
      'node CPU (user/sys)',
      'flooder CPU',
      'conns',
      'time to cut (median)',
      'processed / cut',
      'frames written',
      'ends',
      'behind',
    ],
  ];
  for (const p of phases) {
    const l = p.load;
    const f = p.flooder;
    rows.push([
      p.kind,
      p.transport,
      ms(l.latency.p50Ms),
      ms(l.latency.p99Ms),
      ms(l.latency.p999Ms),
      ms(l.latency.maxMs),
      `${num(l.loss)}`,
      p.kind === 'quiet' ? '1.00x' : `${(l.latency.p99Ms / q99).toFixed(2)}x`,
      `${pct(l.serverCpu)} (${pct(l.serverCpuSplit.user)}/${pct(l.serverCpuSplit.system)})`,
      f ? pct(f.cpuSeconds / f.wallSeconds) : '-',
      f ? num(f.connections) : '-',
      f ? (f.cutMs.length > 0 ? ms(median(f.cutMs)) : 'never') : '-',
      processedPerCut(p),
      f ? num(f.framesWritten) : '-',
      f ? counts(f.ends) : '-',
      l.pacerBacklog > 0 ? `${num(l.pacerBacklog)} msgs` : 'no',
    ]);
  }
  return rows;
}

/** Runs the scenario; returns what goes into bench/results/flood.json. */
export async function floodScenario(argv: string[], waitQuiet: QuietWait): Promise<unknown> {
  const v = flags(argv);
  const kinds = v.kinds
    .split(',')
    .filter((k): k is FloodKind => (FLOOD_KINDS as readonly string[]).includes(k));
  const transports = v.transports.split(',').filter((t): t is 'tcp' | 'ws' => t === 'tcp' || t === 'ws');
  const extraArgs = v['server-args'].split(' ').filter((a) => a !== '');
  const rounds: FloodPhase[][] = [];
  for (let round = 1; round <= Number(v.rounds); round++) {
    process.stderr.write(`flood: round ${round}\n`);
    const server = await startFerry({ extraArgs: ['--connections-per-ip', '100000', ...extraArgs] });
    const phases: FloodPhase[] = [];
    try {
      phases.push(await phase(waitQuiet, server, v, `r${round} quiet`, 'quiet', '-'));
      for (const kind of kinds) {
        for (const transport of transports) {
          phases.push(await phase(waitQuiet, server, v, `r${round} ${kind} ${transport}`, kind, transport));
        }
      }
    } finally {
      await server.stop();
    }
    printTable(
      `flood, round ${round}: bystanders ${num(Number(v.pairs))} pairs over ws, ${num(Number(v.rate))} msg/s QoS 1, ${v.duration} s measured`,
      phaseRows(phases),
    );
    const other = phases.map(
      (p) => p.load.otherCores - (p.flooder ? p.flooder.cpuSeconds / p.flooder.wallSeconds : 0),
    );
    process.stdout.write(
      `other processes (not node, bystanders or flooder): ${Math.max(0, Math.min(...other)).toFixed(2)}-${Math.max(0, ...other).toFixed(2)} cores\n`,
    );
    rounds.push(phases);
  }
  if (rounds.length > 1) printSpread(rounds);
  return {
    rounds: rounds.map((phases) =>
      phases.map((p) => ({
        label: p.label,
        kind: p.kind,
        transport: p.transport,
        latency: p.load.latency,
        loss: p.load.loss,
        sent: p.load.sent,
        serverCpu: p.load.serverCpu,
        serverCpuSplit: p.load.serverCpuSplit,
        otherCores: p.load.otherCores,
        pacerBacklog: p.load.pacerBacklog,
        errors: p.load.errors,
        closes: p.load.closes,
        flooder: p.flooder,
        cuts: p.cuts,
      })),
    ),
  };
}

/** Median and range over rounds of each phase's p99 ratio to its round's quiet p99. */
function printSpread(rounds: FloodPhase[][]): void {
  const rows = [
    ['flood', 'via', 'quiet p99 (range)', 'p99 / quiet: median', 'min', 'max', 'node CPU (median)'],
  ];
  const labels = rounds[0]!.map((p) => [p.kind, p.transport] as const);
  for (const [kind, transport] of labels) {
    const per = rounds.map((phases) => {
      const q = phases.find((p) => p.kind === 'quiet')!.load.latency.p99Ms;
      const p = phases.find((x) => x.kind === kind && x.transport === transport)!;
      return { ratio: p.load.latency.p99Ms / q, q, cpu: p.load.serverCpu };
    });
    const ratios = per.map((x) => x.ratio);
    const qs = per.map((x) => x.q);
    rows.push([
      kind,
      transport,
      kind === 'quiet' ? `${ms(Math.min(...qs))}-${ms(Math.max(...qs))}` : '',
      `${median(ratios).toFixed(2)}x`,
      `${Math.min(...ratios).toFixed(2)}x`,
      `${Math.max(...ratios).toFixed(2)}x`,
      pct(median(per.map((x) => x.cpu))),
    ]);
  }
  printTable(`flood: spread over ${rounds.length} rounds`, rows);
}
