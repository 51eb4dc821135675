/**
 * The comparison server for `npm run bench -- cluster`: one Socket.IO node clustered through
 * `@socket.io/redis-streams-adapter` over the `redis` (node-redis) client, doing what a 1:1 chat on
 * Socket.IO does: each client joins a room named after its user, a client emits
 * `m {to, payload, t, s, n, e}` with an ack callback, and the server forwards it with
 * `io.to(to).emit('m', {from, payload, t, s, n, e})` and calls the ack (Ferry answers every Send with
 * a SendAck too, so both servers write the same number of frames per message).
 *
 *   node bench/.build/lib/socketio-node.js --redis redis://127.0.0.1:6379 [--port 0] [--max-len 10000]
 *
 * WebSocket transport only (no HTTP long-polling upgrade), no per-message deflate. The adapter's stream
 * is capped with MAXLEN ~ `--max-len` (its default, 10,000). Prints one JSON line
 * `{"msg":"socketio ready","addresses":{"ws":{"url":...}}}` when listening; exits on SIGTERM.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { Server, type Socket } from 'socket.io';

/** What a generator client emits (bench/lib/socketio-worker.ts). */
export interface SioSend {
  to: string;
  payload: string;
  /** Sender's performance.now() at send, sender index, per-sender message number, epoch. */
  t: number;
  s: number;
  n: number;
  e: number;
}

/** What the recipient receives. */
export interface SioDeliver {
  from: string;
  payload: string;
  t: number;
  s: number;
  n: number;
  e: number;
}

function log(rec: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: Date.now(), ...rec })}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'max-len': { type: 'string', default: '10000' },
    },
  });
  if (values.redis === undefined) throw new Error('--redis redis://host:port is required');
  const redis = createClient({ url: values.redis });
  // On stderr, which the bench tallies as the node's warnings.
  redis.on('error', (err: Error) => process.stderr.write(`redis error: ${err.message}\n`));
  await redis.connect();

  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    adapter: createAdapter(redis, { maxLen: Number(values['max-len']) }),
  });
  io.use((socket, next) => {
    const user = (socket.handshake.auth as { user?: unknown }).user;
    if (typeof user !== 'string' || user === '') return next(new Error('auth: user required'));
    socket.data.user = user;
    next();
  });
  let forwarded = 0;
  io.on('connection', (socket: Socket) => {
    const from = socket.data.user as string;
    void socket.join(from);
    socket.on('m', (m: SioSend, ack?: () => void) => {
      if (m === null || typeof m !== 'object' || typeof m.to !== 'string') return;
      const out: SioDeliver = { from, payload: m.payload, t: m.t, s: m.s, n: m.n, e: m.e };
      io.to(m.to).emit('m', out);
      forwarded++;
      if (typeof ack === 'function') ack();
    });
  });

  await new Promise<void>((resolve) => httpServer.listen(Number(values.port), values.host, resolve));
  const addr = httpServer.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  log({ msg: 'socketio ready', addresses: { ws: { url: `http://${values.host}:${port}` } } });

  const shutdown = (): void => {
    log({ msg: 'socketio stopping', forwarded });
    // The process exits below whether or not the close finishes; a failed close changes nothing.
    io.close().catch(() => undefined);
    // The adapter's blocking XREAD connection may hold the loop for up to its block time.
    setTimeout(() => process.exit(0), 200).unref();
    void redis.quit().catch(() => undefined);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`socketio-node: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
