/**
 * One flooding client in its own process (bench/flood.ts): it connects over TCP or WebSocket,
 * authenticates (except for the pre-auth and garbage floods), then writes one kind of frame as fast as
 * the socket takes it, and reconnects whenever the server cuts it, until its time is up. It reports
 * every connection's end (Disconnect code or close code, and how long after its first flood byte), the
 * frames it wrote and what the server answered. The pre-auth flood writes its Authenticate and the
 * first batch of Pings in one write, so the Pings arrive before the server can have answered.
 *
 * "As fast as the socket takes it": a pre-built ~64 KiB batch of frames is written again whenever the
 * socket has drained, so the generator costs one write call per batch, not per frame; on WebSocket
 * the batch holds ready-made masked client frames (RFC 6455 §5.2, with an all-zero masking key, which
 * §5.3 allows) written straight to the TCP socket under `ws`, so the flooder is not limited by ws's
 * per-message send path. What holds it back is then the server: TCP flow control once the server stops
 * reading.
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import {
  BODY,
  FieldReader,
  PrefixedReader,
  encodeAuthenticate,
  encodeBodyFrame,
  encodeFields,
  encodePing,
  readFrame,
  type FrameView,
} from './frames.js';
import { forkWorker, request, serveWorker } from './ipc.js';
import { tokenFor } from './tokens.js';

/** The frame kinds bench/flood.ts floods with, one flooder each. */
export const FLOOD_KINDS = [
  'ping',
  'ping-60k',
  'pong',
  'ack',
  'send',
  'publish',
  'subscribe',
  'garbage',
  'preauth',
] as const;
export type FloodKind = (typeof FLOOD_KINDS)[number];

export interface FloodInit {
  type: 'init';
  url: string;
  kind: FloodKind;
  secret: string;
  userId: string;
}

export interface FloodStart {
  type: 'start';
  durationMs: number;
}

/** What a flooder reports when its time is up. */
export interface FloodStats {
  type: 'done';
  kind: FloodKind;
  transport: 'tcp' | 'ws';
  connections: number;
  /** How each connection ended: `4006`, `4500`, ... (Disconnect code), `ws 1006`, `closed`, `open at end`. */
  ends: Record<string, number>;
  /** Per connection the server closed: ms from its first flood byte to the close. */
  cutMs: number[];
  framesWritten: number;
  bytesWritten: number;
  /** Frames the server sent back, by body (`pong`, `sendAck`, `reply`, `error 104`, ...). */
  responses: Record<string, number>;
  connectFailures: number;
  cpuSeconds: number;
  wallSeconds: number;
}

const BATCH_BYTES = 64 * 1024;
const FLOOD_ID = 7;
const ZERO_MASK = Buffer.alloc(4);

/** The body of one flood frame (request frames carry an id; acks and pongs need none but get one). */
function floodFrames(kind: FloodKind, prefixed: boolean): Buffer[] {
  switch (kind) {
    case 'ping':
    case 'preauth':
      return [encodePing(FLOOD_ID, 1, prefixed)];
    case 'ping-60k':
      return [encodePing(FLOOD_ID, 1, prefixed, 60 * 1024)];
    case 'pong':
      return [encodeBodyFrame(FLOOD_ID, BODY.pong, encodeFields([[1, 1]]), prefixed)];
    case 'ack':
      return [encodeBodyFrame(0, BODY.ack, encodeFields([[1, 1]]), prefixed)];
    case 'send': {
      const body = encodeFields([
        [1, 'flood-sink'],
        [2, Buffer.alloc(16, 0x61)],
      ]);
      return [encodeBodyFrame(FLOOD_ID, BODY.send, body, prefixed)];
    }
    case 'publish': {
      const body = encodeFields([
        [1, 'flood-topic'],
        [2, Buffer.alloc(16, 0x61)],
      ]);
      return [encodeBodyFrame(FLOOD_ID, BODY.publish, body, prefixed)];
    }
    case 'subscribe':
      return [
        encodeBodyFrame(FLOOD_ID, BODY.subscribe, encodeFields([[1, 'flood-room']]), prefixed),
        encodeBodyFrame(FLOOD_ID, BODY.unsubscribe, encodeFields([[1, 'flood-room']]), prefixed),
      ];
    case 'garbage': {
      // A truncated varint: not a Frame (docs/protocol.md §4.4, 4500 BAD_FRAME).
      const body = Buffer.alloc(24, 0xff);
      if (!prefixed) return [body];
      const framed = Buffer.allocUnsafe(4 + body.length);
      framed.writeUInt32BE(body.length, 0);
      body.copy(framed, 4);
      return [framed];
    }
  }
}

