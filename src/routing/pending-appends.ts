/**
 * The node-wide bound on QoS-1 messages in flight between a client and Redis (docs/architecture.md,
 * "Backpressure"; docs/cluster.md, "Overload"). A QoS-1 message holds one slot from the start of its
 * store append until its bus publish has settled (stored and forwarded, or forwarding failed and the
 * bus retains it under its own bound): the append's command and reply, the SendAck and the forward all
 * live in the node's heap until then. With every slot taken, a new QoS-1 message is refused with 109
 * BUSY before anything is stored, so the heap holds at most `max` such messages however far the store
 * or the bus falls behind, and a sender is told when to try again instead of waiting in an unbounded
 * queue.
 */
import { ReplyCode, RequestError } from '../errors.js';

/** Least and most `retry_after_ms` advised with a 109. */
export const BUSY_RETRY_MIN_MS = 50;
export const BUSY_RETRY_MAX_MS = 2000;
/** Weight of the newest settle time in the moving average (about the last 16 messages). */
const EWMA_WEIGHT = 1 / 16;

/** What /stats shows of the bound (`overload` there). */
export interface PendingAppendsStats {
  pendingAppends: number;
  maxPendingAppends: number;
  /** Highest `pendingAppends` since the node started. */
  pendingAppendsPeak: number;
  /** QoS-1 messages refused with 109 BUSY since the node started. */
  busyRefusals: number;
  /** Moving average of the time a message held its slot, ms. */
  settleMs: number;
}

/** A counter of taken slots, with the settle-time average that sets the retry advice. */
export class PendingAppends {
  readonly max: number;
  private pending = 0;
  private peak = 0;
  /** Refusals since the node started, and since the last metrics flush. */
  private busy = 0;
  private busyUnflushed = 0;
  private avgSettleMs = 0;
  private lastSettleMs: number;
  private readonly now: () => number;

  /** `max` <= 0 or Infinity: no bound (tests and embedded uses that never overload). */
  constructor(max: number, now: () => number) {
    this.max = max > 0 ? max : Infinity;
    this.now = now;
    this.lastSettleMs = now();
  }

  get size(): number {
    return this.pending;
  }

  /**
   * Takes a slot and returns the time it was taken (pass it to `release`), or throws the 109 BUSY
   * RequestError when every slot is taken. The refusal carries `retry_after_ms`: the recent time a
   * message held its slot, or the time since any message last released one when that is longer (a
   * stalled Redis shows as a growing advice rather than a stale short one), within
   * [BUSY_RETRY_MIN_MS, BUSY_RETRY_MAX_MS].
   */
  acquire(): number {
    const now = this.now();
    if (this.pending >= this.max) {
      this.busy++;
      this.busyUnflushed++;
      throw new RequestError(ReplyCode.BUSY, 'this node has too many messages waiting to be stored', {
        retryable: true,
        retryAfterMs: this.retryAfterMs(now),
      });
    }
    // The stall clock of `retryAfterMs` starts when the first slot after an idle spell is taken.
    if (this.pending === 0) this.lastSettleMs = now;
    if (++this.pending > this.peak) this.peak = this.pending;
    return now;
  }

  /** Gives back a slot taken at `takenAtMs`. */
  release(takenAtMs: number): void {
    this.pending--;
    const now = this.now();
    this.lastSettleMs = now;
    this.avgSettleMs += (now - takenAtMs - this.avgSettleMs) * EWMA_WEIGHT;
  }

  /** The advice a refusal at `now` carries (see `acquire`). */
  retryAfterMs(now: number): number {
    const stalled = this.pending > 0 ? now - this.lastSettleMs : 0;
    const ms = Math.ceil(Math.max(this.avgSettleMs, stalled));
    return Math.min(BUSY_RETRY_MAX_MS, Math.max(BUSY_RETRY_MIN_MS, ms));
  }

  /** Refusals since the previous call (for the metrics flush). */
  takeBusy(): number {
    const n = this.busyUnflushed;
    this.busyUnflushed = 0;
    return n;
  }

  stats(): PendingAppendsStats {
    return {
      pendingAppends: this.pending,
      maxPendingAppends: Number.isFinite(this.max) ? this.max : 0,
      pendingAppendsPeak: this.peak,
      busyRefusals: this.busy,
      settleMs: Math.round(this.avgSettleMs * 10) / 10,
    };
  }
}
