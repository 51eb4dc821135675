/**
 * A session's QoS-1 user messages (docs/architecture.md, "Delivery and QoS"):
 *  - they go out strictly in seq order with at most `session.maxInflight` unacked. A live message
 *    that is not the next seq, or arrives while the window is full or a pull runs, starts a pull of
 *    the missing range from the store (one pull at a time, re-checked after every batch), so live
 *    pushes are only the fast path and nothing is skipped or reordered;
 *  - acks move the device's cursor in the store: the first ack after a quiet second is written at
 *    once, later ones at most once per CURSOR_WRITE_INTERVAL_MS (by the next ack, or by the sweep
 *    once none came for two intervals), one write in flight at a time, and whatever is owed when the
 *    session closes is written at once.
 * Created when the session authenticates; `close` when it ends.
 */
import type { Envelope } from '../bus/bus.js';
import type { EncodedDeliver } from '../routing/encoded-deliver.js';
import type { Outbox } from './outbox.js';
import { encodeFor, type SessionContext } from './session-context.js';

/** Most messages read from the store per pull or replay batch. */
export const PULL_BATCH = 128;
/**
 * Least time between the starts of two cursor writes of one session. With Redis each write is one
 * script call, and a client acks every delivery: writing each ack cost one call per message. The
 * stored cursor only matters on (re)connect, and a client that sends `last_seq` does not depend on
 * it, so it may lag: after a crash, a device may get again what it acked since the last write
 * (QoS 1 is at least once; clients drop seqs they have).
 */
export const CURSOR_WRITE_INTERVAL_MS = 1000;

/** QoS-1 ordering, the unacked window and the ack cursor of one authenticated session. */
export class UserDelivery {
  private readonly ctx: SessionContext;
  private readonly out: Outbox;
  private readonly userId: string;
  private readonly deviceId: string;
  /** Set when the session ends: pulls stop, and whatever cursor is owed is written at once. */
  private closed = false;
  /** Highest user seq handed to the output (or acknowledged by the client on resume). */
  private lastSentSeq = 0;
  /** Highest user seq the client acknowledged (cumulative), never above lastSentSeq. */
  private ackedSeq = 0;
  /**
   * Seqs sent and not yet acknowledged, oldest first, from `unackedHead` on (a queue that is not
   * shifted per ack). The window counts these messages, not `lastSentSeq - ackedSeq`: seqs jump
   * (retention, a new log's clock floor, the floor after Redis lost data) and a jump is not traffic.
   */
  private unacked: number[] = [];
  private unackedHead = 0;
  /** Highest seq written to the store's cursor for this device. */
  private storedAckSeq = 0;
  private cursorWriting = false;
  /** When the last cursor write started (the interval counts from there), per `ctx.now`. */
  private cursorWriteMs = Number.NEGATIVE_INFINITY;
  private pulling = false;
  /** Something may be in the store that was not sent: pull when the window allows. */
  private needPull = false;

  constructor(ctx: SessionContext, out: Outbox, userId: string, deviceId: string) {
    this.ctx = ctx;
    this.out = out;
    this.userId = userId;
    this.deviceId = deviceId;
  }

  /** The highest QoS-1 user seq handed to the output. */
  get sentSeq(): number {
    return this.lastSentSeq;
  }

  /** QoS-1 user deliveries sent and not yet acknowledged. */
  get inflight(): number {
    return this.unacked.length - this.unackedHead;
  }

  /** Starts at `seq` (everything up to it counts as delivered and acked) and pulls what follows. */
  resumeFrom(seq: number, storedCursor: number): void {
    this.lastSentSeq = this.ackedSeq = seq;
    this.unacked = [];
    this.unackedHead = 0;
    this.storedAckSeq = storedCursor;
    // A client-supplied last_seq past the stored cursor is an ack: record it.
    this.flushCursor(this.ctx.now());
    this.requestPull();
  }

  /** A live QoS-1 user message from the router. */
  deliver(env: Envelope, encoded: EncodedDeliver): void {
    const seq = env.seq;
    if (seq <= this.lastSentSeq) return; // already sent: a re-published duplicate, or pulled first
    if (!this.pulling && seq === this.lastSentSeq + 1 && this.inflight < this.ctx.settings.maxInflight) {
      this.lastSentSeq = seq;
      this.unacked.push(seq);
      this.out.sendReliable(encoded.bytesFor(this.out.conn.framing), env.timestampMs);
      return;
    }
    this.requestPull();
  }

