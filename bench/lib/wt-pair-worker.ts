/**
 * One load-generator process of bench/webtransport.ts (forked by bench/lib/wt-loadgen.ts), for
 * WebSocket and WebTransport alike. It owns whole pairs (client p and client p + N/2 chat with each
 * other), so sender and receiver of every message share one clock: each message is a Send to the
 * partner whose payload carries the send time, and latency is send → Deliver (the layout of
 * bench/lib/loadgen-worker.ts: [0,8) send time, [8,12) sender index, [12,16) per-sender message
 * number, [16] epoch, filler).
 *
 * `rate` > 0 paces open loop (a 2 ms tick, round-robin); `rate` = 0 is closed loop with `window`
 * messages in flight per sender. With `verify` (QoS 1) every receiver also checks delivery exactly as
 * docs/protocol.md §5.4 tells a client to: a Deliver whose `seq` is not above the last one processed
 * is a duplicate and dropped; what remains must hold every SendAcked message exactly once, in order.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  BODY,
  FieldReader,
  SendEncoder,
  encodeAck,
  handleControlFrame,
  readFrame,
  type FrameView,
} from './frames.js';
import { Histogram, type HistogramJson } from './histogram.js';
import { tokenFor, type TargetKind } from './tokens.js';
import { AuthError } from './wire-conn.js';
import { authenticateConn, openConn, type BenchConn, type BenchTransport } from './wt-conn.js';

/** One pair run: transport, target, load shape and how long each stage lasts. */
export interface PairWorkload {
  kind: BenchTransport;
  url: string;
  certHashes: string[];
  /** What the clients authenticate with: Ferry's JWT, or the user id for the bare gateway ('baseline'). */
  target: TargetKind;
  secret: string;
  /** Client pairs (2 connections each). */
  pairs: number;
  /** User ids are `${userPrefix}${index}`: a fresh prefix per run keeps stored messages apart. */
  userPrefix: string;
  payload: number;
  qos: 0 | 1;
  /** Aggregate msg/s; 0 = closed loop. */
  rate: number;
  /** Closed loop: messages in flight per sender. */
  window: number;
  ackEvery: number;
  verify: boolean;
  warmupMs: number;
  durationMs: number;
  /** After the window: nothing is sent; late deliveries (and SendAcks) still count. */
  graceMs: number;
  procs: number;
  connectConcurrency: number;
}

/** Coordinator → worker: this worker's pairs of the workload. */
export interface WorkerInit {
  type: 'init';
  w: PairWorkload;
  pairStart: number;
  pairEnd: number;
  runTag: string;
}

/** Coordinator → worker: go (this worker's share of the rate). */
export interface WorkerStart {
  type: 'start';
  rate: number;
}

/** Worker → coordinator: connected and authenticated. */
export interface WorkerReady {
  type: 'ready';
  connected: number;
  connectFailures: Record<string, number>;
}

/** One worker's counts; the coordinator adds them up. */
export interface PairStats {
  clients: number;
  /** Measured-epoch messages sent / delivered (first time, after dedup). */
  sent: number;
  delivered: number;
  /** Sends and unique deliveries of every epoch (verification covers the warm-up too). */
  sentTotal: number;
  deliveredTotal: number;
  /** Deliveries of any epoch that arrived inside the measured window. */
  deliveredInWindow: number;
  /** Measured-epoch SendAcks, all SendAcks. */
  acked: number;
  ackedTotal: number;
  /** Deliveries dropped by the seq rule (redeliveries). */
  duplicates: number;
  /** Message numbers that arrived ahead of the expected one (a gap: loss or reordering). */
  gaps: number;
  /** verify: acked messages never delivered; delivered more than once after dedup; out of order. */
  missingAcked: number;
  deliveredTwice: number;
  outOfOrder: number;
  /** Sends never acknowledged by the end of the grace period (QoS 1). */
  unacked: number;
  skippedBackpressure: number;
  stalls: number;
  pacerBacklog: number;
  errors: Record<string, number>;
  /** Disconnect frames and transport closes seen during the run, by code. */
  closes: Record<string, number>;
  latency: HistogramJson;
  ackLatency: HistogramJson;
  cpuSeconds: number;
  windowSeconds: number;
}

/** Worker → coordinator: the run is over. */
export type WorkerDone = { type: 'done' } & PairStats;

