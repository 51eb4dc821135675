/**
 * WebTransport vs WebSocket on one Ferry node, same workload, same machine, one run:
 *
 *   npm run bench -- webtransport [flags]             (bench/run.mjs builds dist/ first)
 *   node --import tsx bench/webtransport.ts [flags]   (measures the current dist/)
 *
 * Phases (each transport gets a fresh node, WebSocket first):
 *   connect   --connects 50 sequential connects incl. Authenticate → AuthResult: p50/p99
 *   latency   --pairs 50 client pairs, 1:1, open loop at --rate 4000 msg/s: latency p50/p99 and
 *             server CPU per delivered message (/proc/<pid>/stat delta over the measured window)
 *   max       --max-pairs 50 pairs, closed loop with --window 8 in flight per sender: msg/s
 *   sweep     the latency workload again at each of --sweep 1000,16000 msg/s: how server CPU per
 *             message depends on the per-connection rate (QUIC pays per packet, TCP/WebSocket less so)
 *   bulk      test/integration/webtransport/bulk.probe.ts: one stream, --bulk-mib 64 MiB each way
 *   loss      WebTransport through bench/lib/udp-relay.ts at --loss 0,0.01,0.03,0.05 drop each way
 *             (+ --delay 5 ms + --jitter 2 ms each way), QoS-1 pairs (--loss-pairs 10,
 *             --loss-rate 400 msg/s, --loss-duration 20 s): closes, QoS-1 loss, duplicates, p50/p99
 * Common: --duration 15 --warmup 3 --grace 3 --payload 100 --qos 0 --procs 1 --only a,b --cpu-prof
 * (profile the WebTransport node during its phases and print file:line hot spots) --no-quiet-wait.
 * --engines matrixai,native (default both): the QUIC engines of the WebTransport runs; each listed engine
 * gets its own fresh node for the load phases, its own bulk probe and its own lossy-relay levels, and the
 * tables put them side by side with WebSocket (which runs once).
 * --target ferry|bare|both (default ferry): whom the load phases (connect, latency, max, sweep) measure:
 * Ferry, the bare gateway (bench/lib/wt-bare-target.ts: the same minimal gateway on both transports,
 * the floor), or both, one after the other, with a table of server CPU per message of the four and
 * each target's WT / WS side by side. bulk and loss always measure Ferry (--cpu-prof too).
 *
 * Results: printed tables, and a dated block appended to bench/results/webtransport.json.
 */
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { CpuSummary } from './lib/profile.js';
import { machineBusy, machineCpu, machineInfo } from './lib/proc.js';
import { appendResult, benchDir, ms, num, pct, printTable } from './lib/report.js';
import { ferryDir } from './lib/servers.js';
import { BENCH_SECRET } from './lib/tokens.js';
import type { BenchTransport } from './lib/wt-conn.js';
import {
  floorFigures,
  floorTable,
  parseTargets,
  startTargetNode,
  targetLabel,
  tokenKind,
  type FloorRow,
  type WtTarget,
} from './lib/wt-bare-target.js';
import { startWtNode } from './lib/wt-gateway.js';
import { runPairs, type PairResult, type PairWorkload } from './lib/wt-loadgen.js';
import {
  measureConnects,
  runBulkProbe,
  runLossLevel,
  type BulkResult,
  type ConnectResult,
  type LossRun,
} from './lib/wt-scenarios.js';

