/**
 * What the two load generators that speak Ferry's frames share: bench/lib/loadgen-worker.ts (WebSocket
 * and TCP; bench/loadgen.ts and the cluster bench) and wt-pair-worker.ts (WebSocket and WebTransport;
 * bench/webtransport.ts). Sending (stamp, SendAck ring, 4 MiB back-pressure skip), the closed-loop
 * window and its stall restart, QoS-1 acks, and the Deliver path live here once, so the two benches
 * put exactly the same work on the server; the subclasses connect, run the grace and add their counts.
 */
import { performance } from 'node:perf_hooks';
import {
  BODY,
  FieldReader,
  SendEncoder,
  encodeAck,
  handleControlFrame,
  readDeliver,
  readFrame,
  readRetryAfter,
  type DeliverFields,
  type FrameView,
} from './frames.js';
import { pace } from './pacer.js';
import {
  MIN_PAYLOAD,
  PairTally,
  SendRing,
  readStamp,
  stampPayload,
  type PairCounts,
  type Stamp,
} from './pair-stats.js';
import type { BenchConn } from './wt-conn.js';

const BACKPRESSURE_BYTES = 4 * 1024 * 1024;
const STALL_MS = 2000;

/** The load shape the shared code needs. */
export interface FrameLoad {
  payload: number;
  qos: 0 | 1;
  /** Closed loop: messages in flight per sender. */
  window: number;
  /** QoS 1: the receiver acks after this many deliveries, or after `ackIntervalMs`, whichever first. */
  ackEvery: number;
  ackIntervalMs: number;
  runTag: string;
  /**
   * Drop a QoS-1 Deliver whose seq is not above the last one processed, as docs/protocol.md §5.4 tells
   * a client to; without it such a redelivery is caught by the message-number check instead.
   */
  dedupBySeq: boolean;
  /**
   * Behave like the SDK after a retryable refusal (109 BUSY, 107): the refused sender sends nothing
   * until the Error's `retry_after_ms` has passed (its scheduled sends are skipped and counted in
   * `skippedRetryAfter`), instead of an open-loop generator that keeps sending whatever it is told.
   */
  honorRetryAfter?: boolean;
  /** QoS 0 only: send with request id 0, which the server answers with no SendAck (protocol §5.3). */
  noAck?: boolean;
}

export class FrameClient {
  conn: BenchConn | null = null;
  partner!: this;
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
  /** Send times, for SendAck latency. */
  readonly ring = new SendRing();
  /** honorRetryAfter: no sends before this time (performance.now()). */
  holdUntil = 0;

  constructor(
    readonly index: number,
    readonly userId: string,
  ) {}
}

export abstract class FramePairWorker<C extends FrameClient, S extends PairCounts> {
  protected readonly clients: C[] = [];
  protected readonly tally: PairTally<S>;
  protected readonly stats: S;
  private readonly byIndex = new Map<number, C>();
  private readonly reader = new FieldReader();
  private readonly view: FrameView = { id: 0, body: 0, start: 0, end: 0 };
  private readonly deliver: DeliverFields = { seq: 0, payloadStart: -1 };
  private readonly stamp: Stamp = { sentAt: 0, sender: 0, seq: 0, epoch: 0 };
  private sending = false;
  private epoch = 0;
  private closedLoop = false;

  constructor(
    private readonly load: FrameLoad,
    counts: S,
  ) {
    this.tally = new PairTally(counts);
    this.stats = counts;
  }

  /** One send counted beyond `sent` (the subclasses keep warm-up or all-epoch totals). */
  protected abstract countSend(epoch: number): void;

  /** A SendAck for `seq` of `c` (verification hook). */
  protected onSendAck(_c: C, _seq: number): void {}

  /** A Deliver from the partner, before the order check (verification hook). */
  protected onProcessed(_receiver: C, _msgSeq: number): void {}

  /** A Deliver that passed the order check. */
  protected onUnique(): void {}

  /** Takes the worker's pairs (makePairs) and gives every client its Send encoder. */
  protected addPairs(clients: C[], prefixed: boolean): void {
    const { payload, qos } = this.load;
    for (const c of clients) {
      c.encoder = new SendEncoder(c.partner.userId, Math.max(MIN_PAYLOAD, payload), qos, prefixed);
      this.byIndex.set(c.index, c);
    }
    this.clients.push(...clients);
    this.stats.clients = this.clients.length;
  }

  /** A connected, authenticated client starts receiving. */
  protected attach(c: C, conn: BenchConn): void {
    c.conn = conn;
    conn.setFrameHandler((buf, s, e) => this.clientOnFrame(c, buf, s, e));
    conn.onClose = (code) => {
      this.tally.closed(`close ${code}`);
      c.conn = null;
    };
  }

