/**
 * A Ferry node for the WebTransport benchmark: `ferry start` from dist/ with WebSocket and
 * WebTransport listeners on free 127.0.0.1 ports, the load-test settings of bench/lib/servers.ts
 * (whose `startFerry` always passes --no-wt), the bench's HS256 secret, and optionally a V8 CPU
 * profile (`node --cpu-prof`, which NODE_OPTIONS does not allow) written at exit and summarised to
 * file:line hot spots.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { summarizeCpuProfile, type CpuSummary } from './profile.js';
import { benchDir } from './report.js';
import { FERRY_LOAD_ARGS, FERRY_LOAD_ENV, ferryDir } from './servers.js';
import { BENCH_SECRET } from './tokens.js';

/** A running node and how to reach it. */
export interface WtNode {
  pid: number;
  urls: { ws: string; wt: string; admin: string };
  /** SHA-256 hashes of the node's current WebTransport certificate(s), base64. */
  certHashes: string[];
  /** SIGTERM (SIGKILL after 30 s); with a profile, returns its summary and where it was kept. */
  stop(): Promise<{ profile: CpuSummary | null; profileFile: string | null }>;
}

/** Nodes still running, killed if the bench exits early (an error, Ctrl-C) so none is left behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of live) proc.kill('SIGKILL');
});

/** Options of {@link startWtNode}. */
export interface WtNodeOptions {
  /** Turns on `--cpu-prof` and names the kept .cpuprofile. */
  cpuProfLabel?: string;
  /** The node's QUIC engine (`--wt-engine`); default: the node's own default. */
  engine?: string;
}

/** Starts a node; see {@link WtNodeOptions}. */
export async function startWtNode(opts: WtNodeOptions = {}): Promise<WtNode> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'ferry-wt-bench-'));
  const profDir = opts.cpuProfLabel !== undefined ? join(dataDir, 'prof') : null;
  const args = [
    ...(profDir !== null ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
    // Extra node flags for ad-hoc profiling, e.g. BENCH_NODE_ARGS=--perf-basic-prof for `perf record`.
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
    'bin/ferry.js',
    'start',
    '--host',
    '127.0.0.1',
    '--ws-port',
    '0',
    '--tcp-port',
    '0',
    '--wt-port',
    '0',
    '--admin-port',
    '0',
    '--no-grpc',
    '--data-dir',
    dataDir,
    '--auth-secret',
    BENCH_SECRET,
    '--log-level',
    'info',
    ...FERRY_LOAD_ARGS,
    ...(opts.engine !== undefined ? ['--wt-engine', opts.engine] : []),
  ];
  const proc = spawn(process.execPath, args, {
    cwd: ferryDir(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...FERRY_LOAD_ENV },
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-16_384)));
  live.add(proc);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      live.delete(proc);
      resolve(code);
    }),
  );
  const cleanupDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  let urls: WtNode['urls'];
  try {
    urls = await new Promise<WtNode['urls']>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`ferry not ready after 30 s:\n${stderr}`)), 30_000);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`ferry exited with ${code} before ready:\n${stderr}`));
      });
      proc.stdout.on('data', (d: Buffer) => {
        buf = (buf + d.toString()).slice(-65_536);
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.includes('"ferry started"')) continue;
          const a = (JSON.parse(line) as { addresses: Record<string, { url?: string } | undefined> })
            .addresses;
          clearTimeout(timer);
          resolve({ ws: a.ws?.url ?? '', wt: a.wt?.url ?? '', admin: a.admin?.url ?? '' });
        }
      });
    });
  } catch (err) {
    proc.kill('SIGKILL');
    await exited;
    cleanupDir();
    throw err;
  }
  const stopProcess = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  let certHashes: string[];
  try {
    const res = await fetch(`${urls.admin}/webtransport/cert-hashes`, { signal: AbortSignal.timeout(5000) });
    certHashes = ((await res.json()) as { hashes: { value: string }[] }).hashes.map((h) => h.value);
  } catch (err) {
    await stopProcess();
    cleanupDir();
    throw err;
  }
  return {
    pid: proc.pid!,
    urls,
    certHashes,
    async stop() {
      await stopProcess();
      let result: { profile: CpuSummary | null; profileFile: string | null } = {
        profile: null,
        profileFile: null,
      };
      const files = profDir === null ? [] : readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
      if (profDir !== null && files.length > 0) {
        const keepDir = join(benchDir(), 'results', 'profiles');
        mkdirSync(keepDir, { recursive: true });
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const label = opts.cpuProfLabel!.replace(/[^A-Za-z0-9_.-]+/g, '-');
        const kept = join(keepDir, `${label}-${stamp}.cpuprofile`);
        copyFileSync(join(profDir, files[0]!), kept);
        result = { profile: summarizeCpuProfile(kept, ferryDir()), profileFile: kept };
      }
      cleanupDir();
      return result;
    },
  };
}
