/**
 * A real RabbitMQ broker for tests (`rabbitmq-server`, the Debian package): its own Erlang node name,
 * AMQP and distribution ports, mnesia, log and config in a temp dir (and HOME there, so its Erlang
 * cookie is its own), listening on 127.0.0.1 only, no plugins. Start one per test file: an Erlang
 * start takes seconds. Readiness is an AMQP connection that opens, not a delay. Only processes
 * started here are ever signalled (the machine may run its own broker on 5672: it is never touched).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { TIME_FACTOR } from './time-factor.js';

const execFileAsync = promisify(execFile);

/** The broker's own scripts: /usr/sbin/rabbitmq-server would switch to the rabbitmq user. */
const RABBIT_BIN = process.env.FERRY_RABBITMQ_BIN ?? '/usr/lib/rabbitmq/bin';
const READY_TIMEOUT_MS = 60_000 * TIME_FACTOR;
/** What rabbitmq-server prints once its client listeners are up (3.10: "Server startup complete; N plugins started."). */
const STARTUP_LINE = 'Server startup complete';

export interface RabbitServer {
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** PID of the broker's Erlang VM (changes after `restart()`); 0 while stopped. */
  readonly pid: number;
  /** SIGTERM (a clean broker shutdown), wait for exit, remove the dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (a crash); the data dir stays for `restart()`. */
  kill9(): Promise<void>;
  /** SIGTERM if running, then start again on the same port with the same data. */
  restart(): Promise<void>;
  /** SIGSTOP: the broker stops answering; its connections stay open. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Runs `rabbitmqctl -n <node> ...args` against this broker; resolves with its stdout. */
  ctl(...args: string[]): Promise<string>;
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

function freePort(): Promise<number> {
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

let started = 0;

class Broker implements RabbitServer {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;
  private output = '';

  constructor(
    readonly port: number,
    private readonly distPort: number,
    private readonly node: string,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HOME: this.dir,
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(this.dir, 'rabbit.pid'),
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
      // Exec the Erlang VM in place of the wrapper shell: the PID we hold is the broker's own.
      RABBITMQ_ALLOW_INPUT: 'true',
    };
  }

  /** Spawns the broker and resolves once an AMQP connection to it opens. */
  async start(): Promise<void> {
    this.stopped = false;
    this.output = '';
    const proc = spawn(join(RABBIT_BIN, 'rabbitmq-server'), [], {
      env: this.env(),
      cwd: this.dir,
      // stdin stays open: with input allowed, the VM would halt on its end.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // The broker says on stdout when its listeners are up: wait for that line, not by retrying.
    let startedUp!: () => void;
    const startup = new Promise<void>((resolve) => (startedUp = resolve));
    const record = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-20_000);
      if (this.output.includes(STARTUP_LINE)) startedUp();
    };
    proc.stdout?.on('data', record);
    proc.stderr?.on('data', record);
    live.add(proc);
    this.exited = new Promise((resolve) => {
      proc.once('exit', () => {
        live.delete(proc);
        resolve();
      });
    });
    this.proc = proc;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      startup.then(() => 'up' as const),
      this.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (outcome === 'exited')
      throw new Error(`rabbitmq-server ${this.node} exited during start:\n${this.output}`);
    if (outcome === 'timeout') {
      proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`rabbitmq-server ${this.node} did not start:\n${this.output}`);
    }
    // One real AMQP handshake: the listener the log line announced takes connections.
    const c = await amqp.connect(this.url);
    await c.close();
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
    this.resume(); // a stopped VM would not act on SIGTERM
    await this.signal('SIGTERM');
    this.proc = undefined;
    rmSync(this.dir, { recursive: true, force: true });
    dirs.delete(this.dir);
  }

  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.signal('SIGTERM');
    await this.start();
  }

  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(join(RABBIT_BIN, 'rabbitmqctl'), ['-n', this.node, ...args], {
      env: this.env(),
    });
    return stdout;
  }
}

/** Starts a broker of its own on free loopback ports; resolves once it accepts AMQP connections. */
export async function startRabbitServer(): Promise<RabbitServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-rabbit-'));
  dirs.add(dir);
  // loopback_users = none: the default guest user may log in (it does only over loopback anyway).
  writeFileSync(join(dir, 'rabbitmq.conf'), 'loopback_users = none\nlog.console = true\nlog.file = false\n');
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const node = `ferry-test-${process.pid}-${++started}@localhost`;
  const broker = new Broker(await freePort(), await freePort(), node, dir);
  await broker.start();
  return broker;
}
