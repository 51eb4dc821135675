/**
 * Addresses that keep getting cut for abuse (garbage frames, protocol violations, refused tokens,
 * floods, deadlines missed) are refused at accept for a while: each such connection is cheap to cut,
 * but a client that reconnects at once after every cut costs the node a handshake, a session and a
 * decode each time (the flood bench measured thousands per second from one address). Well-behaved
 * clients never trip this: those codes tell a compliant client not to reconnect (4500-4999), or come
 * with backoff advice (4005, 4006).
 *
 * Each address has a score that rises by one per abusive close and drains at `threshold` per
 * `windowMs`; when it would pass `threshold`, the address is refused for a ban that starts at
 * `firstBanMs` and doubles with each ban in a row, up to `maxBanMs`. A ban in a row is one that
 * starts within `maxBanMs` of the previous one ending. Memory: one small record per address that
 * misbehaved recently; records that have drained are dropped when the table grows.
 */

/** Tuning of the penalty (Infinity/0 turn parts off; `threshold` 0 = never ban). */
export interface PenaltySettings {
  /** Abusive closes within `windowMs` that an address may cause before it is refused. */
  threshold: number;
  windowMs: number;
  firstBanMs: number;
  maxBanMs: number;
}

interface Record {
  score: number;
  /** When `score` was last brought up to date. */
  atMs: number;
  bannedUntilMs: number;
  /** Length of the last ban, 0 before the first. */
  lastBanMs: number;
}

/** Past this many records, drained ones are dropped at the next penalty. */
const PRUNE_AT = 10_000;

export class AbusePenalty {
  private readonly records = new Map<string, Record>();

  constructor(private readonly settings: Readonly<PenaltySettings>) {}

  /** Milliseconds `address` is still refused for at `nowMs` (0 = not banned). */
  bannedFor(address: string, nowMs: number): number {
    const r = this.records.get(address);
    if (r === undefined || r.bannedUntilMs <= nowMs) return 0;
    return r.bannedUntilMs - nowMs;
  }

  /**
   * Counts one abusive close from `address`; returns the length of the ban it started, or 0. A close
   * during a ban (a connection admitted before it) only adds to the score.
   */
  penalize(address: string, nowMs: number): number {
    const { threshold, windowMs, firstBanMs, maxBanMs } = this.settings;
    if (threshold <= 0) return 0;
    let r = this.records.get(address);
    if (r === undefined) {
      if (this.records.size >= PRUNE_AT) this.prune(nowMs);
      r = { score: 0, atMs: nowMs, bannedUntilMs: 0, lastBanMs: 0 };
      this.records.set(address, r);
    }
    r.score = Math.max(0, r.score - ((nowMs - r.atMs) * threshold) / windowMs) + 1;
    r.atMs = nowMs;
    if (r.score <= threshold || r.bannedUntilMs > nowMs) return 0;
    const inARow = r.lastBanMs > 0 && nowMs - r.bannedUntilMs < maxBanMs;
    const ban = inARow ? Math.min(maxBanMs, r.lastBanMs * 2) : Math.min(maxBanMs, firstBanMs);
    r.bannedUntilMs = nowMs + ban;
    r.lastBanMs = ban;
    r.score = 0;
    return ban;
  }

  /** Addresses with a record (for /stats). */
  get size(): number {
    return this.records.size;
  }

  /** Drops records that have drained and whose ban no longer counts toward the next one. */
  private prune(nowMs: number): void {
    const { threshold, windowMs, maxBanMs } = this.settings;
    for (const [address, r] of this.records) {
      const drained = r.score - ((nowMs - r.atMs) * threshold) / windowMs <= 0;
      if (drained && nowMs - r.bannedUntilMs >= maxBanMs) this.records.delete(address);
    }
  }
}