const FLAGS = {
  connects: { type: 'string', default: '50' },
  pairs: { type: 'string', default: '50' },
  rate: { type: 'string', default: '4000' },
  'max-pairs': { type: 'string', default: '50' },
  window: { type: 'string', default: '8' },
  duration: { type: 'string', default: '15' },
  warmup: { type: 'string', default: '3' },
  grace: { type: 'string', default: '3' },
  payload: { type: 'string', default: '100' },
  qos: { type: 'string', default: '0' },
  procs: { type: 'string', default: '1' },
  'bulk-mib': { type: 'string', default: '64' },
  loss: { type: 'string', default: '0,0.01,0.03,0.05' },
  'loss-pairs': { type: 'string', default: '10' },
  'loss-rate': { type: 'string', default: '400' },
  'loss-duration': { type: 'string', default: '20' },
  delay: { type: 'string', default: '5' },
  jitter: { type: 'string', default: '2' },
  sweep: { type: 'string', default: '1000,16000' },
  only: { type: 'string', default: 'connect,latency,max,sweep,bulk,loss' },
  target: { type: 'string', default: 'ferry' },
  engines: { type: 'string', default: 'matrixai,native' },
  'cpu-prof': { type: 'boolean', default: false },
  'no-quiet-wait': { type: 'boolean', default: false },
} as const;

const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Waits (at most ~3 min) until the machine is quiet: under 0.3 of a core busy, so no build, test or
 * other benchmark shares the 2 cores with the measurement. Returns the cores busy at the end.
 */
async function waitQuiet(skip: boolean): Promise<number> {
  let busy = 0;
  for (let i = 0; i < 36; i++) {
    const a = machineCpu();
    await sleep(1000);
    busy = machineBusy(a, machineCpu()) * os.availableParallelism();
    if (skip || busy < 0.3) return busy;
    if (i === 0) log(`  waiting for the machine to quiet down (${busy.toFixed(2)} cores busy)...`);
    await sleep(4000);
  }
  log(`  machine still busy (${busy.toFixed(2)} cores); measuring anyway`);
  return busy;
}

/**
 * Runs a load phase after waiting for quiet; repeats it (twice at most) when other processes took
 * more than a quarter of a core during its measured window.
 */
async function measured(v: Values, label: string, run: () => Promise<PairResult>): Promise<PairResult> {
  for (let attempt = 1; ; attempt++) {
    await waitQuiet(v['no-quiet-wait']);
    log(label);
    const r = await run();
    if (r.otherCores <= 0.25 || attempt >= 3 || v['no-quiet-wait']) return r;
    log(`  other processes used ${r.otherCores.toFixed(2)} cores during the run; repeating it`);
  }
}

/**
 * When dist/ (what the node runs) was built; warns when src/ is newer (bench/run.mjs rebuilds, a
 * direct `node --import tsx bench/webtransport.ts` does not).
 */
function distBuilt(): string {
  const root = ferryDir();
  // dist/cli/cli.js since the CLI moved under src/cli/; dist/cli.js in checkouts measured from before.
  const built = [join(root, 'dist', 'cli', 'cli.js'), join(root, 'dist', 'cli.js')].find((p) =>
    existsSync(p),
  );
  if (built === undefined) throw new Error('dist/ is missing: run `npm run build` first');
  const at = statSync(built).mtimeMs;
  const newer = (dir: string): boolean =>
    existsSync(dir) &&
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory() ? newer(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs > at,
    );
  if (newer(join(root, 'src')))
    log('WARNING: src/ is newer than dist/; measuring the older build (npm run build)');
  return new Date(at).toISOString();
}