const BACKPRESSURE_BYTES = 4 * 1024 * 1024;
const RING = 1024;
const STALL_MS = 2000;
/** Timestamp, sender, message number and epoch take the first 17 payload bytes. */
export const MIN_PAYLOAD = 17;

class Client {
  conn: BenchConn | null = null;
  partner!: Client;
  encoder!: SendEncoder;
  nextSeq = 0;
  inflight = 0;
  lastProgress = 0;
  expected = 0;
  deliverSeq = 0;
  ackedSeq = 0;
  firstMeasuredSeq = Number.MAX_SAFE_INTEGER;
  readonly sendTimes = new Float64Array(RING);
  readonly sendSeqs = new Int32Array(RING).fill(-1);
  /** verify: per message number of this client as sender, 1 once SendAcked. */
  readonly ackedFlags: number[] = [];
  /** verify: per message number of the partner, how often it was processed after dedup. */
  readonly processed: number[] = [];

  constructor(
    readonly index: number,
    readonly userId: string,
  ) {}
}

class PairWorker {
  private readonly clients: Client[] = [];
  private readonly byIndex = new Map<number, Client>();
  private readonly reader = new FieldReader();
  private readonly view: FrameView = { id: 0, body: 0, start: 0, end: 0 };
  private readonly latency = new Histogram();
  private readonly ackLatency = new Histogram();
  private readonly stats: PairStats;
  private sending = false;
  private epoch = 0;
  private measuring = false;
  private closedLoop = false;

  constructor(private readonly init: WorkerInit) {
    this.stats = {
      clients: 0,
      sent: 0,
      delivered: 0,
      sentTotal: 0,
      deliveredTotal: 0,
      deliveredInWindow: 0,
      acked: 0,
      ackedTotal: 0,
      duplicates: 0,
      gaps: 0,
      missingAcked: 0,
      deliveredTwice: 0,
      outOfOrder: 0,
      unacked: 0,
      skippedBackpressure: 0,
      stalls: 0,
      pacerBacklog: 0,
      errors: {},
      closes: {},
      latency: this.latency.toJSON(),
      ackLatency: this.ackLatency.toJSON(),
      cpuSeconds: 0,
      windowSeconds: 0,
    };
  }

  async connectAll(): Promise<WorkerReady> {
    const { w, pairStart, pairEnd } = this.init;
    for (let p = pairStart; p < pairEnd; p++) {
      const a = new Client(p, `${w.userPrefix}${p}`);
      const b = new Client(p + w.pairs, `${w.userPrefix}${p + w.pairs}`);
      a.partner = b;
      b.partner = a;
      this.clients.push(a, b);
    }
    for (const c of this.clients) {
      c.encoder = new SendEncoder(c.partner.userId, Math.max(MIN_PAYLOAD, w.payload), w.qos, w.kind === 'wt');
      this.byIndex.set(c.index, c);
    }
    this.stats.clients = this.clients.length;
    const failures: Record<string, number> = {};
    let next = 0;
    const one = async (): Promise<void> => {
      while (next < this.clients.length) {
        const c = this.clients[next++]!;
        try {
          const conn = await openConn(w.kind, w.url, { certHashes: w.certHashes });
          try {
            await authenticateConn(conn, await tokenFor(w.target, c.userId, w.secret));
          } catch (err) {
            conn.terminate();
            throw err;
          }
          c.conn = conn;
          conn.setFrameHandler((buf, s, e) => this.clientOnFrame(c, buf, s, e));
          conn.onClose = (code) => this.clientOnClose(c, code);
        } catch (err) {
          const key = err instanceof AuthError ? `auth ${err.message}` : (err as Error).message;
          failures[key] = (failures[key] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, w.connectConcurrency) }, one));
    return {
      type: 'ready',
      connected: this.clients.filter((c) => c.conn !== null).length,
      connectFailures: failures,
    };
  }

