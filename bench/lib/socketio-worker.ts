/**
 * One Socket.IO load-generator process for `npm run bench -- cluster`: the same workload, coordinator
 * messages and statistics as bench/lib/loadgen-worker.ts, spoken with socket.io-client to
 * bench/lib/socketio-node.ts. Pair p = (client p on `url`, client p + N/2 on `partnerUrl`), both
 * sending to each other, so every message crosses nodes; latency is measured on this process's clock.
 *
 * Open loop only (a 2 ms tick sends what is due, round-robin over the clients). A message carries
 * `{to, payload, t, s, n, e}` (send time, sender index, per-sender number, epoch) and asks for an ack,
 * which the server sends after `io.to(to).emit(...)`, like Ferry's SendAck. Run as
 * `node socketio-worker.js --worker` (forked by bench/lib/cluster-load.ts).
 */
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { serveWorker } from './ipc.js';
import { connectPool, makePairs } from './pairs.js';
import { grace, pace } from './pacer.js';
import { PairTally, emptyCounts } from './pair-stats.js';
import type { WorkerInit, WorkerReady, WorkerStart, WorkerStats } from './loadgen-worker.js';
import type { SioDeliver, SioSend } from './socketio-node.js';

class Client {
  socket: Socket | null = null;
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
  private epoch = 0;

  constructor(private readonly init: WorkerInit) {
    this.payload = 'a'.repeat(Math.max(1, init.payload));
  }

  async connectAll(): Promise<WorkerReady> {
    const { clients: n, pairStart, pairEnd } = this.init;
    const half = n / 2;
    const prefix = this.init.userPrefix ?? 'u';
    this.clients.push(...makePairs(pairStart, pairEnd, half, (i) => new Client(i, `${prefix}${i}`)));
    for (const c of this.clients) this.byIndex.set(c.index, c);
    this.stats.clients = this.clients.length;
    const t0 = performance.now();
    const failures = await connectPool(this.clients, this.init.connectConcurrency, async (c) => {
      const url = c.index >= half ? (this.init.partnerUrl ?? this.init.url) : this.init.url;
      c.socket = await this.connectOne(c, url);
    });
    return {
      type: 'ready',
      connected: this.clients.filter((c) => c.socket !== null).length,
      connectFailures: failures,
      connectMs: performance.now() - t0,
    };
  }

  private connectOne(c: Client, url: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = io(url, {
        transports: ['websocket'],
        auth: { user: c.userId },
        reconnection: false,
        forceNew: true,
        timeout: 10_000,
      });
      socket.once('connect', () => {
        socket.off('connect_error');
        socket.on('m', (m: SioDeliver) => this.onDeliver(c, m));
        socket.on('disconnect', (reason: string) => {
          this.tally.closed(reason);
          c.socket = null;
        });
        resolve(socket);
      });
      socket.once('connect_error', (err: Error) => {
        socket.close();
        reject(err);
      });
    });
  }

  /** Warm-up + measured window + grace, paced open loop; resolves with the stats. */
  async run(start: WorkerStart): Promise<WorkerStats> {
    const stats = this.stats;
    if (start.rate <= 0) throw new Error('the Socket.IO generator runs open loop only (--rate > 0)');
    const report = await pace({
      rate: start.rate,
      warmupMs: start.warmupMs,
      durationMs: start.durationMs,
      senders: this.clients.filter((c) => c.socket !== null),
      send: (c) => this.sendOne(c),
      onMeasure: () => {
        this.epoch = 1;
        this.tally.measuring = true;
        for (const c of this.clients) c.firstMeasuredSeq = c.nextSeq;
      },
    });
    this.tally.measuring = false;
    Object.assign(stats, report);
    await grace(start.graceMs, () => stats.delivered >= stats.sent && stats.acked >= stats.sent);
    return this.tally.finish();
  }

  closeAll(): void {
    for (const c of this.clients) c.socket?.close();
  }

  private sendOne(c: Client): void {
    const socket = c.socket;
    if (socket === null) return;
    const seq = c.nextSeq++;
    const t = performance.now();
    const epoch = this.epoch;
    const m: SioSend = { to: c.partner.userId, payload: this.payload, t, s: c.index, n: seq, e: epoch };
    socket.emit('m', m, () => this.tally.ackArrived(epoch === 1, t, performance.now()));
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
