/**
 * One load-generator process (forked by bench/loadgen.ts). It owns whole pairs of clients, so the
 * sender and the receiver of every message share one clock: latency is performance.now() at delivery
 * minus the performance.now() the sender wrote into the payload.
 *
 * Workload: pair p = (client p, client p + N/2). Both clients of a pair send to each other
 * (bidirectional 1:1 chat), each message a Send to the partner user, QoS 0 or 1.
 *
 * Payload layout (little endian): [0,8) float64 send time, [8,12) sender index, [12,16) per-sender
 * message number, [16] epoch (0 = warm-up, 1 = measured), then filler up to the payload size.
 *
 * Pacing: `rate` > 0 is open loop (a 2 ms tick sends what is due, round-robin over the clients);
 * `rate` = 0 is closed loop: each sender keeps `window` messages in flight (sent, not yet delivered),
 * which measures the maximum sustained rate.
 */
import { performance } from 'node:perf_hooks';
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
import { AuthError, WireConn, authenticate } from './wire-conn.js';

/** What the coordinator sends to set a worker up. */
export interface WorkerInit {
  type: 'init';
  url: string;
  target: TargetKind;
  secret: string;
  /** Total clients over all workers (even). */
  clients: number;
  /**
   * Where the second client of each pair (p + clients/2) connects; default `url`. Another node's URL
   * makes every message cross nodes (bench/cluster.ts).
   */
  partnerUrl?: string;
  /** User ids are `${userPrefix}${index}` (default `u`): a fresh prefix per run keeps runs apart. */
  userPrefix?: string;
  /** This worker's pairs: [pairStart, pairEnd), pair p = clients p and p + clients/2. */
  pairStart: number;
  pairEnd: number;
  payload: number;
  qos: 0 | 1;
  window: number;
  /** QoS 1: the receiver acks after this many deliveries, or after `ackIntervalMs`, whichever first. */
  ackEvery: number;
  ackIntervalMs: number;
  /** Source addresses to spread the connections over (empty = the kernel's choice). */
  localAddresses: string[];
  connectConcurrency: number;
  runTag: string;
}

export interface WorkerStart {
  type: 'start';
  /** This worker's share of the aggregate rate, msg/s; 0 = closed loop (max rate). */
  rate: number;
  warmupMs: number;
  durationMs: number;
  graceMs: number;
}

export interface WorkerReady {
  type: 'ready';
  connected: number;
  connectFailures: Record<string, number>;
  connectMs: number;
}

export interface WorkerStats {
  type: 'done';
  clients: number;
  /** Measured-epoch messages sent, delivered (unique, by the end of the grace period). */
  sent: number;
  delivered: number;
  /** Deliveries of any epoch that arrived inside the measured window. */
  deliveredInWindow: number;
  sentWarmup: number;
  /** Sequence gaps seen by receivers (QoS 0 loss as it happens) and duplicates/out-of-order. */
  gaps: number;
  duplicates: number;
  /** SendAcks for measured-epoch messages, and all SendAcks. */
  acked: number;
  ackedTotal: number;
  /** Sends skipped because the client's socket had more than 4 MiB unsent. */
  skippedBackpressure: number;
  /** Closed-loop senders restarted after 2 s without a delivery (lost tail messages). */
  stalls: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  latency: HistogramJson;
  ackLatency: HistogramJson;
  /** CPU seconds of this process during the measured window, and the window's wall seconds. */
  cpuSeconds: number;
  windowSeconds: number;
  /** How far the open-loop pacer fell behind its schedule at the end (messages). */
  pacerBacklog: number;
}

const BACKPRESSURE_BYTES = 4 * 1024 * 1024;
/** Per-client ring of send times, for SendAck latency (entries older than this many sends are lost). */
const RING = 1024;
const STALL_MS = 2000;
const MIN_PAYLOAD = 17;

class Client {
  conn: WireConn | null = null;
  partner!: Client;
  encoder!: SendEncoder;
  nextSeq = 0;
  /** Closed loop: messages in flight towards the partner. */
  inflight = 0;
  lastProgress = 0;
  /** Receiver side: next message number expected from the partner. */
  expected = 0;
  /** QoS 1: highest Deliver seq seen and the last one acked. */
  deliverSeq = 0;
  ackedSeq = 0;
  lastAckAt = 0;
  /** First message number sent in the measured epoch. */
  firstMeasuredSeq = Number.MAX_SAFE_INTEGER;
  readonly sendTimes = new Float64Array(RING);
  readonly sendSeqs = new Int32Array(RING).fill(-1);

