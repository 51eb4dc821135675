/**
 * The scenarios behind `npm run bench -- <scenario> [flags]` (bench/run.mjs builds, transpiles bench/
 * and runs this). Each scenario starts the servers it needs on 127.0.0.1, runs the load, stops them,
 * prints a table and appends a dated block to bench/results/<scenario>.json.
 *
 *   one-to-one      1:1 chat load against one server   --target ferry|baseline --transport ws|tcp
 *                   --clients 1000 --rate 20000 (0 = closed-loop max) --duration 20 --qos 0|1
 *                   --payload 100 --procs 1 --window N (closed loop; default ~4,000 in flight)
 *                   --perf (Linux perf CPU profile of the server, mapped to src/ lines)
 *                   --cpu-prof (V8 profile; wall-time based, see lib/perf.ts) --cork (baseline
 *                   batches its writes per event-loop turn: an experiment) --no-quiet-wait
 *   compare         the same workload on the bare-ws baseline and on Ferry, one run; prints the ratios
 *                   (closed-loop max throughput, and server CPU per message at --rate)
 *   connections     idle authenticated WebSocket connections to --count 19000 and past the fd limit
 *                   --target ferry|baseline|both --step 2000 --overflow 1500 --procs 4
 *   memory-profile  heap snapshots of Ferry at 0 and at --count 5000 idle connections: what each
 *                   connection retains, by object kind
 *   all             compare, TCP and QoS-1 runs, and connections: everything RESULTS.md reports
 *   cluster         two nodes + Redis, every message cross-node: Ferry (--redis) vs Socket.IO with the
 *                   Redis Streams adapter, and a lag test (bench/cluster.ts lists its flags)
 *   flood           100 bystander pairs at 1,000 msg/s while one client floods each frame kind in
 *                   turn over TCP and WebSocket (bench/flood.ts lists its flags)
 */
import { execSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clusterScenario } from './cluster.js';
import { DEFAULT_CONN, connRows, runConnections, type ConnResult } from './connections.js';
import { floodScenario } from './flood.js';
import {
  DEFAULT_LOAD,
  LOAD_SHAPE_FLAGS,
  autoWindow,
  loadRows,
  runLoad,
  type LoadOptions,
  type LoadResult,
} from './loadgen.js';
import { machineBusy, machineCpu } from './lib/proc.js';
import {
  attributeToFrames,
  perfAvailable,
  summarizePerf,
  type FrameAttribution,
  type PerfSummary,
} from './lib/perf.js';
import { heapGroups, heapGrowth, summarizeCpuProfile, type CpuSummary } from './lib/profile.js';
import { appendResult, benchDir, mib, num, pct, printTable } from './lib/report.js';
import { fetchWithTimeout } from './lib/server-probe.js';
import {
  FERRY_LOAD_ARGS,
  FERRY_LOAD_ENV,
  ferryDir,
  startBaseline,
  startFerry,
  type RunningServer,
} from './lib/servers.js';
import type { TargetKind } from './lib/tokens.js';

