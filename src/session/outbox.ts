/**
 * The sending half of a session: every frame a session sends goes through `sendBytes`, which writes
 * straight to the transport while it keeps up and otherwise uses a lazily created OutboundQueue.
 * Also the per-connection frame and byte counters, both directions.
 */
import type { Envelope } from '../bus/bus.js';
import type { FrameInit } from '../protocol/codec.js';
import type { EncodedDeliver } from '../routing/encoded-deliver.js';
import type { Connection } from '../transport/transport.js';
import {
  OutboundQueue,
  PRIORITY_CONTROL,
  PRIORITY_EPHEMERAL,
  PRIORITY_NORMAL,
  PRIORITY_RELIABLE,
  type Priority,
  type QueueSink,
} from './outbound-queue.js';
import { encodeFor, type SessionContext } from './session-context.js';
import { TRANSPORT_INDEX } from './session-telemetry.js';

/** Told when shedding could not bring the queue under its cap: the session must end with 4003. */
export interface OutboxOwner {
  onSlowConsumer(): void;
}

/** Writes frames for one connection, queueing by priority when its transport is backed up. */
export class Outbox implements QueueSink {
  readonly conn: Connection;
  private readonly ctx: SessionContext;
  private readonly owner: OutboxOwner;
  private readonly transportIndex: number;
  /** Set once the session closes: nothing more is sent but the final Disconnect (`writeFinal`). */
  private closed = false;
  /** Exists only while frames wait; most connections never have one. */
  private outq: OutboundQueue | null = null;

  constructor(conn: Connection, ctx: SessionContext, owner: OutboxOwner) {
    this.conn = conn;
    this.ctx = ctx;
    this.owner = owner;
    this.transportIndex = TRANSPORT_INDEX[conn.kind];
  }

  /** Bytes and frames waiting in this session's queue (not counting the transport's own buffer). */
  get queuedBytes(): number {
    return this.outq?.queuedBytes ?? 0;
  }

  get queuedFrames(): number {
    return this.outq?.queuedFrames ?? 0;
  }

  /** True when nothing waits here or in the transport (drain uses it). */
  get idle(): boolean {
    return this.outq === null && this.conn.bufferedAmount() === 0;
  }

  /** Encodes and sends a frame (control priority unless told otherwise). No-op once closed. */
  sendFrame(frame: FrameInit, priority: Priority = PRIORITY_CONTROL): void {
    if (this.closed) return;
    this.sendBytes(encodeFor(frame, this.conn.framing), priority, 0);
  }

  /**
   * Sends already-framed bytes. `stampMs` (0 = none) is the message's accept time, for the delivery
   * latency histogram. The fast path (transport below its high-water mark, nothing queued) is one
   * bufferedAmount() check and one write.
   */
  sendBytes(bytes: Uint8Array, priority: Priority, stampMs: number): void {
    if (this.closed) return;
    let q = this.outq;
    if (q === null) {
      if (this.conn.bufferedAmount() < this.ctx.settings.queue.highWaterMark) {
        this.handOff(bytes, priority, stampMs);
        return;
      }
      q = this.outq = new OutboundQueue(this.ctx.settings.queue);
    }
    if (!q.push(bytes, priority, stampMs, this.conn.bufferedAmount())) this.owner.onSlowConsumer();
  }

  /** A QoS-1 Deliver (user message or topic publication), counted as delivered. */
  sendReliable(bytes: Uint8Array, stampMs: number): void {
    this.ctx.telemetry.traffic.delivered[1]!++;
    this.sendBytes(bytes, PRIORITY_RELIABLE, stampMs);
  }

  /**
   * A QoS-0 Deliver. Ephemeral frames (typing and the like) may travel as WebTransport datagrams:
   * unreliable is fine for them; the rest, and datagrams too large or refused, take the stream.
   */
  sendTransient(env: Envelope, encoded: EncodedDeliver): void {
    this.ctx.telemetry.traffic.delivered[0]!++;
    const conn = this.conn;
    if (env.ephemeral && conn.supportsDatagrams && !this.closed) {
      const bytes = encoded.bytesFor('message');
      if (bytes.length <= conn.maxDatagramBytes && conn.writeDatagram(bytes)) {
        this.countOut(bytes.length);
        return;
      }
    }
    const priority = env.ephemeral ? PRIORITY_EPHEMERAL : PRIORITY_NORMAL;
    this.sendBytes(encoded.bytesFor(conn.framing), priority, env.timestampMs);
  }

  /** QueueSink: writes one frame to the transport now and counts it. */
  handOff(bytes: Uint8Array, priority: Priority, stampMs: number): void {
    this.conn.write(bytes);
    this.countOut(bytes.length);
    const t = this.ctx.telemetry;
    if (stampMs > 0 && t.sampleLatency()) {
      const seconds = Math.max(0, this.ctx.now() - stampMs) / 1000;
      t.latency[priority === PRIORITY_RELIABLE ? 1 : 0].observe(seconds);
    }
  }

  /** Pushes queued frames while the transport has room; drops the queue once it is empty. */
  flush(): void {
    const q = this.outq;
    if (q !== null && !this.closed && q.flush(this)) this.outq = null;
  }

  /**
   * Closes the outbox and throws the queue away (a Disconnect must not wait behind it). QoS-1 frames
   * in it stay in the store; lost QoS-0/ephemeral ones are counted as dropped. Idempotent.
   */
  close(): void {
    this.closed = true;
    const q = this.outq;
    if (q === null) return;
    this.outq = null;
    const lost = q.clear();
    if (lost > 0) this.ctx.telemetry.metrics.messagesDropped.inc({ reason: 'closed' }, lost);
  }

  /** Writes the session's last frame (its Disconnect) after `close`, past any queue. */
  writeFinal(frame: FrameInit): void {
    const bytes = encodeFor(frame, this.conn.framing);
    this.conn.write(bytes);
    this.countOut(bytes.length);
  }

  /** Counts one frame handed to the transport. */
  private countOut(bytes: number): void {
    const t = this.ctx.telemetry.traffic;
    t.framesOut[this.transportIndex]!++;
    t.bytesOut[this.transportIndex]! += bytes;
  }

  /** Counts one frame received. */
  countIn(bytes: number): void {
    const t = this.ctx.telemetry.traffic;
    t.framesIn[this.transportIndex]!++;
    t.bytesIn[this.transportIndex]! += bytes;
  }
}
