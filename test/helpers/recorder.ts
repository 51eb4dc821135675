/**
 * Awaiting events instead of time. A Recorder keeps what a component emitted (deliveries, presence
 * events, log records) and `waitFor` resolves when the record satisfies a predicate, checked on each
 * new event, never on a timer. The deadline only bounds waiting: it fails with what was seen, so a
 * timeout says which event never came.
 */
import { scaled } from './time-factor.js';

/** Everything seen so far, in arrival order, and waiters woken by each new item. */
export class Recorder<T> {
  readonly items: T[] = [];
  private readonly changes = new Changes();

  /** Records `item` and re-checks every waiter. */
  push(item: T): void {
    this.items.push(item);
    this.changes.notify();
  }

  get length(): number {
    return this.items.length;
  }

  /**
   * Resolves once `predicate(items)` holds (at once if it already does); rejects after `timeoutMs`
   * (scaled by FERRY_TEST_TIME_FACTOR) naming `what` and listing the items seen.
   */
  waitFor(predicate: (items: readonly T[]) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return this.changes.until(
      () => predicate(this.items),
      what,
      timeoutMs,
      () => describeItems(this.items),
    );
  }

  /** Resolves once at least `n` items were recorded. */
  waitForCount(n: number, what = `${n} events`, timeoutMs = 5000): Promise<void> {
    return this.waitFor((items) => items.length >= n, what, timeoutMs);
  }
}

/** A condition re-checked whenever `notify()` says something changed. */
export class Changes {
  private readonly waiters = new Set<() => void>();

  /** Something the waiters' conditions depend on changed. */
  notify(): void {
    for (const check of [...this.waiters]) check();
  }

  /**
   * Resolves once `condition()` holds, checked now and after each `notify()`; rejects after
   * `timeoutMs` (scaled) with `what` and, when given, `seen()`.
   */
  until(condition: () => boolean, what: string, timeoutMs = 5000, seen?: () => string): Promise<void> {
    if (condition()) return Promise.resolve();
    const ms = scaled(timeoutMs);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        let done: boolean;
        try {
          done = condition();
        } catch (err) {
          finish();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (!done) return;
        finish();
        resolve();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}${seen ? `; saw ${seen()}` : ''}`));
      }, ms);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }
}

/** The count and the last items as JSON: the tail is what a failed wait most needs to show. */
function describeItems(items: readonly unknown[]): string {
  const json = (v: unknown): string => {
    try {
      return JSON.stringify(v, (_k, x: unknown) =>
        x instanceof Uint8Array ? `<${x.length} bytes>` : typeof x === 'bigint' ? String(x) : x,
      );
    } catch {
      return String(v);
    }
  };
  const shown = items.slice(-5).map(json);
  const more = items.length > 5 ? `${items.length - 5} earlier, then ` : '';
  return `${items.length} item(s): ${more}[${shown.join(', ')}]`.slice(0, 2000);
}