const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));
const repoRoot = join(benchDir(), '..');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function gitRevision(): string {
  if (process.env.BENCH_FERRY_DIR) return `BENCH_FERRY_DIR=${process.env.BENCH_FERRY_DIR}`;
  try {
    return execSync('git describe --always --dirty', { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Waits (up to 90 s) until processes other than ours use less than 0.3 of a core, so that a
 * measurement does not start while a build or test run shares the machine. Returns the busy cores seen.
 */
async function waitQuiet(skip: boolean): Promise<number> {
  const cores = os.availableParallelism();
  let busy = 0;
  for (let i = 0; i < 18; i++) {
    const a = machineCpu();
    await sleep(1000);
    busy = machineBusy(a, machineCpu()) * cores;
    if (skip || busy < 0.3) return busy;
    if (i === 0) log(`  waiting for the machine to quiet down (${busy.toFixed(2)} cores busy elsewhere)...`);
    await sleep(4000);
  }
  log(`  machine still busy (${busy.toFixed(2)} cores); measuring anyway`);
  return busy;
}

interface ServerFlags {
  cpuProf: boolean;
  profDir: string;
  perf: boolean;
  /** Baseline only: batch writes per event-loop turn (an experiment, see baseline-ws-server.ts). */
  cork: boolean;
}

async function startTarget(target: TargetKind, flags: ServerFlags | null): Promise<RunningServer> {
  const nodeArgs = flags?.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', flags.profDir] : [];
  if (flags?.perf) nodeArgs.push('--perf-basic-prof');
  return target === 'ferry'
    ? startFerry({ extraArgs: FERRY_LOAD_ARGS, env: FERRY_LOAD_ENV, nodeArgs })
    : startBaseline(nodeArgs, flags?.cork ? ['--cork'] : []);
}

/** Stops the server; with a CPU profile, summarises it and keeps the file under bench/results/profiles. */
async function stopTarget(
  server: RunningServer,
  flags: ServerFlags | null,
  label: string,
): Promise<CpuSummary | null> {
  const code = await server.stop();
  // node --perf-basic-prof leaves its JIT symbol map behind.
  if (flags?.perf) rmSync(join(os.tmpdir(), `perf-${server.pid}.map`), { force: true });
  if (code !== 0 && code !== null)
    log(`  ${server.kind} exited with ${code}: ${server.stderr().slice(-500)}`);
  if (!flags?.cpuProf) {
    if (flags?.profDir) rmSync(flags.profDir, { recursive: true, force: true });
    return null;
  }
  const files = readdirSync(flags.profDir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) {
    log(`  no .cpuprofile written by ${server.kind}`);
    return null;
  }
  const src = join(flags.profDir, files[0]!);
  const keepDir = join(benchDir(), 'results', 'profiles');
  mkdirSync(keepDir, { recursive: true });
  const kept = join(
    keepDir,
    `${label.replace(/[^A-Za-z0-9_.-]+/g, '-')}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`,
  );
  copyFileSync(src, kept);
  rmSync(flags.profDir, { recursive: true, force: true });
  const summary = summarizeCpuProfile(kept, server.kind === 'ferry' ? ferryDir() : repoRoot);
  printCpuSummary(`${label} CPU profile (${kept.slice(repoRoot.length + 1)})`, summary);
  return summary;
}

function printCpuSummary(title: string, s: CpuSummary): void {
  process.stdout.write(
    `\n${title}: ${(s.totalMs / 1000).toFixed(1)} s sampled, idle ${pct(s.idleShare)}, GC ${pct(s.gcShare)} of busy\n`,
  );
  const rows = (h: CpuSummary['self']): string[][] =>
    h.slice(0, 15).map((x) => [x.fn || '', x.location, `${x.ms.toFixed(0)} ms`, pct(x.share, 1)]);
  printTable('self time (share of busy)', [['function', 'location', 'self', 'share'], ...rows(s.self)]);
  printTable('inclusive time', [['function', 'location', 'total', 'share'], ...rows(s.inclusive)]);
  printTable('self time by file', [['', 'file', 'self', 'share'], ...rows(s.byFile)]);
}

function printPerfSummary(title: string, p: PerfSummary & { frames: FrameAttribution }): void {
  const cats = Object.entries(p.categories)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${pct(v)}`)
    .join(', ');
  process.stdout.write(`\n${title}: ${num(p.samples)} samples; ${cats}\n`);
  printTable('top symbols (share of all server CPU samples)', [
    ['symbol', 'where', 'share'],
    ...p.top.slice(0, 25).map((s) => [s.symbol.slice(0, 70), s.location, pct(s.share, 1)]),
  ]);
  printTable('JavaScript self time by file', [
    ['file', 'share'],
    ...p.jsByFile.map((f) => [f.file, pct(f.share, 1)]),
  ]);
  printTable(
    'server CPU charged to the innermost function of the server code on the stack (callees included)',
    [['function', 'share'], ...p.frames.nearest.map((f) => [f.frame, pct(f.share, 1)])],
  );
  printTable('inclusive: samples with the function anywhere on the stack', [
    ['function', 'share'],
    ...p.frames.inclusive.slice(0, 15).map((f) => [f.frame, pct(f.share, 1)]),
  ]);
}

// -----------------------------------------------------------------------------------------------------
// Flags

const LOAD_FLAGS = {
  target: { type: 'string', default: 'ferry' },
  transport: { type: 'string', default: 'ws' },
  ...LOAD_SHAPE_FLAGS,
  rounds: { type: 'string', default: '1' },
  'cpu-prof': { type: 'boolean', default: false },
  perf: { type: 'boolean', default: false },
  cork: { type: 'boolean', default: false },
  'no-quiet-wait': { type: 'boolean', default: false },
} as const;

type LoadFlags = ReturnType<typeof parseLoadFlags>;

function parseLoadFlags(args: string[]) {
  const { values } = parseArgs({ args, options: LOAD_FLAGS });
  return values;
}

function loadOptions(v: LoadFlags, server: RunningServer, overrides: Partial<LoadOptions> = {}): LoadOptions {
  const transport = v.transport === 'tcp' ? 'tcp' : 'ws';
  return {
    ...DEFAULT_LOAD,
    url: transport === 'tcp' ? server.urls.tcp : server.urls.ws,
    target: server.kind,
    clients: Number(v.clients),
    rate: Number(v.rate),
    window: Number(v.window),
    durationS: Number(v.duration),
    warmupS: Number(v.warmup),
    graceS: Number(v.grace),
    payload: Number(v.payload),
    qos: v.qos === '1' ? 1 : 0,
    procs: Number(v.procs),
    server: { pid: server.pid, ...(server.urls.admin ? { adminUrl: server.urls.admin } : {}) },
    ...overrides,
  };
}

// -----------------------------------------------------------------------------------------------------
// Scenarios

interface LoadRun {
  label: string;
  quietBefore: number;
  r: LoadResult;
  cpuProfile: CpuSummary | null;
  perf: (PerfSummary & { frames: FrameAttribution }) | null;
}

/** Starts `target`, runs each of `phases` (option overrides) in turn, stops it. */
async function loadOnTarget(
  target: TargetKind,
  v: LoadFlags,
  phases: { label: string; overrides: Partial<LoadOptions> }[],
): Promise<LoadRun[]> {
  const profDir = v['cpu-prof'] || v.perf ? mkdtempSync(join(os.tmpdir(), 'ferry-prof-')) : '';
  if (v.perf && !perfAvailable()) throw new Error('--perf needs the `perf` tool (linux-tools)');
  const flags: ServerFlags = { cpuProf: v['cpu-prof'], profDir, perf: v.perf, cork: v.cork };
  let server: RunningServer;
  try {
    server = await startTarget(target, flags);
  } catch (err) {
    if (profDir !== '') rmSync(profDir, { recursive: true, force: true });
    throw err;
  }
  const runs: LoadRun[] = [];
  try {
    for (const phase of phases) {
      // A run during which other processes took more than a quarter of a core is repeated (twice at
      // most): this machine is shared, and the comparison is only fair on a quiet one.
      for (let attempt = 1; ; attempt++) {
        const quietBefore = await waitQuiet(v['no-quiet-wait']);
        log(`  ${phase.label}...`);
        const perfFile = v.perf ? join(profDir, `perf-${runs.length}-${attempt}.data`) : undefined;
        const r = await runLoad(
          loadOptions(v, server, { ...phase.overrides, ...(perfFile ? { perfFile } : {}) }),
        );
        if (r.otherCores > 0.25 && attempt < 3 && !v['no-quiet-wait']) {
          log(`  other processes used ${r.otherCores.toFixed(2)} cores during the run; repeating it`);
          continue;
        }
        let perf: LoadRun['perf'] = null;
        if (perfFile !== undefined) {
          const root = target === 'ferry' ? ferryDir() : repoRoot;
          const code = target === 'ferry' ? `${root}/dist/` : `${benchDir()}/.build/`;
          perf = { ...summarizePerf(perfFile, root), frames: attributeToFrames(perfFile, root, code) };
          printPerfSummary(
            `${target} ${phase.label}: perf (CPU samples of the server in the measured window)`,
            perf,
          );
        }
        runs.push({ label: phase.label, quietBefore, r, cpuProfile: null, perf });
        break;
      }
    }
  } finally {
    const summary = await stopTarget(server, flags, `${target}-${phases.map((p) => p.label).join('+')}`);
    const last = runs.at(-1);
    if (last) last.cpuProfile = summary;
  }
  return runs;
}

function describe(v: LoadFlags, rate: number): string {
  const window = Number(v.window) > 0 ? Number(v.window) : autoWindow(Number(v.clients));
  const mode = rate > 0 ? `${num(rate)} msg/s` : `max (window ${window})`;
  return `${v.transport} qos${v.qos} ${mode}`;
}

async function oneToOne(argv: string[]): Promise<unknown> {
  const v = parseLoadFlags(argv);
  const target: TargetKind = v.target === 'baseline' ? 'baseline' : 'ferry';
  const runs = await loadOnTarget(target, v, [{ label: describe(v, Number(v.rate)), overrides: {} }]);
  printTable(`one-to-one: ${target}`, loadRows(runs.map((x) => ({ label: `${target} ${x.label}`, r: x.r }))));
  return { revision: gitRevision(), runs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Server CPU microseconds per delivered message (one message = one Send in, one Deliver + SendAck out). */
function cpuPerMessageUs(r: LoadResult): number {
  return r.throughput > 0 ? (r.serverCpu / r.throughput) * 1e6 : NaN;
}

async function compare(argv: string[]): Promise<unknown> {
  const v = parseLoadFlags(argv);
  const rate = Number(v.rate);
  const phases = [{ label: describe(v, 0), overrides: { rate: 0 } }];
  if (rate > 0) phases.push({ label: describe(v, rate), overrides: { rate } });
  const rounds: { baseline: LoadRun[]; ferry: LoadRun[] }[] = [];
  for (let i = 0; i < Number(v.rounds); i++) {
    log(`round ${i + 1}: baseline`);
    const baseline = await loadOnTarget('baseline', v, phases);
    log(`round ${i + 1}: ferry`);
    const ferry = await loadOnTarget('ferry', v, phases);
    rounds.push({ baseline, ferry });
    const cols = phases.flatMap((_, p) => [
      { label: `baseline ${phases[p]!.label}`, r: baseline[p]!.r },
      { label: `ferry ${phases[p]!.label}`, r: ferry[p]!.r },
    ]);
    printTable(`compare, round ${i + 1}`, loadRows(cols));
  }
  const maxRatio = rounds.map((x) => x.ferry[0]!.r.throughput / x.baseline[0]!.r.throughput);
  const ratios: Record<string, number> = { sustainedThroughputRatio: median(maxRatio) };
  const rows: string[][] = [
    ['', 'baseline', 'ferry', 'ferry / baseline'],
    [
      'max sustained throughput msg/s (median)',
      num(median(rounds.map((x) => x.baseline[0]!.r.throughput))),
      num(median(rounds.map((x) => x.ferry[0]!.r.throughput))),
      `${median(maxRatio).toFixed(2)}x (target >= 0.70x)`,
    ],
    [
      'server CPU µs per message at max',
      num(median(rounds.map((x) => cpuPerMessageUs(x.baseline[0]!.r))), 1),
      num(median(rounds.map((x) => cpuPerMessageUs(x.ferry[0]!.r))), 1),
      '',
    ],
  ];
  if (rate > 0) {
    const cpuB = median(rounds.map((x) => cpuPerMessageUs(x.baseline[1]!.r)));
    const cpuF = median(rounds.map((x) => cpuPerMessageUs(x.ferry[1]!.r)));
    ratios.cpuCapacityRatio = cpuB / cpuF;
    rows.push(
      [
        `server CPU µs per message at ${num(rate)} msg/s`,
        num(cpuB, 1),
        num(cpuF, 1),
        `${(cpuB / cpuF).toFixed(2)}x capacity per core`,
      ],
      [
        `latency p50 / p99 at ${num(rate)} msg/s`,
        `${median(rounds.map((x) => x.baseline[1]!.r.latency.p50Ms)).toFixed(2)} / ${median(rounds.map((x) => x.baseline[1]!.r.latency.p99Ms)).toFixed(2)} ms`,
        `${median(rounds.map((x) => x.ferry[1]!.r.latency.p50Ms)).toFixed(2)} / ${median(rounds.map((x) => x.ferry[1]!.r.latency.p99Ms)).toFixed(2)} ms`,
        '',
      ],
    );
  }
  printTable(`compare: Ferry vs bare ws (${rounds.length} round${rounds.length > 1 ? 's' : ''})`, rows);
  return { revision: gitRevision(), ratios, rounds };
}

const CONN_FLAGS = {
  target: { type: 'string', default: 'both' },
  count: { type: 'string', default: String(DEFAULT_CONN.count) },
  step: { type: 'string', default: String(DEFAULT_CONN.step) },
  overflow: { type: 'string', default: String(DEFAULT_CONN.overflow) },
  procs: { type: 'string', default: String(DEFAULT_CONN.procs) },
  'per-address': { type: 'string', default: String(DEFAULT_CONN.perAddress) },
} as const;

async function connectionsScenario(argv: string[]): Promise<unknown> {
  const { values: v } = parseArgs({ args: argv, options: CONN_FLAGS });
  const targets: TargetKind[] =
    v.target === 'both' ? ['ferry', 'baseline'] : [v.target === 'baseline' ? 'baseline' : 'ferry'];
  const results: (ConnResult & { serverLog: Record<string, unknown>[] })[] = [];
  for (const target of targets) {
    await waitQuiet(false);
    log(`connections: ${target}`);
    const server = await startTarget(target, null);
    const logStart = server.logs.length;
    try {
      const r = await runConnections({
        ...DEFAULT_CONN,
        url: server.urls.ws,
        target,
        count: Number(v.count),
        step: Number(v.step),
        overflow: Number(v.overflow),
        procs: Number(v.procs),
        perAddress: Number(v['per-address']),
        server: { pid: server.pid, ...(server.urls.admin ? { adminUrl: server.urls.admin } : {}) },
      });
      // What the node logged at warn or above during the run (e.g. refusals at capacity), deduplicated.
      const seen = new Map<string, Record<string, unknown>>();
      for (const rec of server.logs.slice(logStart)) {
        if (typeof rec.level === 'number' && rec.level >= 40 && !seen.has(String(rec.msg)))
          seen.set(String(rec.msg), rec);
      }
      results.push({ ...r, serverLog: [...seen.values()] });
    } finally {
      await server.stop();
    }
  }
  printTable('idle authenticated WebSocket connections', connRows(results));
  for (const r of results) {
    printTable(`${r.target}: RSS samples`, [
      ['connections', 'RSS', 'fds', 'V8 heap used', 'step time'],
      ...r.samples.map((s) => [
        num(s.connections),
        mib(s.rssBytes),
        num(s.fds),
        mib(s.heapUsedBytes),
        `${s.rampSeconds.toFixed(1)} s`,
      ]),
    ]);
    if (r.serverLog.length > 0) {
      process.stdout.write(
        `${r.target} warnings logged:\n${r.serverLog.map((x) => `  ${JSON.stringify(x).slice(0, 300)}`).join('\n')}\n`,
      );
    }
  }
  return { revision: gitRevision(), results };
}

/** Snapshots Ferry's heap (SIGUSR2) into `dir`; resolves with the file once written. */
async function heapSnapshot(server: RunningServer, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(server.pid, 'SIGUSR2');
  const deadline = Date.now() + 180_000;
  for (;;) {
    await sleep(1000);
    const fresh = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    // The snapshot is written on the main thread: once /health answers, the file is complete.
    if (fresh.length > 0 && server.urls.admin) {
      try {
        await fetchWithTimeout(`${server.urls.admin}/health`, 2000);
        return join(dir, fresh[0]!);
      } catch {
        // still writing
      }
    }
    if (Date.now() > deadline) throw new Error('heap snapshot not written within 180 s');
  }
}

async function memoryProfile(argv: string[]): Promise<unknown> {
  const { values: v } = parseArgs({
    args: argv,
    options: { count: { type: 'string', default: '5000' }, procs: { type: 'string', default: '2' } },
  });
  const count = Number(v.count);
  const dir = mkdtempSync(join(os.tmpdir(), 'ferry-heap-'));
  const server = await startFerry({
    extraArgs: FERRY_LOAD_ARGS,
    env: FERRY_LOAD_ENV,
    nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`],
  });
  let zero = '';
  let full = '';
  try {
    await runConnections({
      ...DEFAULT_CONN,
      url: server.urls.ws,
      target: 'ferry',
      count,
      step: count,
      overflow: 0,
      procs: Number(v.procs),
      server: { pid: server.pid, ...(server.urls.admin ? { adminUrl: server.urls.admin } : {}) },
      hooks: {
        atZero: async () => void (zero = await heapSnapshot(server, dir)),
        atCount: async () => void (full = await heapSnapshot(server, dir)),
      },
    });
  } finally {
    await server.stop();
  }
  log(`  snapshots: ${statSync(zero).size >> 20} MiB and ${statSync(full).size >> 20} MiB; analysing...`);
  const before = heapGroups(zero);
  const after = heapGroups(full);
  const growth = heapGrowth(before.byKind, after.byKind, count);
  const byRetainer = heapGrowth(before.byRetainer, after.byRetainer, count, 40);
  rmSync(dir, { recursive: true, force: true });
  printTable(`Ferry heap growth per idle authenticated WebSocket connection (${num(count)} connections)`, [
    ['object kind (V8 heap snapshot)', 'count / conn', 'bytes / conn'],
    ...growth.top.map((g) => [g.kind, g.countPer.toFixed(2), num(g.bytesPer, 0)]),
    ['total (all kinds that grew)', '', num(growth.totalBytesPerConnection, 0)],
  ]);
  printTable('the same, anonymous kinds split by retainer (owner.property)', [
    ['object kind <- first retainer', 'count / conn', 'bytes / conn'],
    ...byRetainer.top.map((g) => [g.kind, g.countPer.toFixed(2), num(g.bytesPer, 0)]),
  ]);
  return { revision: gitRevision(), count, growth, byRetainer };
}

/**
 * Everything bench/RESULTS.md reports, in one go: Ferry vs baseline over WebSocket (3 rounds), Ferry
 * over TCP and with QoS 1 (closed loop and at 20,000 / 10,000 msg/s), then the connection scenario.
 * Extra flags go to the load scenarios (e.g. `--duration 10`).
 */
async function all(argv: string[]): Promise<unknown> {
  const out: Record<string, unknown> = {};
  out.compare = await compare(['--transport', 'ws', '--qos', '0', '--rounds', '3', ...argv]);
  out.tcp = await compare(['--transport', 'tcp', '--qos', '0', ...argv]);
  out.qos1 = await oneToOne(['--transport', 'ws', '--qos', '1', '--rate', '0', ...argv]);
  out.qos1Rate = await oneToOne(['--transport', 'ws', '--qos', '1', '--rate', '10000', ...argv]);
  out.connections = await connectionsScenario([]);
  return out;
}

const SCENARIOS: Record<string, (argv: string[]) => Promise<unknown>> = {
  'one-to-one': oneToOne,
  compare,
  connections: connectionsScenario,
  'memory-profile': memoryProfile,
  all,
  cluster: async (argv) => ({ revision: gitRevision(), ...((await clusterScenario(argv)) as object) }),
  flood: async (argv) => ({ revision: gitRevision(), ...((await floodScenario(argv, waitQuiet)) as object) }),
};

async function main(): Promise<void> {
  const [name, ...argv] = process.argv.slice(2);
  const scenario = name === undefined ? undefined : SCENARIOS[name];
  if (scenario === undefined) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(SCENARIOS).join('|')}> [flags]\n`);
    process.exitCode = 2;
    return;
  }
  const result = await scenario(argv);
  const file = appendResult(name!, argv, result);
  process.stdout.write(`\nresults appended to ${file.slice(repoRoot.length + 1)}\n`);
}

// dist/cli/cli.js since the CLI moved under src/cli/; dist/cli.js in checkouts measured from before.
const built = ['cli/cli.js', 'cli.js'].some((p) => existsSync(join(ferryDir(), 'dist', p)));
if (!built) {
  process.stderr.write('dist/ is missing: run `npm run build` (bench/run.mjs does this for you)\n');
  process.exitCode = 1;
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