  constructor(
    readonly index: number,
    readonly userId: string,
  ) {}
}

class Worker {
  private readonly clients: Client[] = [];
  private readonly byIndex = new Map<number, Client>();
  private readonly reader = new FieldReader();
  private readonly view: FrameView = { id: 0, body: 0, start: 0, end: 0 };
  private readonly latency = new Histogram();
  private readonly ackLatency = new Histogram();
  private readonly stats: WorkerStats;
  private sending = false;
  private epoch = 0;
  private measuring = false;
  private closedLoop = false;

  constructor(private readonly init: WorkerInit) {
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
    const { clients: n, pairStart, pairEnd, payload, qos } = this.init;
    const half = n / 2;
    const prefix = this.init.userPrefix ?? 'u';
    for (let p = pairStart; p < pairEnd; p++) {
      const a = new Client(p, `${prefix}${p}`);
      const b = new Client(p + half, `${prefix}${p + half}`);
      a.partner = b;
      b.partner = a;
      this.clients.push(a, b);
    }
    const prefixed = this.init.url.startsWith('tcp://');
    for (const c of this.clients) {
      c.encoder = new SendEncoder(c.partner.userId, Math.max(MIN_PAYLOAD, payload), qos, prefixed);
      this.byIndex.set(c.index, c);
    }
    this.stats.clients = this.clients.length;
    const failures: Record<string, number> = {};
    const t0 = performance.now();
    let next = 0;
    const addrs = this.init.localAddresses;
    const one = async (): Promise<void> => {
      while (next < this.clients.length) {
        const c = this.clients[next++]!;
        try {
          const localAddress = addrs.length > 0 ? addrs[c.index % addrs.length] : undefined;
          const url = c.index >= half ? (this.init.partnerUrl ?? this.init.url) : this.init.url;
          const conn = await WireConn.connect(url, localAddress ? { localAddress } : {});
          await authenticate(conn, await tokenFor(this.init.target, c.userId, this.init.secret));
          c.conn = conn;
          conn.setFrameHandler((buf, s, e) => this.clientOnFrame(c, buf, s, e));
          conn.onClose = (code) => this.clientOnClose(c, code);
        } catch (err) {
          const key = err instanceof AuthError ? `auth ${err.message}` : (err as Error).message;
          failures[key] = (failures[key] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.init.connectConcurrency) }, one));
    return {
      type: 'ready',
      connected: this.clients.filter((c) => c.conn !== null).length,
      connectFailures: failures,
      connectMs: performance.now() - t0,
    };
  }

