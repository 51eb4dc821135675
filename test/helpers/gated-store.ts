import type { AppendResult, MessageStore, NewMessage } from '../../src/store/message-store.js';

/**
 * A message store whose appends wait until the test lets them through, like a Redis that has stopped
 * answering: `started` counts the appends the router began, `release(n)` lets the oldest `n` run on
 * the real store (in order), `releaseAll()` lets every waiting one and every later one through.
 * Everything else goes straight to the real store.
 */
export class GatedStore {
  readonly store: MessageStore;
  started = 0;
  private readonly waiting: (() => void)[] = [];
  private open = false;

  constructor(real: MessageStore) {
    const gate = (append: (m: NewMessage) => Promise<AppendResult>) => (msg: NewMessage) => {
      this.started++;
      if (this.open) return append(msg);
      return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => append(msg));
    };
    const appendToUser = gate((m) => real.appendToUser(m));
    const appendToTopic = gate((m) => real.appendToTopic(m));
    this.store = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'appendToUser') return appendToUser;
        if (prop === 'appendToTopic') return appendToTopic;
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /** Appends begun and still waiting. */
  get held(): number {
    return this.waiting.length;
  }

  /** Lets the oldest `n` waiting appends run. */
  release(n = 1): void {
    for (const resolve of this.waiting.splice(0, n)) resolve();
  }

  /** Lets every waiting append run, and every later one at once. */
  releaseAll(): void {
    this.open = true;
    this.release(this.waiting.length);
  }
}
