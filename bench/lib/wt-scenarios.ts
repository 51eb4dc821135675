/**
 * The parts of bench/webtransport.ts that are not the pair load itself: sequential connect times,
 * the single-stream bulk probe, and QoS-1 traffic through the lossy UDP relay.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Histogram, type LatencySummary } from './histogram.js';
import { benchDir } from './report.js';
import { tokenFor, type TargetKind } from './tokens.js';
import { UdpRelay, type RelayCounters } from './udp-relay.js';
import { authenticateConn, openConn, type BenchTransport } from './wt-conn.js';
import { runPairs, type PairResult, type PairWorkload } from './wt-loadgen.js';

/** Sequential connect times of one transport. */
export interface ConnectResult {
  kind: BenchTransport;
  count: number;
  failures: number;
  /** Connect + Authenticate → AuthResult, ms. */
  latency: LatencySummary;
}

/**
 * `count` sequential connects, each timed from the first packet to the AuthResult (WebSocket: TCP +
 * HTTP upgrade + Authenticate; WebTransport: QUIC handshake with Retry + SETTINGS + extended CONNECT
 * + stream + Authenticate). Each connection is closed before the next starts; the token (a JWT for
 * Ferry, the user id for the bare gateway) is minted before the clock starts.
 */
export async function measureConnects(
  kind: BenchTransport,
  url: string,
  certHashes: string[],
  secret: string,
  count: number,
  userPrefix: string,
  target: TargetKind = 'ferry',
): Promise<ConnectResult> {
  const h = new Histogram();
  let failures = 0;
  for (let i = 0; i < count; i++) {
    const token = await tokenFor(target, `${userPrefix}${i}`, secret);
    const t0 = performance.now();
    try {
      const conn = await openConn(kind, url, { certHashes, timeoutMs: 10_000 });
      try {
        await authenticateConn(conn, token, 10_000);
        h.recordMs(performance.now() - t0);
      } finally {
        conn.close();
      }
    } catch {
      failures++;
    }
  }
  return { kind, count, failures, latency: h.summary() };
}

/** The bulk probe's figures (MiB/s, one stream). */
export interface BulkResult {
  uploadMiBs: number;
  downloadMiBs: number;
  echoMiBsEachWay: number;
  mib: number;
  /** The probe's own output (session-ready times included). */
  output: string;
}

/**
 * Runs test/integration/webtransport/bulk.probe.ts (the engine's own server in a child process, the
 * Node client here: one stream, `mib` MiB each way) and reads its figures.
 */
export function runBulkProbe(mib: number, timeoutMs = 300_000, engine?: string): Promise<BulkResult> {
  const probe = join(benchDir(), '..', 'test', 'integration', 'webtransport', 'bulk.probe.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', probe, String(mib)], {
      cwd: join(benchDir(), '..'),
      // The probe's server takes its engine from the gateway's own setting.
      env: { ...process.env, ...(engine !== undefined ? { FERRY_WT_ENGINE: engine } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const figure = (name: string): number =>
        Number(new RegExp(`^${name}\\s+([0-9.]+) MiB/s`, 'm').exec(out)?.[1]);
      const r = {
        uploadMiBs: figure('upload'),
        downloadMiBs: figure('download'),
        echoMiBsEachWay: figure('echo'),
      };
      if (code !== 0 || !Number.isFinite(r.uploadMiBs)) {
        reject(new Error(`bulk probe failed (exit ${code}):\n${out}\n${err.slice(-2000)}`));
        return;
      }
      resolve({ ...r, mib, output: out.trim() });
    });
  });
}

/** One loss level: what the relay did and what the QoS-1 load saw. */
export interface LossRun {
  drop: number;
  delayMs: number;
  jitterMs: number;
  relay: RelayCounters;
  /** Measured share of datagrams the relay dropped, each way. */
  droppedShare: { up: number; down: number };
  load: PairResult;
  /** Sessions that ended during the run (the bench never reconnects; each one would be a failure). */
  sessionCloses: number;
}

/**
 * QoS-1 pair traffic over WebTransport through a fresh relay that drops `drop` of the datagrams each
 * way and delays the rest by `delayMs` + [0, `jitterMs`) (order kept). Verification is on: every
 * SendAcked message must be processed exactly once, in order.
 */
export async function runLossLevel(
  w: Omit<PairWorkload, 'url' | 'verify' | 'kind'>,
  wtUrl: string,
  serverPid: number,
  shape: { drop: number; delayMs: number; jitterMs: number; seed: number },
): Promise<LossRun> {
  const target = new URL(wtUrl);
  const link = { drop: shape.drop, delayMs: shape.delayMs, jitterMs: shape.jitterMs };
  const relay = new UdpRelay({ targetPort: Number(target.port), up: link, down: link, seed: shape.seed });
  const port = await relay.listen();
  try {
    const url = `https://127.0.0.1:${port}${target.pathname}`;
    const load = await runPairs({ ...w, kind: 'wt', url, verify: true }, serverPid);
    const c = relay.counters();
    return {
      ...shape,
      relay: c,
      droppedShare: {
        up: c.up.received > 0 ? c.up.dropped / c.up.received : 0,
        down: c.down.received > 0 ? c.down.dropped / c.down.received : 0,
      },
      load,
      sessionCloses: Object.values(load.closes).reduce((a, b) => a + b, 0),
    };
  } finally {
    await relay.close();
  }
}
