/**
 * Request/reply correlation by frame id (docs/protocol.md §3.1): every request gets a distinct non-zero
 * id; the reply (SendAck, Reply, PresenceResult, Pong) or an Error frame carrying that id settles it.
 */
import { FerryClientError } from './errors.js';
import type { Frame } from './wire.js';

interface Pending {
  resolve(frame: Frame): void;
  reject(err: FerryClientError): void;
  timer: ReturnType<typeof setTimeout> | null;
}

/** The largest u32: ids wrap back to 1 after it (0 means "no correlation"). */
const MAX_ID = 0xffff_ffff;

export class PendingRequests {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** Requests still waiting for their reply. */
  get size(): number {
    return this.pending.size;
  }

  /** A fresh id not in use (ids wrap after 2^32 - 1 requests). */
  allocate(): number {
    let id = this.nextId;
    while (this.pending.has(id)) id = id >= MAX_ID ? 1 : id + 1;
    this.nextId = id >= MAX_ID ? 1 : id + 1;
    return id;
  }

  /**
   * Waits for the reply to request `id`; `timeoutMs` 0 waits until `failAll`. An Error frame rejects
   * with FERRY_CLIENT_REQUEST_FAILED carrying the server's code, `retryable` and `retry_after_ms`.
   */
  wait(id: number, timeoutMs: number): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id);
              reject(new FerryClientError('FERRY_CLIENT_TIMEOUT', `no reply within ${timeoutMs} ms`));
            }, timeoutMs)
          : null;
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  /** Settles the request `frame` answers; false if no request has its id (an unsolicited frame). */
  settle(frame: Frame): boolean {
    const p = this.pending.get(frame.id);
    if (p === undefined || frame.id === 0) return false;
    this.pending.delete(frame.id);
    if (p.timer !== null) clearTimeout(p.timer);
    if (frame.body === 'error' && frame.error) {
      const e = frame.error;
      p.reject(
        Object.assign(
          new FerryClientError('FERRY_CLIENT_REQUEST_FAILED', `server error ${e.code}: ${e.message ?? ''}`, {
            replyCode: e.code ?? 0,
            retryable: e.retryable === true,
          }),
          { retryAfterMs: e.retryAfterMs ?? 0 },
        ),
      );
    } else {
      p.resolve(frame);
    }
    return true;
  }

  /** Rejects every waiting request with `err` (the connection ended, or the client closed). */
  failAll(err: FerryClientError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      if (p.timer !== null) clearTimeout(p.timer);
      p.reject(err);
    }
  }
}

/** `retry_after_ms` of a failed request (0 when none). */
export function retryAfterOf(err: unknown): number {
  const v = (err as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof v === 'number' ? v : 0;
}