/** One masked WebSocket binary frame around `payload` (FIN, opcode 2, MASK with key 0). */
function wsClientFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + n);
  out[0] = 0x82;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  ZERO_MASK.copy(out, head);
  payload.copy(out, head + 4);
  return out;
}

/** A batch of about BATCH_BYTES of flood frames, ready for the socket; and how many frames it holds. */
function floodBatch(kind: FloodKind, ws: boolean): { batch: Buffer; frames: number } {
  const frames = floodFrames(kind, !ws).map((f) => (ws ? wsClientFrame(f) : f));
  const unit = Buffer.concat(frames);
  const copies = Math.max(1, Math.floor(BATCH_BYTES / unit.length));
  return { batch: Buffer.concat(Array.from({ length: copies }, () => unit)), frames: copies * frames.length };
}

/**
 * The flooder's source address: another client than the bystanders (who come from 127.0.0.1), as an
 * attacker is. Per-address defences (the abuse penalty refuses an address whose connections keep
 * getting cut) would otherwise refuse the bystanders' next phase too. Linux routes all of 127/8 to lo.
 */
const FLOODER_ADDRESS = '127.0.0.2';

/** One flooding connection: resolves with how it ended once it closed (or the time ran out). */
class FloodConnection {
  ended: Promise<string>;
  floodStartedMs = 0;
  private disconnectCode = 0;
  private endedResolve!: (end: string) => void;
  private authWaiter: ((ok: boolean) => void) | null = null;
  private readonly reader = new FieldReader();
  private readonly view: FrameView = { id: 0, body: 0, start: 0, end: 0 };

  constructor(
    readonly socket: net.Socket,
    private readonly ws: WebSocket | null,
    private readonly responses: Record<string, number>,
  ) {
    this.ended = new Promise((resolve) => (this.endedResolve = resolve));
    socket.on('error', () => {});
    if (ws !== null) {
      ws.on('message', (data: Buffer) => this.frame(data, 0, data.length));
      ws.on('error', () => {});
      ws.on('close', (code) =>
        this.endedResolve(this.disconnectCode > 0 ? `${this.disconnectCode}` : `ws ${code}`),
      );
    } else {
      const frames = new PrefixedReader();
      socket.on('data', (chunk: Buffer) => frames.push(chunk, (b, s, e) => this.frame(b, s, e)));
      socket.on('close', () =>
        this.endedResolve(this.disconnectCode > 0 ? `${this.disconnectCode}` : 'closed'),
      );
    }
  }

  static async open(url: string, responses: Record<string, number>): Promise<FloodConnection> {
    if (url.startsWith('tcp://')) {
      const u = new URL(url);
      const socket = net.connect({ host: u.hostname, port: Number(u.port), localAddress: FLOODER_ADDRESS });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      return new FloodConnection(socket, null, responses);
    }
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: 16 * 1024 * 1024,
      localAddress: FLOODER_ADDRESS,
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new FloodConnection((ws as unknown as { _socket: net.Socket })._socket, ws, responses);
  }

  /** Sends Authenticate; resolves once AuthResult arrived (false if refused or closed). */
  authenticate(token: string): Promise<boolean> {
    const frame = encodeAuthenticate(1, token, this.ws === null);
    if (this.ws !== null) this.ws.send(frame);
    else this.socket.write(frame);
    return new Promise((resolve) => {
      this.authWaiter = resolve;
      void this.ended.then(() => resolve(false));
    });
  }

