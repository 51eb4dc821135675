/**
 * Real `redis-server` processes for tests: a standalone server, a sentinel (test/helpers/redis-sentinel.ts
 * builds a primary, replica and sentinels from them) or a 3-master Redis Cluster, each on
 * free loopback ports with its own temp dir. Every process started here is SIGKILLed and its dir
 * removed when the test process exits, so a failing test cannot leak servers. Only PIDs started by
 * this module are ever signalled: other test runs share the machine. States are awaited as lines of
 * the server's own log (notice level, on stdout), never by polling.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { Recorder } from './recorder.js';
import { TIME_FACTOR } from './time-factor.js';

const execFileAsync = promisify(execFile);

/** Paths are fixed by the test image (see docs/architecture.md, "Testing"). */
export const REDIS_SERVER_BIN = process.env.FERRY_REDIS_SERVER ?? '/usr/bin/redis-server';
export const REDIS_CLI_BIN = process.env.FERRY_REDIS_CLI ?? '/usr/bin/redis-cli';

const READY_TIMEOUT_MS = 10_000 * TIME_FACTOR;
/** Pushed to a server's log lines when its process ends, so waits on the log fail at once. */
const EXIT_LINE = '[process exited]';

export interface RedisServerOptions {
  /**
   * Turn on the append-only file (fsync on every write) so `restart()` — even after `kill9()` —
   * comes back with the data. Off by default: no persistence at all.
   */
  appendonly?: boolean;
  /** Start as a Redis Cluster node (`--cluster-enabled yes`); used by `startRedisCluster`. */
  cluster?: boolean;
  /** Fixed port; default a free one (for cluster nodes, one whose bus port +10000 is free too). */
  port?: number;
  /** Extra `--name value` arguments, e.g. `['--maxmemory', '10mb']`. */
  extraArgs?: string[];
  /**
   * Run as a Redis Sentinel (`redis-server <conf> --sentinel`) with this config file text, written to
   * `sentinel.conf` in the data dir (Sentinel needs a file it can rewrite).
   */
  sentinelConfig?: string;
}

/** One running (or stopped, restartable) redis-server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** PID of the current process (changes after `restart()`); 0 while stopped. */
  readonly pid: number;
  readonly dataDir: string;
  /** SIGTERM, wait for exit, remove the data dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), keep the data dir for `restart()`. */
  kill9(): Promise<void>;
  /**
   * Start again on the same port with the same data dir (stops first if still running); `extraArgs`
   * replace the ones it was started with (e.g. `['--replicaof', host, port]`).
   */
  restart(extraArgs?: string[]): Promise<void>;
  /** Runs `redis-cli -p <port> ...args` and returns its stdout. */
  cli(...args: string[]): Promise<string>;
  /** SIGSTOP: the process stops answering, its connections stay open (an unreachable Redis). */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /**
   * Resolves at the first line of the current process's log (since its last start) that `pattern`
   * matches, already written or still to come; rejects after `timeoutMs` (scaled) or if it exits.
   */
  waitForLog(pattern: RegExp, what: string, timeoutMs?: number): Promise<void>;
}

