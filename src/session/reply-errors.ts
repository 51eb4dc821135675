/**
 * The one table from gateway errors to the wire's reply errors (docs/protocol.md §6.2, §6.4): the
 * session layer is the client's edge, as access/status-mapping.ts is the gRPC caller's. Lower layers
 * (store, bus, presence) throw their own error kinds with messages meant for logs; a client sees only
 * the code and the documented text below, never a Redis detail.
 */
import {
  BusUnavailableError,
  PresenceUnavailableError,
  ReplyCode,
  RequestError,
  StoreError,
} from '../errors.js';

/** How long a client should wait before retrying after a store, bus or presence failure. */
export const UNAVAILABLE_RETRY_AFTER_MS = 1000;

/** The client-facing texts of 107 UNAVAILABLE by cause (docs/protocol.md §6.4). */
export const UNAVAILABLE_TEXT = {
  store: 'message store unavailable',
  bus: 'bus unavailable',
  presence: 'presence unavailable',
} as const;

// One instance each: they carry no per-request data, and a failing Redis fails many requests at once.
const STORE_UNAVAILABLE = unavailable(UNAVAILABLE_TEXT.store);
const BUS_UNAVAILABLE = unavailable(UNAVAILABLE_TEXT.bus);
const PRESENCE_UNAVAILABLE = unavailable(UNAVAILABLE_TEXT.presence);

/**
 * The reply error a client gets for `err`: a RequestError as it is (it was made for the client), a
 * store, bus or presence failure as 107 UNAVAILABLE (retryable) with its documented text, anything
 * else undefined (the caller logs it and answers 100 INTERNAL).
 */
export function toReplyError(err: unknown): RequestError | undefined {
  if (err instanceof RequestError) return err;
  if (err instanceof StoreError) return STORE_UNAVAILABLE;
  if (err instanceof BusUnavailableError) return BUS_UNAVAILABLE;
  if (err instanceof PresenceUnavailableError) return PRESENCE_UNAVAILABLE;
  return undefined;
}

function unavailable(text: string): RequestError {
  return new RequestError(ReplyCode.UNAVAILABLE, text, {
    retryable: true,
    retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS,
  });
}
