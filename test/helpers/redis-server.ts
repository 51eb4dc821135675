/**
 * Real `redis-server` processes for tests: a standalone server, a sentinel (test/helpers/redis-sentinel.ts
 * builds a primary, replica and sentinels from them) or a 3-master Redis Cluster, each on
 * free loopback ports with its own temp dir. Every process started here is SIGKILLed and its dir
 * removed when the test process exits (mocha runs with `exit: true`), so a failing test cannot leak
 * servers. Only PIDs started by this module are ever signalled: other test runs share the machine.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TIME_FACTOR } from './time-factor.js';

const execFileAsync = promisify(execFile);

/** Paths are fixed by the test image (see docs/architecture.md, "Testing"). */
export const REDIS_SERVER_BIN = process.env.FERRY_REDIS_SERVER ?? '/usr/bin/redis-server';
export const REDIS_CLI_BIN = process.env.FERRY_REDIS_CLI ?? '/usr/bin/redis-cli';

const READY_TIMEOUT_MS = 10_000 * TIME_FACTOR;

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

/** Sends PING over a raw socket; resolves true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('connect', () => sock.write('PING\r\n'));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Server implements RedisServer {
  readonly host = '127.0.0.1';
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;

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
      'warning',
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
    let output = '';
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    live.add(proc);
    let hasExited = false;
    this.exited = new Promise((resolve) => {
      proc.once('exit', () => {
        hasExited = true;
        live.delete(proc);
        resolve();
      });
      proc.once('error', (err) => {
        output += String(err);
        hasExited = true;
        live.delete(proc);
        resolve();
      });
    });
    this.proc = proc;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (hasExited) throw new Error(`redis-server on port ${this.port} exited during start:\n${output}`);
      if (await ping(this.port)) break;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        await this.exited;
        throw new Error(`redis-server on port ${this.port} did not answer PING:\n${output}`);
      }
      await sleep(20);
    }
    // A PONG from someone else's server on a port we lost the race for would be a false start.
    const info = await this.cli('info', 'server').catch(() => '');
    if (hasExited || !info.includes(`process_id:${proc.pid}\r`)) {
      proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`redis-server on port ${this.port} lost the port to another process:\n${output}`);
    }
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
    const deadline = Date.now() + READY_TIMEOUT_MS * 2;
    for (const s of servers) {
      for (;;) {
        const info = await s.cli('cluster', 'info');
        // All slots assigned and every node known: clients may connect to any node.
        if (info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`)) break;
        if (Date.now() > deadline) throw new Error(`cluster not ok on port ${s.port}:\n${info}`);
        await sleep(50);
      }
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
