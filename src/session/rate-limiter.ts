/**
 * Per-connection inbound rate limits (docs/architecture.md, "Rate limits"; docs/protocol.md §5.10):
 * two token buckets, frames/s and bytes/s, each holding up to two seconds' worth (burst 2x), refilled
 * continuously from the frame arrival times (no timer). Every frame costs: a request one frame token,
 * a Ping, Pong or Ack `controlFrameCost` of one (cheaper, never free), and its bytes in full.
 *
 * A frame that does not fit is refused (answered with 104) or held back (the session stops reading
 * until it fits); either way the connection is over its limit. Over its limit without a break of more
 * than a second, for `floodToleranceSeconds`, it is flooding and gets cut with 4006. Time spent held
 * back counts as over the limit (`heldUntil`): a connection the server has stopped reading cannot show
 * its flood by sending, so its silence must not end the streak.
 */

/** The limits, shared by every connection of a gateway. A rate <= 0 disables that bucket. */
export interface RateLimits {
  framesPerSecond: number;
  bytesPerSecond: number;
  floodToleranceSeconds: number;
  /** Frame tokens a Ping, Pong or Ack costs (0 < cost <= 1); a request costs 1. */
  controlFrameCost: number;
}

/** Verdicts of `RateLimiter.take`. */
export const RATE_OK = 0;
export const RATE_LIMITED = 1;
export const RATE_FLOOD = 2;
export type RateVerdict = typeof RATE_OK | typeof RATE_LIMITED | typeof RATE_FLOOD;

/** Bursts may use this many seconds' worth of tokens. */
const BURST_SECONDS = 2;
/** Over the limit again more than this long after the previous time starts a new streak. */
const STREAK_GAP_MS = 1000;
/** The window of the 104 reply budget. */
const REPLY_WINDOW_MS = 1000;

/** Two token buckets, a flood streak and a reply budget: a handful of numbers per connection. */
export class RateLimiter {
  /** Frames that fitted, and frames that did not (each refusal or hold), over the connection's life. */
  passed = 0;
  overLimit = 0;
  private readonly limits: RateLimits;
  private frameTokens: number;
  private byteTokens: number;
  private lastMs: number;
  /** Start and latest moment over the limit of the current streak; -1 when there is none. */
  private streakStartMs = -1;
  private lastOverMs = -1;
  /** Start of the current reply window and the 104 replies sent in it. */
  private replyWindowMs = -1;
  private replies = 0;

  constructor(limits: RateLimits, nowMs: number) {
    this.limits = limits;
    this.frameTokens = limits.framesPerSecond * BURST_SECONDS;
    this.byteTokens = limits.bytesPerSecond * BURST_SECONDS;
    this.lastMs = nowMs;
  }

  /**
   * Charges one frame of `bytes` costing `cost` frame tokens. Returns RATE_OK (charged: go ahead),
   * RATE_LIMITED (it does not fit; nothing charged: refuse or hold it) or RATE_FLOOD (over the limit
   * for the flood tolerance: disconnect).
   */
  take(bytes: number, cost: number, nowMs: number): RateVerdict {
    this.refill(nowMs);
    const fps = this.limits.framesPerSecond;
    const bps = this.limits.bytesPerSecond;
    const byteCost = this.byteCost(bytes);
    if ((fps <= 0 || this.frameTokens >= cost) && (bps <= 0 || this.byteTokens >= byteCost)) {
      if (fps > 0) this.frameTokens -= cost;
      if (bps > 0) this.byteTokens -= byteCost;
      this.passed++;
      return RATE_OK;
    }
    this.overLimit++;
    this.markOver(nowMs);
    return nowMs - this.streakStartMs >= this.limits.floodToleranceSeconds * 1000 ? RATE_FLOOD : RATE_LIMITED;
  }

  /** How long until a frame of `bytes` costing `cost` would fit (retry_after_ms, or a hold), >= 1 ms. */
  waitMs(bytes: number, cost: number): number {
    const fps = this.limits.framesPerSecond;
    const bps = this.limits.bytesPerSecond;
    let wait = 0;
    if (fps > 0 && this.frameTokens < cost) wait = ((cost - this.frameTokens) / fps) * 1000;
    if (bps > 0) {
      const byteCost = this.byteCost(bytes);
      if (this.byteTokens < byteCost) wait = Math.max(wait, ((byteCost - this.byteTokens) / bps) * 1000);
    }
    return Math.max(1, Math.ceil(wait));
  }

  /** The connection was held back (not read) until `nowMs`: that time was over the limit. */
  heldUntil(nowMs: number): void {
    if (this.streakStartMs >= 0) this.lastOverMs = Math.max(this.lastOverMs, nowMs);
  }

  /**
   * Whether a 104 may answer a refused request now, and if so counts it: at most `framesPerSecond`
   * per second, so refusing costs no more output than serving would (a flood of requests is held back
   * instead once the budget is spent).
   */
  mayReply(nowMs: number): boolean {
    if (this.replyWindowMs < 0 || nowMs - this.replyWindowMs >= REPLY_WINDOW_MS) {
      this.replyWindowMs = nowMs;
      this.replies = 0;
    }
    if (this.replies >= this.limits.framesPerSecond) return false;
    this.replies++;
    return true;
  }

  /** Milliseconds the current flood streak has lasted at `nowMs` (0 when there is none). */
  streakMs(nowMs: number): number {
    return this.streakStartMs < 0 ? 0 : nowMs - this.streakStartMs;
  }

  /** A frame larger than the whole byte bucket could never pass; it costs a full bucket instead. */
  private byteCost(bytes: number): number {
    const bps = this.limits.bytesPerSecond;
    return bps > 0 ? Math.min(bytes, bps * BURST_SECONDS) : 0;
  }

  private markOver(nowMs: number): void {
    if (this.streakStartMs < 0 || nowMs - this.lastOverMs > STREAK_GAP_MS) this.streakStartMs = nowMs;
    this.lastOverMs = Math.max(this.lastOverMs, nowMs);
  }

  private refill(nowMs: number): void {
    const elapsed = nowMs - this.lastMs;
    if (elapsed <= 0) return;
    this.lastMs = nowMs;
    const { framesPerSecond: fps, bytesPerSecond: bps } = this.limits;
    if (fps > 0) this.frameTokens = Math.min(fps * BURST_SECONDS, this.frameTokens + (elapsed * fps) / 1000);
    if (bps > 0) this.byteTokens = Math.min(bps * BURST_SECONDS, this.byteTokens + (elapsed * bps) / 1000);
  }
}