function gitRevision(): string {
  try {
    return execSync('git describe --always --dirty', {
      cwd: join(benchDir(), '..'),
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'unknown';
  }
}

interface TransportRun {
  target: WtTarget;
  kind: BenchTransport;
  /** QUIC engine of a WebTransport run ('' for WebSocket). */
  engine: string;
  connect: ConnectResult | null;
  latency: PairResult | null;
  max: PairResult | null;
  sweep: PairResult[];
  profile: CpuSummary | null;
  profileFile: string | null;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof FLAGS }>>['values'];

/** The sweep phase's rates, in the order it runs them. */
function sweepRates(v: Values): number[] {
  return v.sweep
    .split(',')
    .map(Number)
    .filter((r) => r > 0);
}

function workload(
  v: Values,
  kind: BenchTransport,
  url: string,
  hashes: string[],
  prefix: string,
  target: WtTarget = 'ferry',
): PairWorkload {
  return {
    kind,
    url,
    certHashes: hashes,
    target: tokenKind(target),
    secret: BENCH_SECRET,
    pairs: Number(v.pairs),
    userPrefix: prefix,
    payload: Number(v.payload),
    qos: v.qos === '1' ? 1 : 0,
    rate: Number(v.rate),
    window: Number(v.window),
    ackEvery: 32,
    verify: false,
    warmupMs: Number(v.warmup) * 1000,
    durationMs: Number(v.duration) * 1000,
    graceMs: Number(v.grace) * 1000,
    procs: Number(v.procs),
    connectConcurrency: 20,
  };
}

async function runTransport(
  v: Values,
  target: WtTarget,
  kind: BenchTransport,
  phases: Set<string>,
  engine = '',
): Promise<TransportRun> {
  const profile = v['cpu-prof'] && kind === 'wt' && target === 'ferry';
  const node = await startTargetNode(target, {
    ...(profile ? { cpuProfLabel: `ferry-wt-${engine}-${[...phases].join('+')}` } : {}),
    ...(engine !== '' ? { engine } : {}),
  });
  const url = kind === 'wt' ? node.urls.wt : node.urls.ws;
  // Log lines and user ids name the target when it is not Ferry, and the engine of a WT run.
  const kindName = engine !== '' && engine !== 'matrixai' ? `${kind}-${engine}` : kind;
  const name = target === 'ferry' ? kindName : `${target} ${kindName}`;
  const tag = target === 'ferry' ? kindName : `${target}-${kindName}`;
  const w = (prefix: string): PairWorkload =>
    workload(v, kind, url, node.certHashes, `${tag}-${prefix}`, target);
  const run: TransportRun = {
    target,
    kind,
    engine,
    connect: null,
    latency: null,
    max: null,
    sweep: [],
    profile: null,
    profileFile: null,
  };
  try {
    if (phases.has('connect')) {
      await waitQuiet(v['no-quiet-wait']);
      log(`${name}: ${v.connects} sequential connects`);
      run.connect = await measureConnects(
        kind,
        url,
        node.certHashes,
        BENCH_SECRET,
        Number(v.connects),
        `${tag}-c`,
        tokenKind(target),
      );
    }
    if (phases.has('latency')) {
      run.latency = await measured(v, `${name}: ${v.pairs} pairs at ${v.rate} msg/s`, () =>
        runPairs(w('l'), node.pid),
      );
    }
    if (phases.has('max')) {
      const max = { ...w('m'), rate: 0, pairs: Number(v['max-pairs']) };
      run.max = await measured(v, `${name}: ${v['max-pairs']} pairs, closed loop`, () =>
        runPairs(max, node.pid),
      );
    }
    if (phases.has('sweep')) {
      for (const rate of sweepRates(v)) {
        const at = { ...w(`s${rate}-`), rate };
        run.sweep.push(
          await measured(v, `${name}: ${v.pairs} pairs at ${rate} msg/s`, () => runPairs(at, node.pid)),
        );
      }
    }
  } finally {
    const stopped = await node.stop();
    run.profile = stopped.profile;
    run.profileFile = stopped.profileFile;
  }
  return run;
}

function counts(c: Record<string, number>): string {
  const e = Object.entries(c);
  return e.length === 0 ? '-' : e.map(([k, n]) => `${k}: ${n}`).join(', ');
}

function limit(r: PairResult): string {
  if (r.serverBound && r.generatorBound) return 'server+generator';
  return r.serverBound ? 'server' : r.generatorBound ? 'generator' : 'neither at 90%';
}

function loadRows(title: string, cols: { label: string; r: PairResult | null }[]): void {
  const present = cols.filter((c): c is { label: string; r: PairResult } => c.r !== null);
  if (present.length === 0) return;
  const col = (f: (r: PairResult) => string): string[] => present.map((c) => f(c.r));
  printTable(title, [
    ['', ...present.map((c) => c.label)],
    ['mode', ...col((r) => `${r.mode}, qos ${r.qos}, ${r.payload} B`)],
    ['clients (connected)', ...col((r) => `${r.clients} (${r.connected})`)],
    ['throughput msg/s (delivered)', ...col((r) => num(r.throughput))],
    ['latency p50 / p99', ...col((r) => `${ms(r.latency.p50Ms)} / ${ms(r.latency.p99Ms)}`)],
    ['latency p99.9 / max', ...col((r) => `${ms(r.latency.p999Ms)} / ${ms(r.latency.maxMs)}`)],
    ['server CPU (1 core = 100%)', ...col((r) => pct(r.serverCpu))],
    [
      'server CPU µs / msg (user + sys)',
      ...col(
        (r) =>
          `${num(r.serverCpuPerMessageUs, 1)} (${num((r.serverCpuSplit.user / r.throughput) * 1e6, 1)} + ${num((r.serverCpuSplit.system / r.throughput) * 1e6, 1)})`,
      ),
    ],
    ['generator CPU per process', ...col((r) => r.loadgenCpu.map((c) => pct(c)).join(' '))],
    ['machine busy / other procs', ...col((r) => `${pct(r.machineBusy)} / ${r.otherCores.toFixed(2)} cores`)],
    ['limit', ...col(limit)],
    ['sent / delivered (measured)', ...col((r) => `${num(r.sent)} / ${num(r.delivered)}`)],
    [
      'gaps / dups / stalls / skips',
      ...col((r) => `${r.gaps} / ${r.duplicates} / ${r.stalls} / ${r.skippedBackpressure}`),
    ],
    ['errors / closes', ...col((r) => `${counts(r.errors)} / ${counts(r.closes)}`)],
    ['packets / msg (UDP or TCP, machine)', ...col((r) => r.packetsPerMessage.toFixed(2))],
    ['UDP receive-buffer drops (machine)', ...col((r) => num(r.udpRcvbufErrors))],
    ['connect failures', ...col((r) => counts(r.connectFailures))],
  ]);
}

function printProfile(title: string, s: CpuSummary): void {
  process.stdout.write(
    `\n${title}: ${(s.totalMs / 1000).toFixed(1)} s sampled, idle ${pct(s.idleShare)}, GC ${pct(s.gcShare)} of busy\n`,
  );
  const rows = (h: CpuSummary['self']): string[][] =>
    h.slice(0, 15).map((x) => [x.fn || '(anonymous)', x.location, `${x.ms.toFixed(0)} ms`, pct(x.share, 1)]);
  printTable('self time (share of busy)', [['function', 'location', 'self', 'share'], ...rows(s.self)]);
  printTable('self time by file', [['', 'file', 'self', 'share'], ...rows(s.byFile)]);
}

/** One target's load phases on both transports. */
interface TargetRuns {
  target: WtTarget;
  ws: TransportRun;
  /** The first engine's WebTransport run (the tables and result keys this bench always had). */
  wt: TransportRun;
  /** WebTransport runs of the other engines. */
  others: TransportRun[];
}

function ratiosOf(ws: TransportRun, wt: TransportRun): Record<string, number> {
  const ratios: Record<string, number> = {};
  if (ws.latency && wt.latency) {
    ratios.cpuPerMessageAtRate = wt.latency.serverCpuPerMessageUs / ws.latency.serverCpuPerMessageUs;
  }
  if (ws.max && wt.max) {
    ratios.cpuPerMessageAtMax = wt.max.serverCpuPerMessageUs / ws.max.serverCpuPerMessageUs;
    ratios.throughput = wt.max.throughput / ws.max.throughput;
  }
  return ratios;
}

/** The sweep and the latency phase of one target as WS/WT pairs, by rate. */
function printSweep(v: Values, t: TargetRuns, title: string): void {
  const { ws, wt } = t;
  if (ws.sweep.length === 0 || ws.sweep.length !== wt.sweep.length) return;
  const others = t.others.filter((o) => o.sweep.length === ws.sweep.length);
  const rows = [
    ...ws.sweep.map((r, i) => ({ ws: r, wt: wt.sweep[i]!, more: others.map((o) => o.sweep[i]!) })),
  ];
  if (ws.latency && wt.latency && others.every((o) => o.latency !== null)) {
    rows.push({ ws: ws.latency, wt: wt.latency, more: others.map((o) => o.latency!) });
  }
  rows.sort((a, b) => a.ws.throughput - b.ws.throughput);
  const wtName = (r: TransportRun): string => (others.length > 0 ? `WT ${r.engine}` : 'WT');
  printTable(`${title} (${v.pairs} pairs, qos ${v.qos})`, [
    [
      'msg/s',
      'per sender',
      'WS µs/msg',
      ...[wt, ...others].flatMap((r) => [`${wtName(r)} µs/msg`, `${wtName(r)} / WS`]),
      `pkts/msg WS, ${[wt, ...others].map(wtName).join(', ')}`,
      'WS p50 / p99',
      ...[wt, ...others].map((r) => `${wtName(r)} p50 / p99`),
    ],
    ...rows.map(({ ws: a, wt: b, more }) => [
      num(a.throughput),
      `${(a.throughput / a.clients).toFixed(0)}/s`,
      num(a.serverCpuPerMessageUs, 1),
      ...[b, ...more].flatMap((r) => [
        num(r.serverCpuPerMessageUs, 1),
        `${(r.serverCpuPerMessageUs / a.serverCpuPerMessageUs).toFixed(2)}x`,
      ]),
      [a, b, ...more].map((r) => r.packetsPerMessage.toFixed(1)).join(', '),
      `${ms(a.latency.p50Ms)} / ${ms(a.latency.p99Ms)}`,
      ...[b, ...more].map((r) => `${ms(r.latency.p50Ms)} / ${ms(r.latency.p99Ms)}`),
    ]),
  ]);
}

/** Ferry and the bare gateway, workload by workload (only when both ran). */
function floorRows(v: Values, ferry: TargetRuns, bare: TargetRuns): FloorRow[] {
  const picks: { workload: string; rate: number; pick: (r: TransportRun) => PairResult | null }[] = [
    { workload: `open loop ${num(Number(v.rate))} msg/s`, rate: Number(v.rate), pick: (r) => r.latency },
    ...sweepRates(v).map((rate, i) => ({
      workload: `open loop ${num(rate)} msg/s`,
      rate,
      pick: (r: TransportRun) => r.sweep[i] ?? null,
    })),
    { workload: `closed loop, ${v['max-pairs']} pairs`, rate: Infinity, pick: (r) => r.max },
  ];
  const rows: FloorRow[] = [];
  for (const { workload: name, pick } of picks.sort((a, b) => a.rate - b.rate)) {
    const [fw, ft, bw, bt] = [pick(ferry.ws), pick(ferry.wt), pick(bare.ws), pick(bare.wt)];
    if (fw && ft && bw && bt)
      rows.push({ workload: name, ferry: { ws: fw, wt: ft }, bare: { ws: bw, wt: bt } });
  }
  return rows;
}

/** Prints the load phases' tables and records them in `out`. */
function reportLoad(v: Values, runs: TargetRuns[], out: Record<string, unknown>): void {
  // Ferry alone keeps the tables (and result keys) this bench always had.
  const solo = runs.length === 1 && runs[0]!.target === 'ferry';
  const label = (t: TargetRuns, kind: BenchTransport, engine = ''): string => {
    const e = engine !== '' && (t.others.length > 0 || engine !== 'matrixai') ? ` (${engine})` : '';
    return solo
      ? kind === 'ws'
        ? 'WebSocket'
        : `WebTransport${e}`
      : `${targetLabel(t.target)} ${kind.toUpperCase()}${e}`;
  };
  const cols = runs.flatMap((t) => [
    { label: label(t, 'ws'), run: t.ws },
    { label: label(t, 'wt', t.wt.engine), run: t.wt },
    ...t.others.map((o) => ({ label: label(t, 'wt', o.engine), run: o })),
  ]);
  for (const t of runs) {
    const byEngine = Object.fromEntries(
      t.others.map((o) => [o.engine, { wt: o, ratios: ratiosOf(t.ws, o) }]),
    );
    if (t.target === 'ferry')
      Object.assign(out, { ws: t.ws, wt: t.wt, ratios: ratiosOf(t.ws, t.wt), engines: byEngine });
    else out.bare = { ws: t.ws, wt: t.wt, ratios: ratiosOf(t.ws, t.wt), engines: byEngine };
  }
  const connects = cols.filter((c) => c.run.connect !== null);
  if (connects.length > 0) {
    printTable(`sequential connects incl. auth (${v.connects} each)`, [
      ['', ...connects.map((c) => c.label)],
      ...(['p50Ms', 'p99Ms', 'maxMs'] as const).map((k) => [
        k.replace('Ms', ''),
        ...connects.map((c) => ms(c.run.connect!.latency[k])),
      ]),
      // One client connecting after another: handshakes (with auth) per second at the median.
      ['sequential connects/s (1 / p50)', ...connects.map((c) => num(1000 / c.run.connect!.latency.p50Ms))],
      ['failures', ...connects.map((c) => String(c.run.connect!.failures))],
    ]);
  }
  loadRows(
    `1:1 at a fixed rate (${v.pairs} pairs)`,
    cols.map((c) => ({ label: c.label, r: c.run.latency })),
  );
  loadRows(
    `max throughput (${v['max-pairs']} pairs, closed loop)`,
    cols.map((c) => ({ label: c.label, r: c.run.max })),
  );
  for (const t of runs) {
    printSweep(v, t, `server CPU per message vs rate${solo ? '' : `, ${targetLabel(t.target)}`}`);
  }
  const ratioRows = runs.flatMap((t) =>
    [t.wt, ...t.others].flatMap((wtRun) =>
      Object.entries(ratiosOf(t.ws, wtRun)).map(([k, r]) => [
        `${solo ? '' : `${targetLabel(t.target)} `}${t.others.length > 0 ? `${wtRun.engine} ` : ''}${k}`,
        `${r.toFixed(2)}x`,
        t.target === 'ferry' && k.startsWith('cpu') ? '<= 1.5x' : '',
      ]),
    ),
  );
  if (ratioRows.length > 0) printTable('WebTransport / WebSocket', [['', 'ratio', 'target'], ...ratioRows]);
  const ferry = runs.find((t) => t.target === 'ferry');
  const bare = runs.find((t) => t.target === 'bare');
  if (ferry && bare) {
    const figures = floorRows(v, ferry, bare).map(floorFigures);
    out.floor = figures;
    if (figures.length > 0)
      printTable(
        `server CPU per message: Ferry vs the bare gateway (${v.pairs} pairs, qos ${v.qos}, ${v.payload} B)`,
        floorTable(figures),
      );
  }
  const wt = ferry?.wt;
  if (wt?.profile) printProfile(`WebTransport node CPU profile (${wt.profileFile})`, wt.profile);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values: v } = parseArgs({ args: argv, options: FLAGS });
  const phases = new Set(v.only.split(',').map((s) => s.trim()));
  const targets = parseTargets(v.target);
  const out: Record<string, unknown> = {
    revision: gitRevision(),
    distBuilt: distBuilt(),
    machine: machineInfo(),
    flags: v,
  };
  const loadPhases = new Set([...phases].filter((p) => ['connect', 'latency', 'max', 'sweep'].includes(p)));
  const engines = v.engines
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (engines.length === 0) throw new Error('--engines: at least one of matrixai, native');

  if (loadPhases.size > 0) {
    const runs: TargetRuns[] = [];
    for (const target of targets) {
      const ws = await runTransport(v, target, 'ws', loadPhases);
      // The bare gateway's listener has no engine setting: it runs on the default engine only.
      const wtRuns: TransportRun[] = [];
      for (const engine of target === 'ferry' ? engines : [engines[0]!]) {
        wtRuns.push(await runTransport(v, target, 'wt', loadPhases, engine));
      }
      runs.push({ target, ws, wt: wtRuns[0]!, others: wtRuns.slice(1) });
    }
    reportLoad(v, runs, out);
  }

  if (phases.has('bulk')) {
    const rows: string[][] = [];
    const bulks: Record<string, BulkResult> = {};
    for (const engine of engines) {
      await waitQuiet(v['no-quiet-wait']);
      log(`bulk (${engine}): one stream, ${v['bulk-mib']} MiB each way`);
      const bulk: BulkResult = await runBulkProbe(Number(v['bulk-mib']), undefined, engine);
      bulks[engine] = bulk;
      rows.push(
        [`${engine}: upload (client -> server)`, bulk.uploadMiBs.toFixed(1), '>= 50'],
        [`${engine}: download (server -> client)`, bulk.downloadMiBs.toFixed(1), '>= 50'],
        [`${engine}: echo, each way at once`, bulk.echoMiBsEachWay.toFixed(1), ''],
      );
    }
    out.bulk = bulks[engines[0]!];
    out.bulkByEngine = bulks;
    printTable('single-stream bulk (engine server in a child process, Node client on quiche)', [
      ['', 'MiB/s', 'target'],
      ...rows,
    ]);
  }

  for (const engine of phases.has('loss') ? engines : []) {
    const levels = v.loss.split(',').map(Number);
    const node = await startWtNode({ engine });
    const runs: LossRun[] = [];
    try {
      for (const [i, drop] of levels.entries()) {
        await waitQuiet(v['no-quiet-wait']);
        log(`loss (${engine}): ${pct(drop)} drop each way, ${v.delay} ms + ${v.jitter} ms jitter each way`);
        const w = {
          ...workload(v, 'wt', node.urls.wt, node.certHashes, `loss-${engine}${i}-`),
          pairs: Number(v['loss-pairs']),
          rate: Number(v['loss-rate']),
          qos: 1 as const,
          durationMs: Number(v['loss-duration']) * 1000,
          warmupMs: 2000,
          // Whatever QUIC still has to recover when sending stops must arrive within this.
          graceMs: 20_000,
          ackEvery: 8,
        };
        runs.push(
          await runLossLevel(w, node.urls.wt, node.pid, {
            drop,
            delayMs: Number(v.delay),
            jitterMs: Number(v.jitter),
            seed: 1000 + i,
          }),
        );
      }
    } finally {
      await node.stop();
    }
    if (engine === engines[0]) out.loss = runs;
    out.lossByEngine = { ...(out.lossByEngine as Record<string, LossRun[]> | undefined), [engine]: runs };
    printTable(
      `WebTransport (${engine}) through the lossy relay: QoS 1, ${v['loss-pairs']} pairs, ${v['loss-rate']} msg/s, ${v['loss-duration']} s`,
      [
        [
          'drop each way: set / dropped up, down',
          'sessions',
          'closes',
          'sent',
          'acked',
          'delivered',
          'missing',
          'twice',
          'dups',
          'out of order',
          'p50',
          'p99',
          'p99.9',
          'max',
        ],
        ...runs.map((r) => [
          `${pct(r.drop)} / ${num(r.relay.up.dropped)} (${pct(r.droppedShare.up, 2)}), ${num(r.relay.down.dropped)} (${pct(r.droppedShare.down, 2)})`,
          `${r.load.connected}/${r.load.clients}`,
          String(r.sessionCloses),
          num(r.load.sentTotal),
          num(r.load.ackedTotal),
          num(r.load.deliveredTotal),
          String(r.load.missingAcked),
          String(r.load.deliveredTwice),
          String(r.load.duplicates),
          String(r.load.outOfOrder),
          ms(r.load.latency.p50Ms),
          ms(r.load.latency.p99Ms),
          ms(r.load.latency.p999Ms),
          ms(r.load.latency.maxMs),
        ]),
      ],
    );
  }

  const file = appendResult('webtransport', argv, out);
  process.stdout.write(`\nresults appended to ${file.slice(join(benchDir(), '..').length + 1)}\n`);
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  // Exit through process.exit so bench/lib/wt-gateway.ts can kill the nodes it started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  main().catch((err: unknown) => {
    process.stderr.write(
      `bench webtransport: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  });
}
