import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';

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
  ) {
    this.exitPromise = exitPromise;
  }

  /**
   * Starts a node; extra CLI flags go after the defaults (and win). WebTransport is off unless `wt`
   * is set, which starts it on a free UDP port (`--wt-port 0`); likewise the gRPC access gateway and
   * `grpc` (`--grpc-port 0`). `fdLimit` runs it under `ulimit -n <fdLimit>`.
   */
  static async start(
    extraArgs: string[] = [],
    opts: { dataDir?: string; env?: NodeJS.ProcessEnv; wt?: boolean; grpc?: boolean; fdLimit?: number } = {},
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
      '--auth-secret',
      TEST_SECRET,
      '--log-level',
      'info',
      ...extraArgs,
    ];
    const [command, argv] =
      opts.fdLimit === undefined
        ? [process.execPath, args]
        : ['bash', ['-c', `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, process.execPath, ...args]];
    const proc = spawn(command, argv, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    const exitPromise = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const logs: Record<string, unknown>[] = [];
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
    const g = new GatewayProcess(proc, urls, dataDir, exitPromise);
    (g as { logs: Record<string, unknown>[] }).logs = logs;
    proc.stderr?.on('data', (d: Buffer) => (g.stderr += d.toString()));
    g.stderr = stderr;
    return g;
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

  /** Fetches a JSON admin endpoint. */
  async admin(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`${this.urls.admin}${path}`);
    return { status: res.status, body: await res.text() };
  }
}

/** Mints a token the test gateways accept. */
export async function testToken(
  userId: string,
  opts: { deviceId?: string; ttlSeconds?: number; secret?: string } = {},
): Promise<string> {
  const jwt = new SignJWT(opts.deviceId !== undefined ? { did: opts.deviceId } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.ttlSeconds ?? 3600));
  return jwt.sign(new TextEncoder().encode(opts.secret ?? TEST_SECRET));
}
