/**
 * Remembers recently accepted (user, msg id) pairs for `windowMs`, so a client that resends after a
 * lost ServiceAck (or after BUSY raced with success) gets `duplicate: true` instead of the service
 * seeing the message twice. An entry holds the first attempt's promise: a repeat that arrives while
 * the first is still queued waits for the same outcome. A failed first attempt forgets its entry, so
 * the retry goes through.
 *
 * Entries expire in insertion order (one window for all), so expiry is a walk from the oldest end of
 * a Map; `maxEntries` caps memory under a flood of distinct ids (the oldest go first).
 */

interface Entry<T> {
  readonly expiresMs: number;
  readonly result: Promise<T>;
}

export class DedupWindow<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private windowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: { windowMs: number; maxEntries?: number; now?: () => number }) {
    this.windowMs = opts.windowMs;
    this.maxEntries = opts.maxEntries ?? 1_000_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  setWindow(windowMs: number): void {
    this.windowMs = windowMs;
  }

  /** The pending or settled result of an earlier attempt with this key, if within the window. */
  get(key: string): Promise<T> | undefined {
    this.expire();
    return this.entries.get(key)?.result;
  }

  /** Records the first attempt's result; forgets the key if that attempt fails. */
  remember(key: string, result: Promise<T>): void {
    if (this.windowMs <= 0) return;
    this.expire();
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    const entry = { expiresMs: this.now() + this.windowMs, result };
    this.entries.set(key, entry);
    result.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
  }

  private expire(): void {
    const now = this.now();
    for (const [key, e] of this.entries) {
      if (e.expiresMs > now) break;
      this.entries.delete(key);
    }
  }
}
