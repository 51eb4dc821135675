/**
 * Reconnect delays: exponential backoff with jitter, never earlier than the server's advice.
 *
 * docs/protocol.md §6: reconnect "after `reconnect_delay_ms` when given, otherwise with exponential
 * backoff, e.g. 0.5 s doubling to 30 s, always with random jitter". Jitter spreads the clients of a
 * drained node over time instead of bringing them all back in the same instant.
 */

/** Tuning of {@link Backoff}. */
export interface BackoffOptions {
  /** First delay, before jitter. Default 500 ms. */
  initialMs?: number;
  /** Largest delay, before jitter. Default 30 s. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /**
   * Fraction of each delay that is random, 0-1. Default 0.5: a backoff step of `d` becomes a delay in
   * [d/2, d]; a server advice of `a` becomes a delay in [a, a * 1.5].
   */
  jitter?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Backoff state for one client: `next()` after each failure, `reset()` after a success. */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = nonNegative(opts.initialMs ?? 500, 'initialMs');
    this.maxMs = Math.max(this.initialMs, nonNegative(opts.maxMs ?? 30_000, 'maxMs'));
    this.factor = Math.max(1, opts.factor ?? 2);
    this.jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.5));
    this.random = opts.random ?? Math.random;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /**
   * The delay before the next attempt, and counts one more failure. `minDelayMs` is the server's
   * `reconnect_delay_ms`: the result is never below it, and jitter is added on top of it.
   */
  next(minDelayMs = 0): number {
    const step = Math.min(this.maxMs, this.initialMs * this.factor ** this.failures);
    this.failures += 1;
    const backoff = step * (1 - this.jitter) + this.random() * step * this.jitter;
    if (!(minDelayMs > 0)) return Math.round(backoff);
    const advised = minDelayMs + this.random() * minDelayMs * this.jitter;
    return Math.round(Math.max(advised, backoff));
  }

  /** Back to the first step (after a connection was authenticated). */
  reset(): void {
    this.failures = 0;
  }
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`backoff ${name} must be >= 0, got ${value}`);
  return value;
}
