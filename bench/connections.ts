/**
 * Connection-count scenario: idle authenticated WebSocket clients, spread over `--procs` worker
 * processes and source addresses 127.0.0.2..127.0.0.x (so no single address runs out of ephemeral
 * ports), ramped in steps to `--count` (default 19,000). After each step the server's RSS and open fds
 * are sampled; RSS per connection is the slope of a least-squares line through the samples. Then it
 * pushes `--overflow` more connections past the server's capacity (its open-file limit) and reports
 * how they were refused, whether the established ones survived, and whether the node still serves:
 * a probe pair connected before the ramp exchanges a message, and the admin /health answers.
 *
 *   node --import tsx bench/connections.ts --url ws://127.0.0.1:8080/ws --server-pid PID
 *     [--target ferry|baseline] [--count 19000] [--step 2000] [--overflow 1500] [--procs 4]
 *     [--admin-url URL] [--secret S]
 *
 * bench/run.mjs `connections` starts Ferry and the baseline itself and calls `runConnections`.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ConnWorkerOpened, ConnWorkerStatus } from './lib/conn-worker.js';
import { connWorkerMain } from './lib/conn-worker.js';
import { BODY, FieldReader, SendEncoder, encodePong, readFrame, type FrameView } from './lib/frames.js';
import { forkWorker, request, stopWorkers } from './lib/ipc.js';
import { alive } from './lib/proc.js';
import { mib, ms, num, printTable } from './lib/report.js';
import { fetchWithTimeout, metricValue, serverFds, serverRss, type ServerRef } from './lib/server-probe.js';
import { BENCH_SECRET, tokenFor, type TargetKind } from './lib/tokens.js';
import { WireConn, authenticate } from './lib/wire-conn.js';

export interface ConnOptions {
  url: string;
  target: TargetKind;
  secret: string;
  count: number;
  step: number;
  overflow: number;
  procs: number;
  /** Connections per source address (127.0.0.2 on). */
  perAddress: number;
  concurrency: number;
  settleMs: number;
  server: ServerRef;
  /** Called with the probe pair connected and nothing else (`atZero`), and once `count` is reached. */
  hooks?: { atZero?: () => Promise<void>; atCount?: () => Promise<void> };
}

export const DEFAULT_CONN: Omit<ConnOptions, 'url' | 'server'> = {
  target: 'ferry',
  secret: BENCH_SECRET,
  count: 19_000,
  step: 2000,
  overflow: 1500,
  procs: 4,
  perAddress: 2000,
  concurrency: 200,
  settleMs: 3000,
};

export interface ConnSample {
  connections: number;
  rssBytes: number;
  fds: number;
  /** V8 heap used and external memory from Ferry's /metrics (NaN for the baseline). */
  heapUsedBytes: number;
  externalBytes: number;
  rampSeconds: number;
}

export interface ConnResult {
  target: TargetKind;
  samples: ConnSample[];
  /** Least-squares RSS = intercept + slope × connections. */
  rssPerConnection: number;
  heapPerConnection: number;
  intercept: number;
  r2: number;
  reached: number;
  rampFailures: Record<string, number>;
  overflow: {
    attempted: number;
    accepted: number;
    failures: Record<string, number>;
    /** How established connections (before the overflow) ended during it. */
    establishedLost: number;
    closesDuringOverflow: Record<string, number>;
    serverAlive: boolean;
    probe: { ok: boolean; latencyMs: number; error: string };
    health: { status: number; latencyMs: number; error: string };
    rssBytes: number;
    fds: number;
  };
  afterClose: { rssBytes: number; fds: number };
}

