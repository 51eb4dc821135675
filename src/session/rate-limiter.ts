/**
 * Per-connection inbound rate limits (docs/architecture.md, "Rate limits"): two token buckets, frames/s
 * and bytes/s, each holding up to two seconds' worth (burst 2x), refilled continuously from the frame
 * arrival times (no timer). A connection refused at least once a second for `floodToleranceSeconds`
 * in a row is flooding and gets cut with 4006.
 */

/** The limits, shared by every connection of a gateway. A rate <= 0 disables that bucket. */
export interface RateLimits {
  framesPerSecond: number;
  bytesPerSecond: number;
  floodToleranceSeconds: number;
}

/** Verdicts of `RateLimiter.take`. */
export const RATE_OK = 0;
export const RATE_LIMITED = 1;
export const RATE_FLOOD = 2;
export type RateVerdict = typeof RATE_OK | typeof RATE_LIMITED | typeof RATE_FLOOD;

/** Bursts may use this many seconds' worth of tokens. */
const BURST_SECONDS = 2;
/** A refusal more than this long after the previous one starts a new streak. */
const STREAK_GAP_MS = 1000;

/** Two token buckets and a flood streak; a handful of numbers per connection. */
export class RateLimiter {
  private readonly limits: RateLimits;
  private frameTokens: number;
  private byteTokens: number;
  private lastMs: number;
  /** Start and latest refusal of the current streak; -1 when there is none. */
  private streakStartMs = -1;
  private lastRefusalMs = -1;

  constructor(limits: RateLimits, nowMs: number) {
    this.limits = limits;
    this.frameTokens = limits.framesPerSecond * BURST_SECONDS;
    this.byteTokens = limits.bytesPerSecond * BURST_SECONDS;
    this.lastMs = nowMs;
  }

  /**
   * Charges one frame of `bytes`. `exempt` frames (Ping, Pong, Ack: they keep the session alive and
   * the store trimmed) are charged but never refused; their charge stops at an empty bucket rather
   * than running it into debt. Returns RATE_OK (go ahead), RATE_LIMITED (refuse this frame, nothing
   * charged) or RATE_FLOOD (refusals have lasted the flood tolerance: disconnect).
   */
  take(bytes: number, nowMs: number, exempt: boolean): RateVerdict {
    this.refill(nowMs);
    const fps = this.limits.framesPerSecond;
    const bps = this.limits.bytesPerSecond;
    // A frame larger than the whole byte bucket could never pass; charge it as a full bucket instead.
    const cost = bps > 0 ? Math.min(bytes, bps * BURST_SECONDS) : 0;
    const fits = (fps <= 0 || this.frameTokens >= 1) && (bps <= 0 || this.byteTokens >= cost);
    if (fits || exempt) {
      if (fps > 0) this.frameTokens = Math.max(0, this.frameTokens - 1);
      if (bps > 0) this.byteTokens = Math.max(0, this.byteTokens - cost);
      return RATE_OK;
    }
    if (this.streakStartMs < 0 || nowMs - this.lastRefusalMs > STREAK_GAP_MS) this.streakStartMs = nowMs;
    this.lastRefusalMs = nowMs;
    const toleranceMs = this.limits.floodToleranceSeconds * 1000;
    return nowMs - this.streakStartMs >= toleranceMs ? RATE_FLOOD : RATE_LIMITED;
  }

  /** How long until a frame of `bytes` would fit (for the Error frame's retry_after_ms), at least 1 ms. */
  retryAfterMs(bytes: number): number {
    const fps = this.limits.framesPerSecond;
    const bps = this.limits.bytesPerSecond;
    let wait = 0;
    if (fps > 0 && this.frameTokens < 1) wait = ((1 - this.frameTokens) / fps) * 1000;
    if (bps > 0) {
      const cost = Math.min(bytes, bps * BURST_SECONDS);
      if (this.byteTokens < cost) wait = Math.max(wait, ((cost - this.byteTokens) / bps) * 1000);
    }
    return Math.max(1, Math.ceil(wait));
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
