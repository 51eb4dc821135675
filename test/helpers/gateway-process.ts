import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';

/**
 * Flags for a test node whose subject is messaging, not permissions: test nodes run with a configured
 * secret, so topics and presence start closed (docs/security.md) unless these open them.
 */
export const OPEN_PERMISSIONS: readonly string[] = [
  '--topics-unmatched',
  'open',
  '--presence-visibility',
  'everyone',
];

/** The HS256 secret every test gateway is started with. */
export const TEST_SECRET = 'ferry-integration-test-secret-0123456789';

export interface GatewayUrls {
  ws: string;
  tcp: string;
  admin: string;
  /** https://127.0.0.1:<port>/wt when started with `wt: true`, else ''. */
  wt: string;
  /** `127.0.0.1:<port>` of the gRPC access gateway when started with `grpc: true`, else ''. */
  grpc: string;
}

/**
 * A real `ferry start` process for integration tests, on free ports, with its own data dir. It reads
 * the node's JSON log on stdout to learn the bound ports ("ferry started" line, written once the
 * signal handlers are installed, so a test may send SIGTERM as soon as `start` resolves).
 */
export class GatewayProcess {
  readonly logs: Record<string, unknown>[] = [];
  stderr = '';
  private exitPromise: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly urls: GatewayUrls,
    readonly dataDir: string,
    exitPromise: Promise<number | null>,
    private readonly env: NodeJS.ProcessEnv,
    /** Emits 'log' with each JSON log record after it is pushed to `logs`. */
    private readonly logEvents: EventEmitter,
  ) {
    this.exitPromise = exitPromise;
  }

  /**
   * Starts a node; extra CLI flags go after the defaults (and win). WebTransport is off unless `wt`
   * is set, which starts it on a free UDP port (`--wt-port 0`); likewise the gRPC access gateway and
   * `grpc` (`--grpc-port 0`). `authSecret: false` leaves out `--auth-secret`, so the node signs with
   * its generated dev secret (as `npm start` does). `fdLimit` runs it under `ulimit -n <fdLimit>`.
   */
  static async start(
    extraArgs: string[] = [],
    opts: {
      dataDir?: string;
      env?: NodeJS.ProcessEnv;
      wt?: boolean;
      grpc?: boolean;
      authSecret?: boolean;
      fdLimit?: number;
    } = {},
  ): Promise<GatewayProcess> {
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'ferry-test-'));
    const args = [
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
      ...(opts.wt === true ? ['--wt-port', '0'] : ['--no-wt']),
      ...(opts.grpc === true ? ['--grpc-port', '0'] : ['--no-grpc']),
      '--data-dir',
      dataDir,
      ...(opts.authSecret === false ? [] : ['--auth-secret', TEST_SECRET]),
      '--log-level',
      'info',
      ...extraArgs,
    ];
    const env = { ...process.env, ...opts.env };
    const [command, argv] =
      opts.fdLimit === undefined
        ? [process.execPath, args]
        : ['bash', ['-c', `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, process.execPath, ...args]];
    const proc = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const exitPromise = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const logs: Record<string, unknown>[] = [];
    const logEvents = new EventEmitter();
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = new Promise<GatewayUrls>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).on('line', (line: string) => {
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        logs.push(rec);
        logEvents.emit('log', rec);
        if (rec.msg === 'ferry started') {
          const a = rec.addresses as Record<string, { url: string }>;
          resolve({
            ws: a.ws?.url ?? '',
            tcp: a.tcp?.url ?? '',
            admin: a.admin?.url ?? '',
            wt: a.wt?.url ?? '',
            grpc: a.grpc?.url ?? '',
          });
        }
      });
      void exitPromise.then((code) =>
        reject(new Error(`gateway exited with ${code} before ready:\n${stderr}`)),
      );
      setTimeout(() => reject(new Error(`gateway not ready after 20 s:\n${stderr}`)), 20_000).unref();
    });
    const urls = await ready;
    const g = new GatewayProcess(proc, urls, dataDir, exitPromise, env, logEvents);
    (g as { logs: Record<string, unknown>[] }).logs = logs;
    proc.stderr?.on('data', (d: Buffer) => (g.stderr += d.toString()));
    g.stderr = stderr;
    return g;
  }

  /** The first log record (already logged or still to come) that `match` accepts. */
  waitForLog(
    match: (rec: Record<string, unknown>) => boolean,
    timeoutMs = 20_000,
  ): Promise<Record<string, unknown>> {
    const seen = this.logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.logEvents.off('log', onLog);
        reject(new Error(`no matching log line within ${timeoutMs} ms`));
      }, timeoutMs);
      const onLog = (rec: Record<string, unknown>): void => {
        if (!match(rec)) return;
        clearTimeout(timer);
        this.logEvents.off('log', onLog);
        resolve(rec);
      };
      this.logEvents.on('log', onLog);
    });
  }

  /**
   * Resolves once the node's stderr (the human banner and notices) contains `text`. The banner is
   * written before the "ferry started" log line, but on another pipe, so `start()` resolving does not
   * mean it has been read yet.
   */
  waitForStderr(text: string, timeoutMs = 20_000): Promise<string> {
    if (this.stderr.includes(text)) return Promise.resolve(this.stderr);
    const stream = this.proc.stderr!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.off('data', onData);
        reject(new Error(`${JSON.stringify(text)} not on stderr within ${timeoutMs} ms:\n${this.stderr}`));
      }, timeoutMs);
      // Registered after the listener that appends to `stderr`, so it sees the chunk appended.
      const onData = (): void => {
        if (!this.stderr.includes(text)) return;
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(this.stderr);
      };
      stream.on('data', onData);
    });
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async terminate(timeoutMs = 20_000): Promise<number | null> {
    this.proc.kill('SIGTERM');
    return this.waitExit(timeoutMs);
  }

  /** Kills the process at once (SIGKILL). */
  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exitPromise;
  }

  waitExit(timeoutMs = 20_000): Promise<number | null> {
    return Promise.race([
      this.exitPromise,
      new Promise<number | null>((_, reject) =>
        setTimeout(() => reject(new Error('gateway did not exit in time')), timeoutMs).unref(),
      ),
    ]);
  }

  /** Stops the process if still running and removes its data dir. */
  async cleanup(opts: { keepData?: boolean } = {}): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) await this.kill();
    if (opts.keepData !== true) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Fetches an admin endpoint with the admin key (which read routes that need none ignore). */
  /** The WebTransport certificate hashes the node publishes (base64 SHA-256), for Node clients to pin. */
  async wtCertHashes(): Promise<string[]> {
    const res = await fetch(`${this.urls.admin}/webtransport/cert-hashes`);
    const info = (await res.json()) as { hashes: { value: string }[] };
    return info.hashes.map((h) => h.value);
  }

  async admin(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`${this.urls.admin}${path}`, { headers: this.adminHeaders() });
    return { status: res.status, body: await res.text() };
  }

  /** The node's admin key: FERRY_ADMIN_KEY when the test set it, else the one it generated. */
  adminKey(): string {
    const configured = this.env.FERRY_ADMIN_KEY;
    if (configured !== undefined && configured !== '') return configured;
    return readFileSync(join(this.dataDir, 'admin', 'dev-secret'), 'utf8').trim();
  }

  /** `Authorization: Bearer <admin key>` and a JSON content type, as a mutating admin route needs. */
  adminHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.adminKey()}`, 'content-type': 'application/json' };
  }
}

/** Mints a token the test gateways accept. */
export async function testToken(
  userId: string,
  opts: {
    deviceId?: string;
    ttlSeconds?: number;
    secret?: string;
    /** Extra claims, e.g. `{ topics: ['chat:*'] }` grants (docs/security.md). */
    claims?: Record<string, unknown>;
  } = {},
): Promise<string> {
  const claims = { ...opts.claims, ...(opts.deviceId !== undefined ? { did: opts.deviceId } : {}) };
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.ttlSeconds ?? 3600));
  return jwt.sign(new TextEncoder().encode(opts.secret ?? TEST_SECRET));
}