  /** The client acknowledged every user delivery up to `seq`. */
  onAck(seq: number): void {
    // Acks past what this session sent acknowledge nothing it knows of; never let them skip messages.
    const upTo = Math.min(seq, this.lastSentSeq);
    if (upTo <= this.ackedSeq) return;
    this.ackedSeq = upTo;
    const unacked = this.unacked;
    let head = this.unackedHead;
    while (head < unacked.length && unacked[head]! <= upTo) head++;
    if (head === unacked.length) {
      unacked.length = 0;
      head = 0;
    } else if (head >= 64 && head * 2 >= unacked.length) {
      // Keep the array from growing while a client acks less than it is sent.
      this.unacked = unacked.slice(head);
      head = 0;
    }
    this.unackedHead = head;
    this.flushCursor(this.ctx.now());
    if (this.needPull && !this.pulling) void this.pull();
  }

  /** The sweep: retries a pull that failed or waited for room, and cursor writes held back or failed. */
  tick(now: number): void {
    if (this.needPull && !this.pulling && this.inflight < this.ctx.settings.maxInflight) void this.pull();
    // See flushCursor for why twice the interval.
    this.flushCursor(now, 2 * CURSOR_WRITE_INTERVAL_MS);
  }

  /** The session ended: no more pulls; the cursor owed is written now. Idempotent. */
  close(): void {
    this.closed = true;
    this.flushCursor(this.ctx.now());
  }

  /**
   * Starts a cursor write if one is owed and none is in flight: at once when the session is closing
   * (no sweep will come back for it), otherwise once `minGapMs` have passed since the last write
   * started. Acks and close use CURSOR_WRITE_INTERVAL_MS. The sweep (which also retries failed
   * writes) passes twice that: every session of a node is swept in the same turn, so with one
   * interval a cursor the sweep wrote would be due again at the next sweep, and all sessions would
   * end up writing together, a burst of one script per session each second that appends queue
   * behind in Redis. Ack-triggered writes stay spread over the second like the acks themselves.
   */
  private flushCursor(now: number, minGapMs = CURSOR_WRITE_INTERVAL_MS): void {
    if (!this.cursorWriting && this.cursorDue(now, minGapMs)) this.ctx.trackCursorWrite(this.writeCursor());
  }

  private cursorDue(now: number, interval: number): boolean {
    if (this.storedAckSeq >= this.ackedSeq) return false;
    return this.closed || now - this.cursorWriteMs >= interval;
  }

  private requestPull(): void {
    this.needPull = true;
    if (!this.pulling) void this.pull();
  }

  /**
   * Reads missing QoS-1 user messages from the store and sends them in order, batch by batch, while
   * the window has room. Only one runs per session (`pulling`); live messages arriving meanwhile set
   * `needPull`, so the loop reads again instead of racing them. Replayed messages carry no latency
   * stamp: their age says how long the client was away, not how fast the gateway is.
   */
  private async pull(): Promise<void> {
    this.pulling = true;
    const framing = this.out.conn.framing;
    try {
      while (this.needPull && !this.closed) {
        const room = this.ctx.settings.maxInflight - this.inflight;
        if (room <= 0) return; // needPull stays set: the next ack resumes
        this.needPull = false;
        const limit = Math.min(room, PULL_BATCH);
        const batch = await this.ctx.deps.store.readUser(this.userId, this.lastSentSeq, limit);
        if (this.closed) return;
        for (const env of batch) {
          // Retention may have dropped some seqs: they are gone, so a jump forward is accepted.
          if (env.seq <= this.lastSentSeq) continue;
          this.lastSentSeq = env.seq;
          this.unacked.push(env.seq);
          this.out.sendReliable(encodeFor({ deliver: env }, framing), 0);
        }
        if (batch.length === limit) this.needPull = true; // there may be more
      }
    } catch (err) {
      this.needPull = true; // the sweep retries
      const log = this.ctx.telemetry.log;
      log.warn({ err, userId: this.userId }, 'reading pending messages from the store failed');
    } finally {
      this.pulling = false;
    }
  }

  /**
   * Writes the acked position to the store, one write at a time; acks arriving meanwhile are folded
   * into the next write, which follows at once only if it is due by then (the session closed, or a
   * slow write took the whole interval). Runs to completion even after the session closes: the cursor
   * must persist (drain and shutdown wait for it through `ctx.trackCursorWrite`). Never rejects.
   */
  private async writeCursor(): Promise<void> {
    this.cursorWriting = true;
    try {
      do {
        const seq = this.ackedSeq;
        this.cursorWriteMs = this.ctx.now();
        await this.ctx.deps.store.ackUser(this.userId, this.deviceId, seq);
        this.storedAckSeq = seq;
      } while (this.cursorDue(this.ctx.now(), CURSOR_WRITE_INTERVAL_MS));
    } catch (err) {
      // Not fatal: the sweep retries while the session is open; at worst the device gets some
      // messages again (at least once).
      this.ctx.telemetry.log.warn({ err, userId: this.userId }, 'writing the ack cursor failed');
    } finally {
      this.cursorWriting = false;
    }
  }
}