  /**
   * Writes `batch` whenever the socket has drained, until the connection ends or `deadline`. `first`
   * goes out in the same write as the first batch (the pre-auth flood's Authenticate, so that the
   * server reads the frames behind it before it can have answered).
   */
  flood(batch: Buffer, framesPerBatch: number, deadline: number, counts: FloodStats, first?: Buffer): void {
    this.floodStartedMs = performance.now();
    const socket = this.socket;
    if (first !== undefined) {
      counts.framesWritten += framesPerBatch;
      counts.bytesWritten += first.length + batch.length;
      socket.write(Buffer.concat([first, batch]));
    }
    const pump = (): void => {
      while (socket.writable && performance.now() < deadline) {
        counts.framesWritten += framesPerBatch;
        counts.bytesWritten += batch.length;
        if (!socket.write(batch)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  }

  close(): void {
    this.socket.destroy();
  }

  private frame(buf: Buffer, start: number, end: number): void {
    const v = readFrame(this.reader, buf, start, end, this.view);
    let key: string;
    if (v.body === BODY.error || v.body === BODY.disconnect) {
      let code = 0;
      const r = this.reader.reset(buf, v.start, v.end);
      while (r.next()) if (r.field === 1 && r.wireType === 0) code = r.value;
      key = `${v.body === BODY.error ? 'error' : 'disconnect'} ${code}`;
      if (v.body === BODY.disconnect) {
        // The server's verdict: the connection is over now, whatever the socket's close handshake does
        // (a server that stopped reading cannot read our close, so it ends by its close linger).
        this.disconnectCode = code;
        this.authWaiter?.(false);
        this.endedResolve(`${code}`);
      }
    } else {
      key = BODY_NAMES.get(v.body) ?? `body ${v.body}`;
      if (v.body === BODY.authResult) this.authWaiter?.(true);
    }
    this.responses[key] = (this.responses[key] ?? 0) + 1;
  }
}

const BODY_NAMES = new Map<number, string>(Object.entries(BODY).map(([name, field]) => [field, name]));

/** Floods until `durationMs` has passed, reconnecting after every cut. */
async function run(init: FloodInit, start: FloodStart): Promise<FloodStats> {
  const ws = !init.url.startsWith('tcp://');
  const stats: FloodStats = {
    type: 'done',
    kind: init.kind,
    transport: ws ? 'ws' : 'tcp',
    connections: 0,
    ends: {},
    cutMs: [],
    framesWritten: 0,
    bytesWritten: 0,
    responses: {},
    connectFailures: 0,
    cpuSeconds: 0,
    wallSeconds: 0,
  };
  const { batch, frames } = floodBatch(init.kind, ws);
  const token = await tokenFor('ferry', init.userId, init.secret);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + start.durationMs;
  while (performance.now() < deadline) {
    let conn: FloodConnection;
    try {
      conn = await FloodConnection.open(init.url, stats.responses);
    } catch {
      stats.connectFailures++;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    stats.connections++;
    if (init.kind !== 'garbage' && init.kind !== 'preauth') {
      const authed = await conn.authenticate(token);
      if (!authed) {
        const end = await conn.ended;
        stats.ends[`auth refused: ${end}`] = (stats.ends[`auth refused: ${end}`] ?? 0) + 1;
        continue;
      }
    }
    const auth = encodeAuthenticate(1, token, !ws);
    conn.flood(
      batch,
      frames,
      deadline,
      stats,
      init.kind === 'preauth' ? (ws ? wsClientFrame(auth) : auth) : undefined,
    );
    const left = deadline - performance.now();
    const end = await Promise.race([
      conn.ended,
      new Promise<string>((r) => setTimeout(() => r('open at end'), Math.max(0, left)).unref()),
    ]);
    if (end !== 'open at end') stats.cutMs.push(performance.now() - conn.floodStartedMs);
    stats.ends[end] = (stats.ends[end] ?? 0) + 1;
    conn.close();
  }
  const cpu = process.cpuUsage(cpu0);
  stats.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  stats.wallSeconds = (performance.now() - t0) / 1000;
  return stats;
}

/** Coordinator side: a flooder process ready to start (its token minted, nothing connected yet). */
export async function startFlooder(
  init: Omit<FloodInit, 'type'>,
): Promise<{ flood(durationMs: number): Promise<FloodStats>; stop(): void }> {
  const child = forkWorker(fileURLToPath(import.meta.url));
  await request<{ type: 'ready' }>(child, { type: 'init', ...init } satisfies FloodInit, 'ready');
  return {
    flood: (durationMs) =>
      request<FloodStats>(child, { type: 'start', durationMs } satisfies FloodStart, 'done'),
    stop: () => {
      if (child.connected) child.send({ type: 'exit' });
    },
  };
}

function workerMain(): void {
  let init: FloodInit | null = null;
  serveWorker<FloodInit, FloodStart>('flood-worker', {
    init: (msg) => {
      init = msg;
      return Promise.resolve({ type: 'ready' });
    },
    start: (msg) => run(init!, msg),
    exit: () => {},
  });
}

if (process.argv.includes('--worker') && process.argv[1] === fileURLToPath(import.meta.url)) workerMain();
