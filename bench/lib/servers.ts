/**
 * Starting the servers under test as child processes on 127.0.0.1 and free ports: Ferry
 * (`node bin/ferry.js start`, from dist/) and the bare-ws baseline. Both print a JSON "ready" line with
 * their URLs on stdout; every other JSON log line is kept for the report.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { benchDir } from './report.js';
import { BENCH_SECRET, type TargetKind } from './tokens.js';

export interface RunningServer {
  kind: TargetKind;
  pid: number;
  urls: { ws: string; tcp: string; admin?: string };
  /** Parsed JSON log lines (Ferry's pino output), newest last; bounded to the last 5,000. */
  logs: Record<string, unknown>[];
  stderr(): string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit code (null if killed). */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface FerryStartOptions {
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Node flags for the gateway process, e.g. --cpu-prof. */
  nodeArgs?: string[];
  logLevel?: string;
}

/** Flags that lift Ferry's per-connection protections out of a load test's way (see RESULTS.md). */
export const FERRY_LOAD_ARGS = [
  '--rate-frames',
  '1000000',
  '--rate-bytes',
  '1024MiB',
  '--connections-per-ip',
  '10000000',
];
export const FERRY_LOAD_ENV = { FERRY_OUTBOUND_QUEUE_BYTES: '16MiB' };

const MAX_LOGS = 5000;

/**
 * The Ferry checkout whose dist/ is measured: this repository, or `BENCH_FERRY_DIR` (another checkout
 * or an exported revision, e.g. to compare two commits with the same bench).
 */
export function ferryDir(): string {
  return process.env.BENCH_FERRY_DIR ?? dirname(benchDir());
}

function launch(
  kind: TargetKind,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyMsg: string,
  cleanup: () => void,
): Promise<RunningServer> {
  // Extra node flags for ad-hoc profiling, e.g. BENCH_NODE_ARGS=--perf-basic-prof for `perf record`.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const proc: ChildProcess = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: kind === 'ferry' ? ferryDir() : dirname(benchDir()),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let exited = false;
  const exitPromise = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      exited = true;
      cleanup();
      resolve(code);
    }),
  );
  proc.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-64 * 1024);
  });
  return new Promise<RunningServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${kind} not ready after 30 s:\n${stderr}`));
    }, 30_000);
    void exitPromise.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited with ${code} before ready:\n${stderr}`));
    });
    // BENCH_NODE_STDOUT=dir: the server's stdout (e.g. --trace-gc lines among the logs) also goes to a file.
    const stdoutDir = process.env.BENCH_NODE_STDOUT;
    if (stdoutDir !== undefined && stdoutDir !== '')
      proc.stdout?.pipe(createWriteStream(join(stdoutDir, `${kind}-${proc.pid}.log`)));
    createInterface({ input: proc.stdout! }).on('line', (line: string) => {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(rec);
      if (logs.length > MAX_LOGS) logs.splice(0, logs.length - MAX_LOGS);
      if (rec.msg === readyMsg) {
        clearTimeout(timer);
        const a = (rec.addresses ?? {}) as Record<string, { url?: string } | undefined>;
        const urls: RunningServer['urls'] = { ws: a.ws?.url ?? '', tcp: a.tcp?.url ?? '' };
        if (a.admin?.url) urls.admin = a.admin.url;
        resolve({
          kind,
          pid: proc.pid!,
          urls,
          logs,
          stderr: () => stderr,
          exited: () => exited,
          stop: async (timeoutMs = 30_000) => {
            if (exited) return proc.exitCode;
            proc.kill('SIGTERM');
            const timeout = new Promise<null>((r) =>
              setTimeout(() => {
                if (!exited) proc.kill('SIGKILL');
                r(null);
              }, timeoutMs).unref(),
            );
            const code = await Promise.race([exitPromise, timeout]);
            await exitPromise;
            return code;
          },
        });
      }
    });
  });
}

/** Starts Ferry from dist/ (the caller builds first) with its own temporary data dir. */
export function startFerry(opts: FerryStartOptions = {}): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  const args = [
    ...(opts.nodeArgs ?? []),
    'bin/ferry.js',
    'start',
    '--host',
    '127.0.0.1',
    '--ws-port',
    '0',
    '--tcp-port',
    '0',
    '--admin-port',
    '0',
    '--no-wt',
    '--no-grpc',
    '--data-dir',
    dataDir,
    '--auth-secret',
    BENCH_SECRET,
    '--log-level',
    opts.logLevel ?? 'info',
    ...(opts.extraArgs ?? []),
  ];
  return launch('ferry', args, opts.env ?? {}, 'ferry ready', () =>
    rmSync(dataDir, { recursive: true, force: true }),
  );
}

/** Starts the bare-ws baseline server (the transpiled .js beside this file when run from bench/.build). */
export function startBaseline(nodeArgs: string[] = [], scriptArgs: string[] = []): Promise<RunningServer> {
  const here = fileURLToPath(import.meta.url);
  const ext = here.endsWith('.ts') ? '.ts' : '.js';
  const script = join(dirname(here), '..', `baseline-ws-server${ext}`);
  const loader = ext === '.ts' ? ['--import', 'tsx'] : [];
  return launch('baseline', [...loader, ...nodeArgs, script, ...scriptArgs], {}, 'baseline ready', () => {});
}
