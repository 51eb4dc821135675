/**
 * The benchmark's own redis-server: /usr/bin/redis-server (or FERRY_REDIS_SERVER) on a free loopback
 * port, no persistence, a fresh temp dir, killed with the bench. A copy of the essentials of
 * test/helpers/redis-server.ts, because bench/ runs as plain JavaScript transpiled by run.mjs and does
 * not import from test/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REDIS_SERVER_BIN = process.env.FERRY_REDIS_SERVER ?? '/usr/bin/redis-server';

export interface BenchRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Sends one command; resolves with a simple reply's line (`:42`) or a bulk string's content. */
  command(...args: string[]): Promise<string>;
  /** SIGTERM, wait, remove the dir. Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1' }, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * One command over a fresh socket; resolves with a simple reply's line (`+PONG`, `:42`) or a bulk
 * string's content (INFO). Only the reply kinds the bench asks for are understood.
 */
function rawCommand(port: number, args: string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    let buf = '';
    sock.setTimeout(timeoutMs, () => {
      sock.destroy();
      reject(new Error('redis command timeout'));
    });
    sock.once('error', reject);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      // Simple replies (+ - :) end at the first CRLF; a bulk string ($n) after n more bytes.
      const bulkLength = buf[0] === '$' ? Number(buf.slice(1, eol)) : -1;
      if (bulkLength >= 0 && buf.length < eol + 2 + bulkLength + 2) return;
      sock.destroy();
      resolve(bulkLength >= 0 ? buf.slice(eol + 2, eol + 2 + bulkLength) : buf.slice(0, eol));
    });
    sock.once('connect', () => {
      sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
  });
}

/**
 * Starts redis-server and resolves once it answers PING (one retry on another port). With
 * `replicaOf` it is a replica of the server on that port (store.durability ack-after-replica).
 */
export async function startBenchRedis(opts: { replicaOf?: number } = {}): Promise<BenchRedis> {
  const replication =
    opts.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(opts.replicaOf)];
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-redis-'));
    const proc = spawn(
      REDIS_SERVER_BIN,
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
        ...['--repl-diskless-sync-delay', '0', ...replication],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    live.add(proc);
    const exited = new Promise<void>((r) => proc.once('exit', () => (live.delete(proc), r())));
    let output = '';
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 10_000;
    let up = false;
    while (!up && Date.now() < deadline && proc.exitCode === null) {
      up = (await rawCommand(port, ['PING']).catch(() => '')).startsWith('+PONG');
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    // A PONG from another helper's server that won the port would be a false start.
    const info = up ? await rawCommand(port, ['INFO', 'server']).catch(() => '') : '';
    if (up && info.includes(`process_id:${proc.pid}\r`)) {
      let stopped = false;
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        pid: proc.pid!,
        command: (...args) => rawCommand(port, args),
        stop: async () => {
          if (stopped) return;
          stopped = true;
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          await exited;
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastErr = new Error(`redis-server on port ${port} did not start: ${output.slice(-500)}`);
    proc.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
  throw lastErr;
}
