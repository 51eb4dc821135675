import { FerryClient, type Message } from '../../../client/src/node.js';

/** Fetches the node's WebTransport certificate hashes from its admin port. */
export async function certHashesOf(adminUrl: string): Promise<string[]> {
  const res = await fetch(`${adminUrl}/webtransport/cert-hashes`);
  const body = (await res.json()) as { hashes: { value: string }[] };
  return body.hashes.map((h) => h.value);
}

/** Collects a client's messages and lets a test wait for a count or a predicate. */
export class Inbox {
  readonly messages: Message[] = [];
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];

  constructor(client: FerryClient) {
    client.on('message', (m) => {
      this.messages.push(m);
      for (const w of [...this.waiters]) {
        if (w.pred()) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
  }

  texts(): string[] {
    return this.messages.map((m) => Buffer.from(m.payload).toString());
  }

  /** Resolves when `pred` holds; rejects after `timeoutMs` with what arrived so far. */
  until(pred: () => boolean, timeoutMs: number): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i < 0) return;
        this.waiters.splice(i, 1);
        reject(
          new Error(`timed out; received ${this.messages.length}: ${this.texts().slice(-5).join(', ')}`),
        );
      }, timeoutMs).unref();
    });
  }
}
