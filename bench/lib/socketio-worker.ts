/**
 * One Socket.IO load-generator process for `npm run bench -- cluster`: the same workload, coordinator
 * messages and statistics as bench/lib/loadgen-worker.ts, spoken to bench/lib/socketio-node.ts. Pair
 * p = (client p on `url`, client p + N/2 on `partnerUrl`), both sending to each other, so every message
 * crosses nodes; latency is measured on this process's clock.
 *
 * Two clients (`WorkerInit.sioClient`):
 *  - `raw` (default): a bare `ws` connection per client speaking the Engine.IO 4 / Socket.IO 5 wire
 *    protocol itself (`0{…}` open, `40{auth}` connect, `2`/`3` ping/pong, `42["m",{…}]` events,
 *    `42<id>[…]` / `43<id>[]` acks), each emit one text frame written on its own connection: the same
 *    per-message work as the Ferry generator, which writes Ferry's frames with `ws` directly.
 *  - `socket.io-client`: one socket.io-client `Socket` per client (forceNew: one Manager and one
 *    engine.io-client socket each), as the bench did before; kept to show what the client library costs
 *    the generator and the latency it measures.
 *
 * Open loop only (a 2 ms tick sends what is due, round-robin over the clients). A message carries
 * `{to, payload, t, s, n, e}` (send time, sender index, per-sender number, epoch). With `noAck` unset it
 * asks for an ack, which the server sends after `io.to(to).emit(...)`, like Ferry's SendAck; with
 * `noAck` it is a plain emit (the server then sends nothing back to the sender). Run as
 * `node socketio-worker.js --worker` (forked by bench/lib/cluster-load.ts).
 */
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { serveWorker } from './ipc.js';
import { connectPool, makePairs } from './pairs.js';
import { grace, pace } from './pacer.js';
import { PairTally, emptyCounts } from './pair-stats.js';
import type { WorkerInit, WorkerReady, WorkerStart, WorkerStats } from './loadgen-worker.js';
import type { SioDeliver, SioSend } from './socketio-node.js';

/** One client's Socket.IO connection, whichever client library speaks it. */
interface SioConn {
  /** Emits event `m`; `onAck` (if given) runs when the server calls the ack. */
  emit(m: SioSend, onAck?: () => void): void;
  close(): void;
}

interface SioHandlers {
  onDeliver(m: SioDeliver): void;
  onClose(reason: string): void;
}

/** socket.io-client: one Manager and engine.io-client socket per client. */
function connectLibrary(url: string, user: string, h: SioHandlers): Promise<SioConn> {
  return new Promise((resolve, reject) => {
    const socket: Socket = io(url, {
      transports: ['websocket'],
      auth: { user },
      reconnection: false,
      forceNew: true,
      timeout: 10_000,
    });
    socket.once('connect', () => {
      socket.off('connect_error');
      socket.on('m', (m: SioDeliver) => h.onDeliver(m));
      socket.on('disconnect', (reason: string) => h.onClose(reason));
      resolve({
        emit: (m, onAck) => (onAck ? socket.emit('m', m, onAck) : socket.emit('m', m)),
        close: () => socket.close(),
      });
    });
    socket.once('connect_error', (err: Error) => {
      socket.close();
      reject(err);
    });
  });
}

/**
 * The Engine.IO 4 / Socket.IO 5 protocol over a bare `ws` connection (WebSocket transport only, text
 * packets, default namespace): what socket.io-client puts on the wire, without its per-packet layers.
 */
class RawSioConn implements SioConn {
  private nextAckId = 0;
  private readonly acks = new Map<number, () => void>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly h: SioHandlers,
  ) {}

  static connect(url: string, user: string, h: SioHandlers): Promise<SioConn> {
    const u = new URL(url);
    const ws = new WebSocket(`ws://${u.host}/socket.io/?EIO=4&transport=websocket`, {
      perMessageDeflate: false,
    });
    const conn = new RawSioConn(ws, h);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('connect timeout')), 10_000);
      let connected = false;
      const fail = (err: Error): void => {
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      ws.once('error', (err: Error) => {
        if (!connected) fail(err);
      });
      ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
        if (isBinary) return;
        const text = data.toString();
        if (connected) {
          conn.onPacket(text);
          return;
        }
        // Engine.IO open (`0{sid,…}`), then Socket.IO CONNECT to "/" with the auth object.
        if (text.startsWith('0')) ws.send(`40${JSON.stringify({ user })}`);
        else if (text.startsWith('40')) {
          connected = true;
          clearTimeout(timer);
          ws.on('error', () => {});
          ws.on('close', (code: number) => h.onClose(`close ${code}`));
          resolve(conn);
        } else if (text.startsWith('44')) fail(new Error(`connect_error ${text.slice(2, 80)}`));
      });
    });
  }

  emit(m: SioSend, onAck?: () => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (onAck === undefined) {
      this.ws.send(`42["m",${JSON.stringify(m)}]`);
      return;
    }
    const id = this.nextAckId++;
    this.acks.set(id, onAck);
    this.ws.send(`42${id}["m",${JSON.stringify(m)}]`);
  }

  close(): void {
    this.ws.close();
  }

  private onPacket(text: string): void {
    if (text === '2') {
      this.ws.send('3'); // Engine.IO ping from the server: pong
      return;
    }
    if (text.startsWith('42')) {
      // `42["m",{…}]` (the server's deliveries carry no ack id).
      const ev = JSON.parse(text.slice(2)) as [string, SioDeliver];
      if (ev[0] === 'm') this.h.onDeliver(ev[1]);
      return;
    }
    if (text.startsWith('43')) {
      const id = Number.parseInt(text.slice(2), 10);
      const cb = this.acks.get(id);
      if (cb !== undefined) {
        this.acks.delete(id);
        cb();
      }
    }
  }
}

