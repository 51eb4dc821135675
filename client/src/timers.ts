/**
 * Every timer a client sets, so that closing it clears them all at once and no callback fires on a
 * closed client; plus the one interruptible sleep between reconnect attempts (`close()` wakes it).
 */
export class Timers {
  private readonly live = new Set<ReturnType<typeof setTimeout>>();
  private wakeSleeper: (() => void) | null = null;

  /** Runs `fn` after `ms` unless cleared first. */
  set(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.live.delete(t);
      fn();
    }, ms);
    this.live.add(t);
    return t;
  }

  clear(t: ReturnType<typeof setTimeout>): void {
    clearTimeout(t);
    this.live.delete(t);
  }

  /** Resolves after `ms`, or earlier on `wake()`. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.set(() => {
        this.wakeSleeper = null;
        resolve();
      }, ms);
      this.wakeSleeper = () => {
        this.clear(t);
        this.wakeSleeper = null;
        resolve();
      };
    });
  }

  /** Ends the current `sleep` now (no-op when none). */
  wake(): void {
    this.wakeSleeper?.();
  }

  /** Clears every pending timer. */
  clearAll(): void {
    for (const t of this.live) clearTimeout(t);
    this.live.clear();
  }
}