/** Least squares of y on x: slope, intercept and r². */
export function linearFit(xs: number[], ys: number[]): { slope: number; intercept: number; r2: number } {
  const n = xs.length;
  if (n < 2) return { slope: NaN, intercept: NaN, r2: NaN };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

/** Two connections opened before the ramp; after the overflow one sends the other a message. */
class Probe {
  private readonly reader = new FieldReader();
  private readonly view: FrameView = { id: 0, body: 0, start: 0, end: 0 };
  private waiter: (() => void) | null = null;

  private constructor(
    readonly a: WireConn,
    readonly b: WireConn,
  ) {
    for (const c of [a, b]) {
      c.setFrameHandler((buf, start, end) => {
        const v = readFrame(this.reader, buf, start, end, this.view);
        if (v.body === BODY.ping) {
          let ts = 0;
          const r = this.reader.reset(buf, v.start, v.end);
          while (r.next()) if (r.field === 1 && r.wireType === 0) ts = r.value;
          c.send(encodePong(v.id, ts, c.prefixed));
        } else if (v.body === BODY.deliver && c === b) {
          this.waiter?.();
        }
      });
    }
  }

  static async open(opts: ConnOptions): Promise<Probe> {
    const conns: WireConn[] = [];
    for (const user of ['probe-a', 'probe-b']) {
      const c = await WireConn.connect(opts.url);
      await authenticate(c, await tokenFor(opts.target, user, opts.secret));
      conns.push(c);
    }
    return new Probe(conns[0]!, conns[1]!);
  }

  /** a → b; resolves with the round trip to delivery, or rejects after 5 s. */
  async exchange(): Promise<number> {
    if (this.a.closed || this.b.closed) {
      throw new Error(`probe connection closed (${this.a.closeCode || this.b.closeCode})`);
    }
    const t0 = performance.now();
    const delivered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no delivery within 5 s')), 5000);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const [buf] = new SendEncoder('probe-b', 17, 0, this.a.prefixed).encode(1, '');
    this.a.send(buf);
    await delivered;
    return performance.now() - t0;
  }

  close(): void {
    this.a.close();
    this.b.close();
  }
}

async function sample(opts: ConnOptions, connections: number, rampSeconds: number): Promise<ConnSample> {
  let heapUsedBytes = NaN;
  let externalBytes = NaN;
  if (opts.server.adminUrl !== undefined) {
    try {
      const { body } = await fetchWithTimeout(`${opts.server.adminUrl}/metrics`, 5000);
      heapUsedBytes = metricValue(body, 'ferry_nodejs_heap_size_used_bytes');
      externalBytes = metricValue(body, 'ferry_nodejs_external_memory_bytes');
    } catch {
      // the admin port may be unreachable at the fd limit; RSS still comes from /proc
    }
  }
  return {
    connections,
    rssBytes: await serverRss(opts.server),
    fds: serverFds(opts.server),
    heapUsedBytes,
    externalBytes,
    rampSeconds,
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Opens `count` more connections spread over the workers, numbered from `start`. */
async function openMore(
  workers: ChildProcess[],
  start: number,
  count: number,
  concurrency: number,
): Promise<{ ok: number; failures: Record<string, number> }> {
  const per = Math.ceil(count / workers.length);
  const replies = await Promise.all(
    workers.map((w, k) => {
      const s = start + k * per;
      const c = Math.max(0, Math.min(per, start + count - s));
      return request<ConnWorkerOpened>(
        w,
        { type: 'open', start: s, count: c, concurrency: Math.ceil(concurrency / workers.length) },
        'opened',
      );
    }),
  );
  const failures: Record<string, number> = {};
  for (const r of replies) addCounts(failures, r.failures);
  return { ok: replies.reduce((a, r) => a + r.ok, 0), failures };
}

async function status(workers: ChildProcess[]): Promise<{ open: number; closes: Record<string, number> }> {
  const replies = await Promise.all(
    workers.map((w) => request<ConnWorkerStatus>(w, { type: 'status' }, 'status')),
  );
  const closes: Record<string, number> = {};
  for (const r of replies) addCounts(closes, r.closes);
  return { open: replies.reduce((a, r) => a + r.open, 0), closes };
}

function diffCounts(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));

export async function runConnections(opts: ConnOptions): Promise<ConnResult> {
  const total = opts.count + opts.overflow;
  const addressCount = Math.max(1, Math.ceil(total / opts.perAddress));
  if (addressCount > 250) throw new Error('too many source addresses; raise --per-address');
  const localAddresses = Array.from({ length: addressCount }, (_, i) => `127.0.0.${i + 2}`);
  const workers: ChildProcess[] = [];
  for (let k = 0; k < opts.procs; k++) workers.push(forkWorker(fileURLToPath(import.meta.url)));
  let probe: Probe | null = null;
  try {
    await Promise.all(
      workers.map((w) =>
        request(
          w,
          { type: 'init', url: opts.url, target: opts.target, secret: opts.secret, localAddresses },
          'inited',
        ),
      ),
    );
    const samples: ConnSample[] = [await sample(opts, 0, 0)];
    probe = await Probe.open(opts);
    await opts.hooks?.atZero?.();
    const rampFailures: Record<string, number> = {};
    let open = 0;
    let next = 0;
    // Bounded: one pass per step, plus a few retries of a step that had failures.
    for (let pass = 0; open < opts.count && pass < Math.ceil(opts.count / opts.step) + 5; pass++) {
      const goal = Math.min(opts.count, (Math.floor(open / opts.step) + 1) * opts.step);
      const t0 = performance.now();
      const r = await openMore(workers, next, goal - open, opts.concurrency);
      next += goal - open;
      addCounts(rampFailures, r.failures);
      const rampSeconds = (performance.now() - t0) / 1000;
      await sleep(opts.settleMs);
      const st = await status(workers);
      open = st.open;
      const s = await sample(opts, open + 2, rampSeconds);
      samples.push(s);
      process.stderr.write(
        `  ${opts.target}: ${num(s.connections)} connections, RSS ${mib(s.rssBytes)}, fds ${num(s.fds)}` +
          ` (${num(r.ok)} opened in ${rampSeconds.toFixed(1)} s${Object.keys(r.failures).length > 0 ? `, failures ${JSON.stringify(r.failures)}` : ''})\n`,
      );
      if (r.ok === 0) break; // the server refuses everything: stop ramping
    }
    const reached = open;
    await opts.hooks?.atCount?.();
    // The marginal cost: the fit leaves out the empty server (first connections also pay for JIT
    // compilation and lazily created pools) whenever at least two steps were measured.
    const fitted = samples.length >= 3 ? samples.slice(1) : samples;
    const fit = linearFit(
      fitted.map((s) => s.connections),
      fitted.map((s) => s.rssBytes),
    );
    const heapSamples = fitted.filter((s) => Number.isFinite(s.heapUsedBytes));
    const heapFit = linearFit(
      heapSamples.map((s) => s.connections),
      heapSamples.map((s) => s.heapUsedBytes),
    );

    // Past capacity.
    const before = await status(workers);
    const o = await openMore(workers, next, opts.overflow, opts.concurrency);
    next += opts.overflow;
    await sleep(3000);
    const after = await status(workers);
    const serverAlive = opts.server.pid !== undefined ? alive(opts.server.pid) : true;
    const probeResult = { ok: false, latencyMs: NaN, error: '' };
    try {
      probeResult.latencyMs = await probe.exchange();
      probeResult.ok = true;
    } catch (err) {
      probeResult.error = (err as Error).message;
    }
    const health = { status: 0, latencyMs: NaN, error: '' };
    if (opts.server.adminUrl !== undefined) {
      const t0 = performance.now();
      try {
        health.status = (await fetchWithTimeout(`${opts.server.adminUrl}/health`, 5000)).status;
        health.latencyMs = performance.now() - t0;
      } catch (err) {
        health.error = (err as Error).message;
      }
    }
    const overflowRss = await serverRss(opts.server);
    const overflowFds = serverFds(opts.server);

    await Promise.all(workers.map((w) => request(w, { type: 'close-all' }, 'closed', 60_000)));
    probe.close();
    probe = null;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && serverFds(opts.server) > 100) await sleep(250);
    await sleep(1000);
    return {
      target: opts.target,
      samples,
      rssPerConnection: fit.slope,
      heapPerConnection: heapFit.slope,
      intercept: fit.intercept,
      r2: fit.r2,
      reached,
      rampFailures,
      overflow: {
        attempted: opts.overflow,
        accepted: o.ok,
        failures: o.failures,
        establishedLost: Math.max(0, before.open + o.ok - after.open),
        closesDuringOverflow: diffCounts(after.closes, before.closes),
        serverAlive,
        probe: probeResult,
        health,
        rssBytes: overflowRss,
        fds: overflowFds,
      },
      afterClose: { rssBytes: await serverRss(opts.server), fds: serverFds(opts.server) },
    };
  } finally {
    probe?.close();
    await stopWorkers(workers);
  }
}

function fmtCounts(c: Record<string, number>): string {
  const e = Object.entries(c);
  return e.length === 0 ? '-' : e.map(([k, v]) => `${k}: ${num(v)}`).join(', ');
}

/** Rows for `printTable`, one column per result. */
export function connRows(results: ConnResult[]): string[][] {
  const col = (f: (r: ConnResult) => string): string[] => results.map(f);
  return [
    ['', ...results.map((r) => r.target)],
    ['connections reached (+2 probes)', ...col((r) => num(r.reached))],
    [
      'RSS at 0 / at max',
      ...col((r) => `${mib(r.samples[0]?.rssBytes ?? NaN)} / ${mib(r.samples.at(-1)?.rssBytes ?? NaN)}`),
    ],
    [
      'RSS per connection (slope)',
      ...col((r) => `${num(r.rssPerConnection / 1024, 2)} KiB (r² ${r.r2.toFixed(3)})`),
    ],
    [
      'V8 heap per connection (slope)',
      ...col((r) =>
        Number.isFinite(r.heapPerConnection) ? `${num(r.heapPerConnection / 1024, 2)} KiB` : 'n/a',
      ),
    ],
    ['ramp failures', ...col((r) => fmtCounts(r.rampFailures))],
    [
      'overflow: attempted / accepted',
      ...col((r) => `${num(r.overflow.attempted)} / ${num(r.overflow.accepted)}`),
    ],
    ['overflow: how refused', ...col((r) => fmtCounts(r.overflow.failures))],
    [
      'overflow: established lost',
      ...col((r) => `${num(r.overflow.establishedLost)} ${fmtCounts(r.overflow.closesDuringOverflow)}`),
    ],
    [
      'overflow: server alive / fds',
      ...col((r) => `${r.overflow.serverAlive ? 'yes' : 'NO'} / ${num(r.overflow.fds)}`),
    ],
    [
      'overflow: probe message',
      ...col((r) =>
        r.overflow.probe.ok
          ? `delivered in ${ms(r.overflow.probe.latencyMs)}`
          : `FAILED: ${r.overflow.probe.error}`,
      ),
    ],
    [
      'overflow: admin /health',
      ...col((r) =>
        r.overflow.health.status > 0
          ? `${r.overflow.health.status} in ${ms(r.overflow.health.latencyMs)}`
          : r.overflow.health.error || 'n/a',
      ),
    ],
    ['RSS after all closed', ...col((r) => mib(r.afterClose.rssBytes))],
  ];
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      target: { type: 'string', default: DEFAULT_CONN.target },
      secret: { type: 'string', default: DEFAULT_CONN.secret },
      count: { type: 'string', default: String(DEFAULT_CONN.count) },
      step: { type: 'string', default: String(DEFAULT_CONN.step) },
      overflow: { type: 'string', default: String(DEFAULT_CONN.overflow) },
      procs: { type: 'string', default: String(DEFAULT_CONN.procs) },
      'per-address': { type: 'string', default: String(DEFAULT_CONN.perAddress) },
      'server-pid': { type: 'string' },
      'admin-url': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.url === undefined) throw new Error('--url ws://host:port/ws is required');
  const server: ServerRef = {};
  if (values['server-pid'] !== undefined) server.pid = Number(values['server-pid']);
  if (values['admin-url'] !== undefined) server.adminUrl = values['admin-url'];
  const result = await runConnections({
    ...DEFAULT_CONN,
    url: values.url,
    target: values.target === 'baseline' ? 'baseline' : 'ferry',
    secret: values.secret,
    count: Number(values.count),
    step: Number(values.step),
    overflow: Number(values.overflow),
    procs: Number(values.procs),
    perAddress: Number(values['per-address']),
    server,
  });
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else printTable('idle connections', connRows([result]));
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (process.argv.includes('--worker')) connWorkerMain();
else if (isMain) {
  cli().catch((err: unknown) => {
    process.stderr.write(`connections: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
