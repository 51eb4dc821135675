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
import { Histogram } from './histogram.js';
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
  private readonly latency = new Histogram();
  private readonly ackLatency = new Histogram();
  private readonly stats: WorkerStats;
  private readonly payload: string;
  private epoch = 0;
  private measuring = false;

  constructor(private readonly init: WorkerInit) {
    this.payload = 'a'.repeat(Math.max(1, init.payload));
    this.stats = {
      type: 'done',
      clients: 0,
      sent: 0,
      delivered: 0,
      deliveredInWindow: 0,
      sentWarmup: 0,
      gaps: 0,
      duplicates: 0,
      acked: 0,
      ackedTotal: 0,
      skippedBackpressure: 0,
      stalls: 0,
      errors: {},
      closes: {},
      latency: this.latency.toJSON(),
      ackLatency: this.ackLatency.toJSON(),
      cpuSeconds: 0,
      windowSeconds: 0,
      pacerBacklog: 0,
    };
  }

  async connectAll(): Promise<WorkerReady> {
    const { clients: n, pairStart, pairEnd } = this.init;
    const half = n / 2;
    const prefix = this.init.userPrefix ?? 'u';
    for (let p = pairStart; p < pairEnd; p++) {
      const a = new Client(p, `${prefix}${p}`);
      const b = new Client(p + half, `${prefix}${p + half}`);
      a.partner = b;
      b.partner = a;
      this.clients.push(a, b);
      this.byIndex.set(a.index, a);
      this.byIndex.set(b.index, b);
    }
    this.stats.clients = this.clients.length;
    const failures: Record<string, number> = {};
    const t0 = performance.now();
    let next = 0;
    const one = async (): Promise<void> => {
      while (next < this.clients.length) {
        const c = this.clients[next++]!;
        const url = c.index >= half ? (this.init.partnerUrl ?? this.init.url) : this.init.url;
        try {
          c.socket = await this.connectOne(c, url);
        } catch (err) {
          const key = (err as Error).message;
          failures[key] = (failures[key] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.init.connectConcurrency) }, one));
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
          this.stats.closes[reason] = (this.stats.closes[reason] ?? 0) + 1;
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
    const t0 = performance.now();
    const sendEnd = t0 + start.warmupMs + start.durationMs;
    let cpu0 = process.cpuUsage();
    let measureStart = t0;
    const beginMeasure = (): void => {
      this.epoch = 1;
      this.measuring = true;
      cpu0 = process.cpuUsage();
      measureStart = performance.now();
      for (const c of this.clients) c.firstMeasuredSeq = c.nextSeq;
    };
    if (start.warmupMs <= 0) beginMeasure();
    const live = this.clients.filter((c) => c.socket !== null);
    let rr = 0;
    let paced = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        if (!this.measuring && now >= t0 + start.warmupMs) beginMeasure();
        if (now >= sendEnd) {
          this.measuring = false;
          const cpu = process.cpuUsage(cpu0);
          stats.cpuSeconds = (cpu.user + cpu.system) / 1e6;
          stats.windowSeconds = (now - measureStart) / 1000;
          stats.pacerBacklog = Math.max(0, Math.floor((start.rate * (now - t0)) / 1000) - paced);
          resolve();
          return;
        }
        if (live.length > 0) {
          const due = Math.floor((start.rate * (now - t0)) / 1000) - paced;
          // Never burst more than 100 ms worth after a stall of the event loop.
          const n = Math.min(due, Math.ceil(start.rate / 10));
          for (let i = 0; i < n; i++) this.sendOne(live[rr++ % live.length]!);
          if (due > 0) paced += due;
        }
        setTimeout(tick, 2);
      };
      tick();
    });
    const graceEnd = performance.now() + start.graceMs;
    while (performance.now() < graceEnd && (stats.delivered < stats.sent || stats.acked < stats.sent)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    stats.latency = this.latency.toJSON();
    stats.ackLatency = this.ackLatency.toJSON();
    return stats;
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
    socket.emit('m', m, () => {
      this.stats.ackedTotal++;
      if (epoch === 1) {
        this.stats.acked++;
        this.ackLatency.recordMs(performance.now() - t);
      }
    });
    if (epoch === 1) this.stats.sent++;
    else this.stats.sentWarmup++;
  }

  private onDeliver(receiver: Client, m: SioDeliver): void {
    const now = performance.now();
    const stats = this.stats;
    const sender = this.byIndex.get(m.s);
    if (sender === undefined || sender !== receiver.partner) return;
    if (m.n < receiver.expected) {
      stats.duplicates++;
      return;
    }
    if (m.n > receiver.expected) stats.gaps += m.n - receiver.expected;
    receiver.expected = m.n + 1;
    if (this.measuring) stats.deliveredInWindow++;
    if (m.e === 1) {
      stats.delivered++;
      this.latency.recordMs(now - m.t);
    }
  }
}

/** Entry point when forked: obeys init/start/exit messages from the coordinator. */
function workerMain(): void {
  let worker: SioWorker | null = null;
  const send = (msg: unknown): void => {
    process.send?.(msg);
  };
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: WorkerInit | WorkerStart | { type: 'exit' }) => {
    if (msg.type === 'init') {
      worker = new SioWorker(msg);
      void worker.connectAll().then(send);
    } else if (msg.type === 'start' && worker !== null) {
      worker.run(msg).then(send, (err: unknown) => {
        process.stderr.write(`socketio-worker: ${String(err)}\n`);
        process.exit(1);
      });
    } else if (msg.type === 'exit') {
      worker?.closeAll();
      setTimeout(() => process.exit(0), 200);
    }
  });
}

if (process.argv.includes('--worker')) workerMain();
