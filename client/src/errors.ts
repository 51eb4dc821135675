/**
 * Errors the SDK reports. Server-side codes are numbers from docs/protocol.md §6 (reply errors
 * 100-999, disconnect codes 4000-4999); the SDK's own failures have symbolic `FERRY_CLIENT_*` codes.
 */

/** Disconnect codes the SDK treats specially (docs/protocol.md §6.2); others are judged by range. */
export const DISCONNECT_NORMAL = 4000;
export const DISCONNECT_GOING_AWAY = 4001;
export const DISCONNECT_TOKEN_EXPIRED = 4009;
export const DISCONNECT_BAD_FRAME = 4500;
export const DISCONNECT_UNKNOWN_FRAME_TYPE = 4502;
export const DISCONNECT_AUTH_FAILED = 4504;
/** First code of the "do not reconnect" range. */
export const DISCONNECT_NO_RECONNECT_FROM = 4500;

/** Reply error codes the SDK retries by itself (docs/protocol.md §6.1, `retryable`). */
export const REPLY_RATE_LIMITED = 104;
export const REPLY_UNAVAILABLE = 107;

/** Symbolic codes of failures that happen in the SDK rather than on the server. */
export type ClientErrorCode =
  /** `send`/`subscribe`/... while not connected (QoS 0 and queries are not queued). */
  | 'FERRY_CLIENT_NOT_CONNECTED'
  /** The connection ended before the reply arrived (the request may or may not have been served). */
  | 'FERRY_CLIENT_DISCONNECTED'
  /** `close()` was called, or the client stopped for good (see the `closed` event). */
  | 'FERRY_CLIENT_CLOSED'
  /** No reply within `requestTimeoutMs`. */
  | 'FERRY_CLIENT_TIMEOUT'
  /** No configured transport could be opened (each one's failure is in `causes`). */
  | 'FERRY_CLIENT_NO_TRANSPORT'
  /** The server sent bytes that are not valid frames (the connection is dropped and re-opened). */
  | 'FERRY_CLIENT_PROTOCOL'
  /** Bad arguments (an invalid QoS, a payload type that is not bytes or text, ...). */
  | 'FERRY_CLIENT_BAD_ARGUMENT'
  /** The server answered a request with an Error frame; `replyCode` holds its number. */
  | 'FERRY_CLIENT_REQUEST_FAILED';

/** Every error the SDK rejects a promise with or emits. */
export class FerryClientError extends Error {
  override readonly name = 'FerryClientError';
  /** Reply code of the server's Error frame (100-999), or 0. */
  readonly replyCode: number;
  /** Disconnect code involved (4000-4999, or a WebSocket close code), or 0. */
  readonly disconnectCode: number;
  /** True when the same request may succeed later (the server's `retryable`). */
  readonly retryable: boolean;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    opts: { replyCode?: number; disconnectCode?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.replyCode = opts.replyCode ?? 0;
    this.disconnectCode = opts.disconnectCode ?? 0;
    this.retryable = opts.retryable ?? false;
  }
}

/** A transport could not be opened (missing API, refused, too slow): the next one is tried. */
export class TransportUnavailableError extends Error {
  override readonly name = 'TransportUnavailableError';
  constructor(
    readonly transport: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${transport}: ${message}`, options);
  }
}