  /** Warm-up, measured window, grace; resolves with the stats. */
  async run(rate: number): Promise<PairStats> {
    const { w } = this.init;
    const stats = this.stats;
    this.closedLoop = rate <= 0;
    this.sending = true;
    const t0 = performance.now();
    const sendEnd = t0 + w.warmupMs + w.durationMs;
    let cpu0 = process.cpuUsage();
    let measureStart = t0;
    const beginMeasure = (): void => {
      this.epoch = 1;
      this.measuring = true;
      cpu0 = process.cpuUsage();
      measureStart = performance.now();
      for (const c of this.clients) c.firstMeasuredSeq = c.nextSeq;
    };
    if (w.warmupMs <= 0) beginMeasure();
    for (const c of this.clients) c.lastProgress = t0;
    if (this.closedLoop) for (const c of this.clients) this.pump(c);
    const live = this.clients.filter((c) => c.conn !== null);
    let rr = 0;
    let paced = 0;
    let lastHousekeeping = t0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        if (!this.measuring && now >= t0 + w.warmupMs) beginMeasure();
        if (now >= sendEnd) {
          this.sending = false;
          this.measuring = false;
          const cpu = process.cpuUsage(cpu0);
          stats.cpuSeconds = (cpu.user + cpu.system) / 1e6;
          stats.windowSeconds = (now - measureStart) / 1000;
          if (!this.closedLoop)
            stats.pacerBacklog = Math.max(0, Math.floor((rate * (now - t0)) / 1000) - paced);
          resolve();
          return;
        }
        if (!this.closedLoop && live.length > 0) {
          const due = Math.floor((rate * (now - t0)) / 1000) - paced;
          const n = Math.min(due, Math.ceil(rate / 10)); // never burst more than 100 ms worth
          for (let i = 0; i < n; i++) this.sendOne(live[rr++ % live.length]!);
          if (due > 0) paced += due;
        }
        if (now - lastHousekeeping >= 20) {
          lastHousekeeping = now;
          this.housekeeping(now);
        }
        setTimeout(tick, 2);
      };
      tick();
    });
    const graceEnd = performance.now() + w.graceMs;
    while (performance.now() < graceEnd) {
      this.housekeeping(performance.now());
      const allIn =
        stats.deliveredTotal >= stats.sentTotal && (w.qos === 0 || stats.ackedTotal >= stats.sentTotal);
      if (allIn) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.housekeeping(performance.now());
    if (w.verify) this.tally();
    if (w.qos === 1) stats.unacked = stats.sentTotal - stats.ackedTotal;
    stats.latency = this.latency.toJSON();
    stats.ackLatency = this.ackLatency.toJSON();
    return stats;
  }

  closeAll(): void {
    for (const c of this.clients) {
      if (c.conn !== null) c.conn.onClose = () => {};
      c.conn?.close();
    }
  }

  /** verify: every acked message processed exactly once. */
  private tally(): void {
    for (const sender of this.clients) {
      const processed = sender.partner.processed;
      for (let seq = 0; seq < sender.nextSeq; seq++) {
        const n = processed[seq] ?? 0;
        if (sender.ackedFlags[seq] === 1 && n === 0) this.stats.missingAcked++;
        if (n > 1) this.stats.deliveredTwice++;
      }
    }
  }

  private sendOne(c: Client): void {
    const conn = c.conn;
    if (conn === null || conn.closed) return;
    if (conn.buffered() > BACKPRESSURE_BYTES) {
      this.stats.skippedBackpressure++;
      return;
    }
    const { w } = this.init;
    const seq = c.nextSeq++;
    const [buf, p] = c.encoder.encode(
      (seq % 0xffff_fffe) + 1,
      w.qos === 1 ? `${this.init.runTag}-${seq}` : '',
    );
    const payloadLength = Math.max(MIN_PAYLOAD, w.payload);
    const now = performance.now();
    buf.writeDoubleLE(now, p);
    buf.writeUInt32LE(c.index, p + 8);
    buf.writeUInt32LE(seq, p + 12);
    buf[p + 16] = this.epoch;
    if (payloadLength > MIN_PAYLOAD) buf.fill(0x61, p + MIN_PAYLOAD, p + payloadLength);
    const slot = seq % RING;
    c.sendTimes[slot] = now;
    c.sendSeqs[slot] = seq;
    conn.send(buf);
    c.inflight++;
    this.stats.sentTotal++;
    if (this.epoch === 1) this.stats.sent++;
  }

  private pump(c: Client): void {
    const win = this.init.w.window;
    while (this.sending && c.inflight < win && c.conn !== null && !c.conn.closed) {
      const before = c.nextSeq;
      this.sendOne(c);
      if (c.nextSeq === before) break;
    }
  }

  private housekeeping(now: number): void {
    for (const c of this.clients) {
      const conn = c.conn;
      if (conn === null || conn.closed) continue;
      if (c.deliverSeq > c.ackedSeq) {
        c.ackedSeq = c.deliverSeq;
        conn.send(encodeAck(c.ackedSeq, conn.prefixed));
      }
      if (this.closedLoop && this.sending && c.inflight > 0 && now - c.lastProgress > STALL_MS) {
        this.stats.stalls++;
        c.lastProgress = now;
        c.inflight = 0;
        this.pump(c);
      }
    }
  }

  private clientOnFrame(c: Client, buf: Buffer, start: number, end: number): void {
    const view = readFrame(this.reader, buf, start, end, this.view);
    switch (view.body) {
      case BODY.deliver:
        this.onDeliver(c, buf, view);
        return;
      case BODY.sendAck: {
        const seq = view.id - 1;
        this.stats.ackedTotal++;
        if (this.init.w.verify) c.ackedFlags[seq] = 1;
        if (seq >= c.firstMeasuredSeq) {
          this.stats.acked++;
          const slot = seq % RING;
          if (c.sendSeqs[slot] === seq) this.ackLatency.recordMs(performance.now() - c.sendTimes[slot]!);
        }
        return;
      }
      default:
        handleControlFrame(this.reader, buf, view, c.conn, this.stats);
        return;
    }
  }

  private onDeliver(receiver: Client, buf: Buffer, view: FrameView): void {
    const now = performance.now();
    const stats = this.stats;
    let payloadStart = -1;
    let seq = 0;
    const r = this.reader.reset(buf, view.start, view.end);
    while (r.next()) {
      if (r.field === 6 && r.wireType === 2) payloadStart = r.lenStart;
      else if (r.field === 2 && r.wireType === 0) seq = r.value;
    }
    if (payloadStart < 0) return;
    // docs/protocol.md §5.4: a QoS-1 Deliver whose seq is not above the last processed is a duplicate.
    if (seq > 0) {
      if (seq <= receiver.deliverSeq) {
        stats.duplicates++;
        return;
      }
      receiver.deliverSeq = seq;
      if (seq - receiver.ackedSeq >= this.init.w.ackEvery && receiver.conn !== null) {
        receiver.ackedSeq = seq;
        receiver.conn.send(encodeAck(seq, receiver.conn.prefixed));
      }
    }
    const sentAt = buf.readDoubleLE(payloadStart);
    const senderIndex = buf.readUInt32LE(payloadStart + 8);
    const msgSeq = buf.readUInt32LE(payloadStart + 12);
    const epoch = buf[payloadStart + 16];
    const sender = this.byIndex.get(senderIndex);
    if (sender === undefined || sender !== receiver.partner) return;
    if (this.init.w.verify) {
      receiver.processed[msgSeq] = (receiver.processed[msgSeq] ?? 0) + 1;
      if (msgSeq !== receiver.expected) stats.outOfOrder++;
    }
    if (msgSeq < receiver.expected) {
      if (seq === 0) stats.duplicates++;
      return;
    }
    if (msgSeq > receiver.expected) {
      const gap = msgSeq - receiver.expected;
      stats.gaps += gap;
      sender.inflight = Math.max(0, sender.inflight - gap);
    }
    receiver.expected = msgSeq + 1;
    stats.deliveredTotal++;
    if (this.measuring) stats.deliveredInWindow++;
    if (epoch === 1) {
      stats.delivered++;
      this.latency.recordMs(now - sentAt);
    }
    sender.inflight--;
    sender.lastProgress = now;
    if (this.closedLoop && this.sending) this.pump(sender);
  }

  private clientOnClose(c: Client, code: number): void {
    const key = `close ${code}`;
    this.stats.closes[key] = (this.stats.closes[key] ?? 0) + 1;
    c.conn = null;
  }
}

/** Entry point of a forked worker. */
export function pairWorkerMain(): void {
  let worker: PairWorker | null = null;
  const send = (msg: unknown): void => void process.send?.(msg);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: WorkerInit | WorkerStart | { type: 'exit' }) => {
    if (msg.type === 'init') {
      worker = new PairWorker(msg);
      void worker.connectAll().then(send);
    } else if (msg.type === 'start' && worker !== null) {
      void worker.run(msg.rate).then((stats) => send({ type: 'done', ...stats }));
    } else if (msg.type === 'exit') {
      worker?.closeAll();
      setTimeout(() => process.exit(0), 300);
    }
  });
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain && process.argv.includes('--worker')) pairWorkerMain();
