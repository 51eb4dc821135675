/**
 * The outbound half of a session: every frame a session sends goes through `sendBytes`, which writes
 * straight to the transport while it keeps up and otherwise uses a lazily created OutboundQueue.
 * Base class of SessionDelivery and Session (one object per connection: no per-session helper objects).
 */
import type { FrameInit } from '../protocol/codec.js';
import type { Connection } from '../transport/transport.js';
import {
  OutboundQueue,
  PRIORITY_CONTROL,
  PRIORITY_RELIABLE,
  type Priority,
  type QueueSink,
} from './outbound-queue.js';
import { TRANSPORT_INDEX, type SessionContext } from './session-context.js';

/** Session states, in order: a session only moves forward. */
export const STATE_AUTHENTICATING = 0;
export const STATE_OPEN = 1;
export const STATE_CLOSING = 2;
export const STATE_CLOSED = 3;
export type SessionState = 0 | 1 | 2 | 3;

/** Writes frames for one connection, queueing by priority when its transport is backed up. */
export abstract class SessionOutput implements QueueSink {
  readonly conn: Connection;
  readonly ctx: SessionContext;
  protected state: SessionState = STATE_AUTHENTICATING;
  private readonly transportIndex: number;
  /** Exists only while frames wait; most connections never have one. */
  private outq: OutboundQueue | null = null;

  constructor(conn: Connection, ctx: SessionContext) {
    this.conn = conn;
    this.ctx = ctx;
    this.transportIndex = TRANSPORT_INDEX[conn.kind];
  }

  /** Bytes and frames waiting in this session's queue (not counting the transport's own buffer). */
  get queuedBytes(): number {
    return this.outq?.queuedBytes ?? 0;
  }

  get queuedFrames(): number {
    return this.outq?.queuedFrames ?? 0;
  }

  /** ConnectionHandler: the transport has room again. */
  onDrain(): void {
    this.flushQueue();
  }

  /** Encodes and sends a frame (control priority unless told otherwise). No-op once closing. */
  sendFrame(frame: FrameInit, priority: Priority = PRIORITY_CONTROL): void {
    if (this.state >= STATE_CLOSING) return;
    this.sendBytes(this.ctx.encode(frame, this.conn.framing), priority, 0);
  }

  /**
   * Sends already-framed bytes. `stampMs` (0 = none) is the message's accept time, for the delivery
   * latency histogram. The fast path (transport below its high-water mark, nothing queued) is one
   * bufferedAmount() check and one write.
   */
  protected sendBytes(bytes: Uint8Array, priority: Priority, stampMs: number): void {
    let q = this.outq;
    if (q === null) {
      if (this.conn.bufferedAmount() < this.ctx.queue.highWaterMark) {
        this.handOff(bytes, priority, stampMs);
        return;
      }
      q = this.outq = new OutboundQueue(this.ctx.queue);
    }
    if (!q.push(bytes, priority, stampMs, this.conn.bufferedAmount())) this.onSlowConsumer();
  }

  /** QueueSink: writes one frame to the transport now and counts it. */
  handOff(bytes: Uint8Array, priority: Priority, stampMs: number): void {
    this.conn.write(bytes);
    this.countOut(bytes.length);
    if (stampMs > 0 && this.ctx.sampleLatency()) {
      const seconds = Math.max(0, this.ctx.now() - stampMs) / 1000;
      this.ctx.latency[priority === PRIORITY_RELIABLE ? 1 : 0].observe(seconds);
    }
  }

  /** Counts one frame handed to the transport outside `handOff` (datagrams, the final Disconnect). */
  protected countOut(bytes: number): void {
    const t = this.ctx.traffic;
    t.framesOut[this.transportIndex]!++;
    t.bytesOut[this.transportIndex]! += bytes;
  }

  /** Counts one frame received. */
  protected countIn(bytes: number): void {
    const t = this.ctx.traffic;
    t.framesIn[this.transportIndex]!++;
    t.bytesIn[this.transportIndex]! += bytes;
  }

  /** Pushes queued frames while the transport has room; drops the queue once it is empty. */
  protected flushQueue(): void {
    const q = this.outq;
    if (q !== null && this.state < STATE_CLOSING && q.flush(this)) this.outq = null;
  }

  /** True when nothing waits here or in the transport (drain uses it). */
  protected get outputIdle(): boolean {
    return this.outq === null && this.conn.bufferedAmount() === 0;
  }

  /**
   * Throws the queue away (the session is closing: a Disconnect must not wait behind it). QoS-1
   * frames in it stay in the store; lost QoS-0/ephemeral ones are counted as dropped.
   */
  protected releaseQueue(): void {
    const q = this.outq;
    if (q === null) return;
    this.outq = null;
    const lost = q.clear();
    if (lost > 0) this.ctx.metrics.messagesDropped.inc({ reason: 'closed' }, lost);
  }

  /** Shedding could not bring the queue under its cap: the session must end with 4003. */
  protected abstract onSlowConsumer(): void;
}
