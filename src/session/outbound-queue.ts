/**
 * The per-connection priority queue in front of `Connection.write` (docs/architecture.md, "Outbound
 * queue and slow consumers"). A session only creates one when its transport is backed up: while the
 * transport buffer is under the high-water mark and nothing waits, frames go straight through and no
 * queue exists (most connections never allocate one).
 */
import type { Gauge } from 'prom-client';
import type { Connection } from '../transport/transport.js';

/** Priorities, highest first. Lower numbers are flushed first and never shed. */
export const PRIORITY_CONTROL = 0;
export const PRIORITY_RELIABLE = 1;
export const PRIORITY_NORMAL = 2;
export const PRIORITY_EPHEMERAL = 3;
export type Priority = 0 | 1 | 2 | 3;

/** Where a queue hands frames when the transport has room: the owning session. */
export interface QueueSink {
  readonly conn: Connection;
  /** Writes one frame to the transport now; `stampMs` (0 = none) is the message's accept time. */
  handOff(bytes: Uint8Array, priority: Priority, stampMs: number): void;
}

/** Settings and gauges shared by every queue of one gateway (one object, not one per queue). */
export interface QueueSettings {
  /** Frames go straight to the transport while its buffered amount is below this. */
  highWaterMark: number;
  /** Cap on queued + transport-buffered bytes (limits.outboundQueueBytes). */
  capBytes: number;
  /**
   * Whether QoS-0 frames may be shed after ephemeral ones. docs/architecture.md says no (a client
   * that cannot keep up with QoS 0 is told so with 4003), so the default is false.
   */
  shedQos0: boolean;
  queueBytes: Gauge;
  queueFrames: Gauge;
  /** Called with the number of frames shed, per priority (PRIORITY_NORMAL or PRIORITY_EPHEMERAL). */
  onShed(priority: Priority, frames: number): void;
}

interface Entry {
  bytes: Uint8Array;
  stampMs: number;
}

/** A FIFO of one priority: array plus head index, compacted when half of it is dead. */
class Lane {
  items: (Entry | undefined)[] = [];
  head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(e: Entry): void {
    this.items.push(e);
  }

  shift(): Entry {
    const e = this.items[this.head]!;
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }
}

/**
 * Frames waiting for a backed-up transport, by priority (0 control, 1 QoS-1 deliver, 2 QoS-0 deliver,
 * 3 ephemeral). FIFO within a priority; strict priority across them.
 */
export class OutboundQueue {
  private readonly settings: QueueSettings;
  private readonly lanes: (Lane | undefined)[] = [undefined, undefined, undefined, undefined];
  private bytes = 0;
  private frames = 0;

  constructor(settings: QueueSettings) {
    this.settings = settings;
  }

  /** Bytes waiting here (not counting what the transport holds). */
  get queuedBytes(): number {
    return this.bytes;
  }

  get queuedFrames(): number {
    return this.frames;
  }

  get isEmpty(): boolean {
    return this.frames === 0;
  }

  /**
   * Queues one frame. When queued + `transportBuffered` bytes then exceed the cap, sheds the oldest
   * ephemeral frames (then QoS-0 ones when `shedQos0`), possibly including this one. Returns false when
   * shedding was not enough: the caller must disconnect with 4003 SLOW_CONSUMER.
   */
  push(bytes: Uint8Array, priority: Priority, stampMs: number, transportBuffered: number): boolean {
    (this.lanes[priority] ??= new Lane()).push({ bytes, stampMs });
    this.account(1, bytes.length);
    let over = this.bytes + transportBuffered - this.settings.capBytes;
    if (over <= 0) return true;
    over = this.shed(PRIORITY_EPHEMERAL, over);
    if (over > 0 && this.settings.shedQos0) over = this.shed(PRIORITY_NORMAL, over);
    return over <= 0;
  }

  /**
   * Writes queued frames, highest priority first, while the transport buffer stays under the
   * high-water mark. Returns true when the queue is empty afterwards.
   */
  flush(sink: QueueSink): boolean {
    const hwm = this.settings.highWaterMark;
    for (let p = 0; p < 4; p++) {
      const lane = this.lanes[p];
      if (lane === undefined) continue;
      while (lane.length > 0) {
        if (sink.conn.bufferedAmount() >= hwm) return false;
        const e = lane.shift();
        this.account(-1, -e.bytes.length);
        sink.handOff(e.bytes, p as Priority, e.stampMs);
      }
    }
    return true;
  }

  /**
   * Empties the queue (the session is closing) and returns how many QoS-0/ephemeral frames were in it,
   * for the dropped-messages metric. Releases this queue's share of the gauges.
   */
  clear(): number {
    const lost = (this.lanes[PRIORITY_NORMAL]?.length ?? 0) + (this.lanes[PRIORITY_EPHEMERAL]?.length ?? 0);
    this.account(-this.frames, -this.bytes);
    this.lanes.fill(undefined);
    return lost;
  }

  /** Drops the oldest frames of one priority until `over` bytes are freed; returns what is still over. */
  private shed(priority: Priority, over: number): number {
    const lane = this.lanes[priority];
    if (lane === undefined) return over;
    let n = 0;
    let freed = 0;
    while (over - freed > 0 && lane.length > 0) {
      freed += lane.shift().bytes.length;
      n++;
    }
    if (n > 0) {
      this.account(-n, -freed);
      this.settings.onShed(priority, n);
    }
    return over - freed;
  }

  /** Keeps the local totals and the process-wide gauges in step, by deltas. */
  private account(frames: number, bytes: number): void {
    this.frames += frames;
    this.bytes += bytes;
    this.settings.queueFrames.inc(frames);
    this.settings.queueBytes.inc(bytes);
  }
}