class Client {
  conn: SioConn | null = null;
  partner!: Client;
  nextSeq = 0;
  /** Receiver side: next message number expected from the partner. */
  expected = 0;
  firstMeasuredSeq = Number.MAX_SAFE_INTEGER;

  constructor(
    readonly index: number,
    readonly userId: string,
  ) {}
}

class SioWorker {
  private readonly clients: Client[] = [];
  private readonly byIndex = new Map<number, Client>();
  private readonly tally = new PairTally<WorkerStats>({ ...emptyCounts(), type: 'done', sentWarmup: 0 });
  private readonly stats = this.tally.counts;
  private readonly payload: string;
  private readonly withAck: boolean;
  private epoch = 0;

  constructor(private readonly init: WorkerInit) {
    this.payload = 'a'.repeat(Math.max(1, init.payload));
    this.withAck = init.noAck !== true;
  }

  async connectAll(): Promise<WorkerReady> {
    const { clients: n, pairStart, pairEnd } = this.init;
    const half = n / 2;
    const prefix = this.init.userPrefix ?? 'u';
    this.clients.push(...makePairs(pairStart, pairEnd, half, (i) => new Client(i, `${prefix}${i}`)));
    for (const c of this.clients) this.byIndex.set(c.index, c);
    this.stats.clients = this.clients.length;
    const t0 = performance.now();
    const connect = this.init.sioClient === 'socket.io-client' ? connectLibrary : RawSioConn.connect;
    const failures = await connectPool(this.clients, this.init.connectConcurrency, async (c) => {
      const url = c.index >= half ? (this.init.partnerUrl ?? this.init.url) : this.init.url;
      c.conn = await connect(url, c.userId, {
        onDeliver: (m) => this.onDeliver(c, m),
        onClose: (reason) => {
          this.tally.closed(reason);
          c.conn = null;
        },
      });
    });
    return {
      type: 'ready',
      connected: this.clients.filter((c) => c.conn !== null).length,
      connectFailures: failures,
      connectMs: performance.now() - t0,
    };
  }

  /** Warm-up + measured window + grace, paced open loop; resolves with the stats. */
  async run(start: WorkerStart): Promise<WorkerStats> {
    const stats = this.stats;
    if (start.rate <= 0) throw new Error('the Socket.IO generator runs open loop only (--rate > 0)');
    const report = await pace({
      rate: start.rate,
      warmupMs: start.warmupMs,
      durationMs: start.durationMs,
      senders: this.clients.filter((c) => c.conn !== null),
      send: (c) => this.sendOne(c),
      onMeasure: () => {
        this.epoch = 1;
        this.tally.measuring = true;
        for (const c of this.clients) c.firstMeasuredSeq = c.nextSeq;
      },
    });
    this.tally.measuring = false;
    Object.assign(stats, report);
    await grace(
      start.graceMs,
      () => stats.delivered >= stats.sent && (!this.withAck || stats.acked >= stats.sent),
    );
    return this.tally.finish();
  }

  closeAll(): void {
    for (const c of this.clients) c.conn?.close();
  }

  private sendOne(c: Client): void {
    const conn = c.conn;
    if (conn === null) return;
    const seq = c.nextSeq++;
    const t = performance.now();
    const epoch = this.epoch;
    const m: SioSend = { to: c.partner.userId, payload: this.payload, t, s: c.index, n: seq, e: epoch };
    if (this.withAck) conn.emit(m, () => this.tally.ackArrived(epoch === 1, t, performance.now()));
    else conn.emit(m);
    if (epoch === 1) this.stats.sent++;
    else this.stats.sentWarmup++;
  }

  private onDeliver(receiver: Client, m: SioDeliver): void {
    const sender = this.byIndex.get(m.s);
    if (sender === undefined || sender !== receiver.partner) return;
    this.tally.arrived(receiver, m.n, m.e, performance.now() - m.t);
  }
}

if (process.argv.includes('--worker')) {
  let worker: SioWorker | null = null;
  serveWorker<WorkerInit, WorkerStart>('socketio-worker', {
    init: (msg) => (worker = new SioWorker(msg)).connectAll(),
    start: (msg) => worker!.run(msg),
    exit: () => worker?.closeAll(),
  });
}
