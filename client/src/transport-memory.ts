/**
 * Remembers a transport fallback for a while, so that a browser behind a UDP-blocking firewall does not
 * wait for WebTransport to time out on every reconnect, yet tries it again later (networks change).
 */
import type { TransportKind } from './transports/transport.js';

/** The subset of the Web Storage API used (localStorage fits; Node uses an in-memory map). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A Map with the Storage shape, for Node and for browsers without localStorage. */
export class MemoryStorage implements KeyValueStorage {
  private readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

/** localStorage when the page may use it, else memory. */
export function defaultStorage(): KeyValueStorage {
  try {
    const ls = (globalThis as { localStorage?: KeyValueStorage }).localStorage;
    if (ls !== undefined) {
      ls.getItem('ferry:probe');
      return ls;
    }
  } catch {
    // Storage disabled (privacy mode, sandboxed frame): fall through.
  }
  return new MemoryStorage();
}

interface Remembered {
  /** The transport that worked when the preferred ones did not. */
  kind: TransportKind;
  untilMs: number;
}

export class TransportMemory {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly key: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `order` with the remembered fallback moved to the front while the memory lasts: the transports
   * before it are skipped rather than waited for (they still follow it, in case it fails too).
   */
  order(order: readonly TransportKind[]): TransportKind[] {
    const r = this.read();
    if (r === null || !order.includes(r.kind)) return [...order];
    return [r.kind, ...order.filter((k) => k !== r.kind)];
  }

  /** The transport `used` worked after `preferred` (the first in the order) failed. */
  rememberFallback(used: TransportKind): void {
    const value: Remembered = { kind: used, untilMs: this.now() + this.ttlMs };
    try {
      this.storage.setItem(this.key, JSON.stringify(value));
    } catch {
      // Quota or privacy mode: forgetting only costs a slower reconnect.
    }
  }

  /** The preferred transport worked again: forget the fallback. */
  forget(): void {
    try {
      this.storage.removeItem(this.key);
    } catch {
      // As above.
    }
  }

  /** The remembered fallback, or null when none or expired. */
  read(): Remembered | null {
    let text: string | null;
    try {
      text = this.storage.getItem(this.key);
    } catch {
      return null;
    }
    if (text === null) return null;
    try {
      const r = JSON.parse(text) as Partial<Remembered>;
      if (
        (r.kind === 'ws' || r.kind === 'tcp' || r.kind === 'wt') &&
        typeof r.untilMs === 'number' &&
        r.untilMs > this.now()
      )
        return { kind: r.kind, untilMs: r.untilMs };
    } catch {
      // Not ours or corrupted: treat as nothing remembered.
    }
    return null;
  }
}