  /** Warm-up and measured window (pacer.ts); the caller runs the grace after it. */
  protected async sendWindow(rate: number, warmupMs: number, durationMs: number): Promise<void> {
    this.closedLoop = rate <= 0;
    this.sending = true;
    const report = await pace({
      rate,
      warmupMs,
      durationMs,
      senders: this.clients.filter((c) => c.conn !== null),
      send: (c) => this.sendOne(c),
      onMeasure: () => {
        this.epoch = 1;
        this.tally.measuring = true;
        for (const c of this.clients) c.firstMeasuredSeq = c.nextSeq;
      },
      onStart: (t0) => {
        for (const c of this.clients) c.lastProgress = t0;
        if (this.closedLoop) for (const c of this.clients) this.pump(c);
      },
      housekeeping: (now) => this.housekeeping(now),
    });
    this.sending = false;
    this.tally.measuring = false;
    Object.assign(this.stats, report);
  }

  /** Sends QoS-1 acks that waited `ackIntervalMs` (all with `flush`), restarts stalled senders. */
  protected housekeeping(now: number, flush = false): void {
    for (const c of this.clients) {
      const conn = c.conn;
      if (conn === null || conn.closed) continue;
      if (c.deliverSeq > c.ackedSeq && (flush || now - c.lastAckAt >= this.load.ackIntervalMs)) {
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

  private sendOne(c: C): void {
    const conn = c.conn;
    if (conn === null || conn.closed) return;
    if (conn.buffered() > BACKPRESSURE_BYTES) {
      this.stats.skippedBackpressure++;
      return;
    }
    const now = performance.now();
    if (now < c.holdUntil) {
      this.stats.skippedRetryAfter++;
      return;
    }
    const { qos, runTag, payload } = this.load;
    const seq = c.nextSeq++;
    const id = qos === 0 && this.load.noAck === true ? 0 : (seq % 0xffff_fffe) + 1;
    const [buf, p] = c.encoder.encode(id, qos === 1 ? `${runTag}-${seq}` : '');
    stampPayload(buf, p, Math.max(MIN_PAYLOAD, payload), now, c.index, seq, this.epoch);
    c.ring.record(seq, now);
    conn.send(buf);
    c.inflight++;
    if (this.epoch === 1) this.stats.sent++;
    this.countSend(this.epoch);
  }

  /** Closed loop: top the sender's window up. */
  private pump(c: C): void {
    const w = this.load.window;
    while (this.sending && c.inflight < w && c.conn !== null && !c.conn.closed) {
      const before = c.nextSeq;
      this.sendOne(c);
      if (c.nextSeq === before) break; // back-pressured
    }
  }

  private clientOnFrame(c: C, buf: Buffer, start: number, end: number): void {
    const view = readFrame(this.reader, buf, start, end, this.view);
    switch (view.body) {
      case BODY.deliver:
        this.onDeliver(c, buf, view);
        return;
      case BODY.sendAck: {
        const seq = view.id - 1;
        this.onSendAck(c, seq);
        this.tally.ackArrived(seq >= c.firstMeasuredSeq, c.ring.sentAt(seq), performance.now());
        return;
      }
      default:
        if (this.load.honorRetryAfter === true && view.body === BODY.error) {
          const after = readRetryAfter(this.reader, buf, view);
          if (after > 0) c.holdUntil = Math.max(c.holdUntil, performance.now() + after);
        }
        handleControlFrame(this.reader, buf, view, c.conn, this.stats);
        return;
    }
  }

  private onDeliver(receiver: C, buf: Buffer, view: FrameView): void {
    const now = performance.now();
    const { seq, payloadStart } = readDeliver(this.reader, buf, view, this.deliver);
    if (payloadStart < 0) return;
    if (this.load.dedupBySeq && seq > 0 && seq <= receiver.deliverSeq) {
      this.stats.duplicates++;
      return;
    }
    if (seq > receiver.deliverSeq) {
      receiver.deliverSeq = seq;
      if (seq - receiver.ackedSeq >= this.load.ackEvery && receiver.conn !== null) {
        receiver.ackedSeq = seq;
        receiver.lastAckAt = now;
        receiver.conn.send(encodeAck(seq, receiver.conn.prefixed));
      }
    }
    const stamp = readStamp(buf, payloadStart, this.stamp);
    const sender = this.byIndex.get(stamp.sender);
    if (sender === undefined || sender !== receiver.partner) return;
    this.onProcessed(receiver, stamp.seq);
    // With dedupBySeq a QoS-1 redelivery was counted above already.
    const countStale = !this.load.dedupBySeq || seq === 0;
    const gap = this.tally.arrived(receiver, stamp.seq, stamp.epoch, now - stamp.sentAt, countStale);
    if (gap < 0) return;
    this.onUnique();
    // Skipped messages will never be delivered: stop waiting for them in the closed-loop window.
    if (gap > 0) sender.inflight = Math.max(0, sender.inflight - gap);
    sender.inflight--;
    sender.lastProgress = now;
    if (this.closedLoop && this.sending) this.pump(sender);
  }
}