/** A running 3-master (by default) Redis Cluster. */
export interface RedisCluster {
  readonly nodes: { host: string; port: number }[];
  readonly urls: string[];
  readonly servers: RedisServer[];
  /** Stops every node and removes their dirs. Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();

process.once('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** True when nothing listens on 127.0.0.1:port (we can bind it ourselves). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1' }, () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A free port; for cluster nodes the cluster bus port (port + 10000) must be free as well, so the
 * candidate comes from a range where +10000 stays below 65536 (and below the Linux ephemeral range,
 * which makes collisions with client sockets rarer).
 */
async function freePort(cluster: boolean): Promise<number> {
  if (!cluster) return ephemeralPort();
  for (let i = 0; i < 200; i++) {
    const port = 12_000 + Math.floor(Math.random() * 18_000);
    if ((await portFree(port)) && (await portFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

/**
 * The line a server writes once it accepts connections: after loading its data (the append-only file
 * on a restart); a sentinel, once it has its listeners and announces its id.
 */
const READY_LINE = /Ready to accept connections|Sentinel ID is/;

class Server implements RedisServer {
  readonly host = '127.0.0.1';
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Log lines of the current process; an `exit` line is pushed when it ends. */
  private log = new Recorder<string>();

  constructor(
    readonly port: number,
    readonly dataDir: string,
    private opts: RedisServerOptions,
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  private args(): string[] {
    const sentinel = this.opts.sentinelConfig !== undefined;
    const a = [
      ...(sentinel ? [join(this.dataDir, 'sentinel.conf'), '--sentinel'] : []),
      '--port',
      String(this.port),
      '--bind',
      this.host,
      '--dir',
      this.dataDir,
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      '--logfile',
      '',
      '--loglevel',
      'notice',
    ];
    if (this.opts.appendonly === true) a.push('--appendonly', 'yes', '--appendfsync', 'always');
    else a.push('--appendonly', 'no');
    if (this.opts.cluster === true) {
      a.push(
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '5000',
      );
    }
    return [...a, ...(this.opts.extraArgs ?? [])];
  }

  /** Spawns the process and waits for PING; rejects (and reaps it) if it exits or stays silent. */
  async start(): Promise<void> {
    this.stopped = false;
    const conf = join(this.dataDir, 'sentinel.conf');
    if (this.opts.sentinelConfig !== undefined && !existsSync(conf))
      writeFileSync(conf, this.opts.sentinelConfig);
    const proc = spawn(REDIS_SERVER_BIN, this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = new Recorder<string>();
    this.log = log;
    createInterface({ input: proc.stdout! }).on('line', (line) => log.push(line));
    createInterface({ input: proc.stderr! }).on('line', (line) => log.push(line));
    const output = (): string => log.items.join('\n');
    live.add(proc);
    let hasExited = false;
    this.exited = new Promise((resolve) => {
      const onExit = (err?: Error): void => {
        if (hasExited) return;
        hasExited = true;
        live.delete(proc);
        log.push(err === undefined ? EXIT_LINE : `${EXIT_LINE}: ${String(err)}`);
        resolve();
      };
      proc.once('exit', () => onExit());
      proc.once('error', onExit);
    });
    this.proc = proc;
    try {
      await this.waitForLog(READY_LINE, 'the ready line', READY_TIMEOUT_MS / TIME_FACTOR);
    } catch (err) {
      proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`redis-server on port ${this.port} did not start (${String(err)}):\n${output()}`, {
        cause: err,
      });
    }
    // A ready line from our process but a port lost to another server would be a false start.
    const info = await this.cli('info', 'server').catch(() => '');
    if (hasExited || !info.includes(`process_id:${proc.pid}\r`)) {
      proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`redis-server on port ${this.port} lost the port to another process:\n${output()}`);
    }
  }

  waitForLog(pattern: RegExp, what: string, timeoutMs = 10_000): Promise<void> {
    return this.log.waitFor(
      (lines) => {
        if (lines.some((l) => pattern.test(l))) return true;
        if (lines.at(-1)?.startsWith(EXIT_LINE) === true)
          throw new Error(`redis-server exited before ${what}`);
        return false;
      },
      `${what} from redis-server on port ${this.port}`,
      timeoutMs,
    );
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(sig);
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.resume(); // a paused process would not act on SIGTERM
    await this.signal('SIGTERM');
    this.proc = undefined;
    rmSync(this.dataDir, { recursive: true, force: true });
    dirs.delete(this.dataDir);
  }

  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async restart(extraArgs?: string[]): Promise<void> {
    await this.signal('SIGTERM');
    if (extraArgs !== undefined) this.opts = { ...this.opts, extraArgs };
    await this.start();
  }

  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async cli(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(REDIS_CLI_BIN, [
      '-h',
      this.host,
      '-p',
      String(this.port),
      ...args,
    ]);
    return stdout;
  }
}

/**
 * Starts one redis-server on a free loopback port with a fresh temp dir and resolves once it
 * answers PING. Retries on another port if the chosen one was taken in the meantime.
 */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = opts.port ?? (await freePort(opts.cluster === true));
    const dir = mkdtempSync(join(tmpdir(), 'ferry-redis-'));
    dirs.add(dir);
    const server = new Server(port, dir, opts);
    try {
      await server.start();
      return server;
    } catch (err) {
      lastErr = err;
      await server.stop();
      if (opts.port !== undefined) break;
    }
  }
  throw lastErr;
}

/**
 * Starts `masters` cluster-enabled servers, joins them with `redis-cli --cluster create`
 * (no replicas) and resolves once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) servers.push(await startRedisServer({ cluster: true }));
    await execFileAsync(
      REDIS_CLI_BIN,
      [
        '--cluster',
        'create',
        ...servers.map((s) => `${s.host}:${s.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: READY_TIMEOUT_MS },
    );
    // `--cluster create` returns once every node knows every other; a node serves once it has seen
    // all slots covered, which it logs.
    for (const s of servers) {
      await s.waitForLog(/Cluster state changed: ok/, 'cluster state ok', READY_TIMEOUT_MS / TIME_FACTOR);
      const info = await s.cli('cluster', 'info');
      if (!info.includes(`cluster_known_nodes:${masters}`))
        throw new Error(`cluster node on port ${s.port} does not know all ${masters} nodes:\n${info}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    servers,
    nodes: servers.map((s) => ({ host: s.host, port: s.port })),
    urls: servers.map((s) => s.url),
    stop,
  };
}
