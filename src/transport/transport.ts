/**
 * The one shape every client transport (WebSocket, raw TCP, WebTransport) gives the layers above.
 *
 * A transport is a dumb byte pipe: it does no protobuf and no auth. It says how its bytes are framed
 * (`framing`), hands incoming bytes to the handler, and writes bytes the session has already framed.
 * Reading is the session's job (Centrifugo's Transport has only write and close, for the same reason).
 */

export type TransportKind = 'ws' | 'tcp' | 'wt';

/**
 * How frames travel on the reliable channel:
 *  - 'message': each transport message is exactly one encoded Frame (WebSocket binary messages);
 *  - 'stream': a byte stream of frames, each prefixed by a 4-byte big-endian length (TCP, WebTransport).
 */
export type Framing = 'message' | 'stream';

/** Receives what a connection produces. Installed once with `Connection.setHandler`. */
export interface ConnectionHandler {
  /** Bytes from the reliable channel: one whole frame for 'message' framing, any chunk for 'stream'. */
  onData(bytes: Uint8Array): void;
  /** One unreliable datagram (one whole frame). Only transports with `supportsDatagrams` call it. */
  onDatagram(bytes: Uint8Array): void;
  /** The transport's own write buffer fell below its low-water mark: more may be written. */
  onDrain(): void;
  /**
   * The connection is gone (either side, any reason). Called exactly once. `code` is the close code
   * the peer sent (WebSocket/WebTransport) or 1006-like 0 when it vanished.
   */
  onClose(code: number, reason: string): void;
}

/** A handler that ignores everything: for connections that are closed or refused (shared, stateless). */
export const IGNORE_HANDLER: ConnectionHandler = Object.freeze({
  onData() {},
  onDatagram() {},
  onDrain() {},
  onClose() {},
});

/** One client connection as the session layer sees it. */
export interface Connection {
  /** Process-unique id, for logs and the registry. */
  readonly id: number;
  readonly kind: TransportKind;
  readonly framing: Framing;
  /** Peer IP address (no port), used for per-IP limits. */
  readonly remoteAddress: string;
  readonly supportsDatagrams: boolean;
  /** Largest datagram the peer accepts, 0 when datagrams are unsupported. */
  readonly maxDatagramBytes: number;

  /** Installs the handler; incoming bytes are buffered by the transport until this is called. */
  setHandler(handler: ConnectionHandler): void;
  /**
   * Queues already-framed bytes on the reliable channel. Never blocks and never throws on a closed
   * connection (the bytes are dropped; `onClose` has been or will be called).
   */
  write(bytes: Uint8Array): void;
  /** Sends one datagram; returns false if it was dropped (unsupported, too big, or congested). */
  writeDatagram(bytes: Uint8Array): boolean;
  /** Bytes accepted by `write` and not yet handed to the OS/QUIC stack. */
  bufferedAmount(): number;
  /**
   * Stops reading the reliable channel: the peer's bytes wait in the kernel (TCP) or QUIC's receive
   * window, so flow control holds the peer back instead of anything buffering here. Bytes the
   * transport had already read may still reach `onData` (a WebSocket parser finishing its last read).
   * Datagrams are not held back (they have no flow control). Idempotent; a no-op once closed.
   */
  pauseReading(): void;
  /** Reads again after `pauseReading`. Idempotent. */
  resumeReading(): void;
  /**
   * Graceful close: flush what was written, then close with code and reason (reason <= 123 bytes so
   * it fits a WebSocket close frame). Idempotent. Falls back to `destroy` after a short linger.
   */
  close(code: number, reason: string): void;
  /** Abrupt close: drop buffered bytes and release the socket now. Idempotent. */
  destroy(): void;
  /**
   * The session layer accepted the peer's identity: the socket's admission phase moves from
   * `pre_auth` to `authenticated` (the `ferry_sockets` gauge). Idempotent.
   */
  markAuthenticated(): void;
}

/**
 * What a 'message' transport hands to `onData` in place of a message that cannot hold a frame (a
 * WebSocket text message). Compared by identity: the session refuses it with 4500 BAD_FRAME and a
 * reason naming the cause, in its one place for protocol errors, after the frames read before it.
 */
export const NOT_A_FRAME_MESSAGE: Uint8Array = new Uint8Array(0);

/** A listener accepts connections of one transport kind. */
export interface Listener {
  readonly kind: TransportKind;
  /** Starts listening; resolves with the bound address (port 0 resolves to the real port). */
  listen(): Promise<{ host: string; port: number }>;
  /** Stops accepting new connections; existing ones stay open. Idempotent. */
  stopAccepting(): Promise<void>;
  /** Stops accepting and destroys every remaining connection. Idempotent. */
  close(): Promise<void>;
}

/** What a listener calls for each accepted connection. */
export type ConnectionCallback = (conn: Connection) => void;

let nextConnectionId = 1;
/** Allocates a process-unique connection id. */
export function allocateConnectionId(): number {
  return nextConnectionId++;
}

/** Truncates a close reason to the 123 bytes a WebSocket close frame can carry (RFC 6455 §5.5). */
export function clampCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let s = reason;
  while (Buffer.byteLength(s) > 120) s = s.slice(0, -1);
  return `${s}...`;
}