  /** Runs warm-up + measured window + grace; resolves with the stats. */
  async run(start: WorkerStart): Promise<WorkerStats> {
    const stats = this.stats;
    this.closedLoop = start.rate <= 0;
    this.sending = true;
    const t0 = performance.now();
    const sendEnd = t0 + start.warmupMs + start.durationMs;
    let cpu0 = process.cpuUsage();
    let measureStart = t0;
    let measureEnd = sendEnd;
    const beginMeasure = (): void => {
      this.epoch = 1;
      this.measuring = true;
      cpu0 = process.cpuUsage();
      measureStart = performance.now();
      for (const c of this.clients) c.firstMeasuredSeq = c.nextSeq;
    };
    if (start.warmupMs <= 0) beginMeasure();
    for (const c of this.clients) c.lastProgress = t0;
    if (this.closedLoop) for (const c of this.clients) this.pump(c);

    const live = this.clients.filter((c) => c.conn !== null);
    let rr = 0;
    let paced = 0;
    let lastHousekeeping = t0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        if (!this.measuring && now >= t0 + start.warmupMs) beginMeasure();
        if (now >= sendEnd) {
          this.sending = false;
          this.measuring = false;
          measureEnd = now;
          const cpu = process.cpuUsage(cpu0);
          stats.cpuSeconds = (cpu.user + cpu.system) / 1e6;
          stats.windowSeconds = (measureEnd - measureStart) / 1000;
          if (!this.closedLoop)
            stats.pacerBacklog = Math.max(0, Math.floor((start.rate * (now - t0)) / 1000) - paced);
          resolve();
          return;
        }
        if (!this.closedLoop && live.length > 0) {
          const due = Math.floor((start.rate * (now - t0)) / 1000) - paced;
          // Never burst more than 100 ms worth after a stall of the event loop.
          const n = Math.min(due, Math.ceil(start.rate / 10));
          for (let i = 0; i < n; i++) {
            const c = live[rr++ % live.length]!;
            this.sendOne(c);
          }
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
    // Grace: nothing more is sent; late deliveries still count (loss = sent - delivered after this).
    const graceEnd = performance.now() + start.graceMs;
    while (performance.now() < graceEnd) {
      this.housekeeping(performance.now());
      if (stats.delivered >= stats.sent && (this.init.qos === 0 || stats.acked >= stats.sent)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.housekeeping(performance.now(), true);
    stats.latency = this.latency.toJSON();
    stats.ackLatency = this.ackLatency.toJSON();
    return stats;
  }

  closeAll(): void {
    for (const c of this.clients) c.conn?.close();
  }

  private sendOne(c: Client): void {
    const conn = c.conn;
    if (conn === null || conn.closed) return;
    if (conn.buffered() > BACKPRESSURE_BYTES) {
      this.stats.skippedBackpressure++;
      return;
    }
    const seq = c.nextSeq++;
    const qos1 = this.init.qos === 1;
    const [buf, p] = c.encoder.encode((seq % 0xffff_fffe) + 1, qos1 ? `${this.init.runTag}-${seq}` : '');
    const payloadLength = Math.max(MIN_PAYLOAD, this.init.payload);
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
    if (this.epoch === 1) this.stats.sent++;
    else this.stats.sentWarmup++;
  }

  /** Closed loop: top the sender's window up. */
  private pump(c: Client): void {
    const w = this.init.window;
    while (this.sending && c.inflight < w && c.conn !== null && !c.conn.closed) {
      const before = c.nextSeq;
      this.sendOne(c);
      if (c.nextSeq === before) break; // back-pressured
    }
  }

  /** Flushes QoS-1 acks that waited `ackIntervalMs` (all with `flush`), restarts stalled senders. */
  private housekeeping(now: number, flush = false): void {
    for (const c of this.clients) {
      const conn = c.conn;
      if (conn === null || conn.closed) continue;
      if (c.deliverSeq > c.ackedSeq && (flush || now - c.lastAckAt >= this.init.ackIntervalMs)) {
        c.ackedSeq = c.deliverSeq;
        c.lastAckAt = now;
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
    const sentAt = buf.readDoubleLE(payloadStart);
    const senderIndex = buf.readUInt32LE(payloadStart + 8);
    const msgSeq = buf.readUInt32LE(payloadStart + 12);
    const epoch = buf[payloadStart + 16];
    if (seq > receiver.deliverSeq) {
      receiver.deliverSeq = seq;
      if (seq - receiver.ackedSeq >= this.init.ackEvery && receiver.conn !== null) {
        receiver.ackedSeq = seq;
        receiver.lastAckAt = now;
        receiver.conn.send(encodeAck(seq, receiver.conn.prefixed));
      }
    }
    const sender = this.byIndex.get(senderIndex);
    if (sender === undefined || sender !== receiver.partner) return;
    if (msgSeq < receiver.expected) {
      stats.duplicates++;
      return;
    }
    if (msgSeq > receiver.expected) {
      const gap = msgSeq - receiver.expected;
      stats.gaps += gap;
      sender.inflight = Math.max(0, sender.inflight - gap);
    }
    receiver.expected = msgSeq + 1;
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

/** Entry point when forked: obeys init/start/exit messages from the coordinator. */
export function workerMain(): void {
  let worker: Worker | null = null;
  const send = (msg: unknown): void => {
    process.send?.(msg);
  };
  // A worker never outlives its coordinator.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: WorkerInit | WorkerStart | { type: 'exit' }) => {
    if (msg.type === 'init') {
      worker = new Worker(msg);
      void worker.connectAll().then(send);
    } else if (msg.type === 'start' && worker !== null) {
      void worker.run(msg).then(send);
    } else if (msg.type === 'exit') {
      worker?.closeAll();
      setTimeout(() => process.exit(0), 200);
    }
  });
}
