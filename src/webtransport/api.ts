/**
 * Public API of Ferry's self-contained WebTransport-over-HTTP/3 module. Nothing in src/webtransport/
 * imports from the gateway; the gateway adapter (src/transport/webtransport/) uses only this file's
 * types and the classes that implement them. (Contract sketch by the lead; implementers may refine it,
 * keeping it narrow and documenting changes.)
 */

/** Minimal logger shape, so the module needs no logging library (pino satisfies it). */
export interface WtLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What an extended CONNECT asked for; the server's `onSessionRequest` decides. */
export interface SessionRequest {
  path: string;
  /** Origin header, '' when absent (non-browser clients). */
  origin: string;
  authority: string;
  /** ':protocol' value: 'webtransport' (draft-02, Chromium) or 'webtransport-h3' (draft-07+). */
  protocol: string;
  headers: ReadonlyMap<string, string>;
  remoteAddress: string;
}

/** Accept (200) or refuse with an HTTP status (404 unknown path, 403 origin, 429/503 busy...). */
export type SessionDecision = { status: 200 } | { status: number; reason?: string };

export interface WebTransportLimits {
  maxSessionsPerConnection: number;
  maxStreamsPerSession: number;
  /** Bytes buffered per stream (in and out) before backpressure / reset. */
  maxStreamBufferBytes: number;
  /** Largest QPACK-decoded header section accepted (RFC 9114 SETTINGS_MAX_FIELD_SECTION_SIZE). */
  maxHeaderBytes: number;
  /**
   * Time from a connection's first Initial packet to its first accepted session (QUIC handshake,
   * SETTINGS and CONNECT) before the connection is closed; also how long an idle connection without
   * sessions lingers, and how long early streams wait for their session.
   */
  connectTimeoutMs: number;
  /** QUIC idle timeout. */
  idleTimeoutMs: number;
  maxConnections: number;
}

/** What `admitConnection` returns for an accepted connection; released once, when it is gone. */
export interface AdmittedConnection {
  release(): void;
  /** Told when the connection is closed for not starting a session within `connectTimeoutMs`. */
  handshakeTimedOut?(): void;
}

/** The decision on a new QUIC connection: its handle, or the reason it is refused. */
export type ConnectionAdmission = AdmittedConnection | { refused: string };

export interface WebTransportServerOptions {
  host: string;
  port: number;
  /** PEM certificate chain and private key (ECDSA P-256 for serverCertificateHashes). */
  certPem: string;
  keyPem: string;
  limits?: Partial<WebTransportLimits>;
  /** Stateless Retry (address validation) before creating connection state. Default true. */
  retry?: boolean;
  /**
   * QUIC engine: 'matrixai' (quiche via `@matrixai/quic`, the default), 'native' (ngtcp2 + GnuTLS
   * through Ferry's addon; the constructor throws if it is not built) or 'auto' (native if built).
   */
  engine?: 'auto' | 'native' | 'matrixai';
  logger?: WtLogger;
  /**
   * Decides each new QUIC connection from its address, after Retry validated the address and before
   * any handshake state exists; the default accepts all (up to `limits.maxConnections`). A refused
   * client gets CONNECTION_CLOSE with CONNECTION_REFUSED (RFC 9000 §20.1) and `refused` as reason.
   */
  admitConnection?: (remoteAddress: string) => ConnectionAdmission;
  /** Decides each CONNECT; the default accepts every path and origin. */
  onSessionRequest?: (req: SessionRequest) => SessionDecision;
  /** A session was accepted (its CONNECT answered 200). */
  onSession: (session: WebTransportSession) => void;
}

/** Receives a session's events. Installed with `WebTransportSession.setHandler`. */
export interface SessionHandler {
  onBidiStream(stream: WtBidiStream): void;
  onUniStream(stream: WtReceiveStream): void;
  onDatagram(bytes: Uint8Array): void;
  /** Exactly once: closed by either side (code/reason from the close capsule, 0/'' if none) or lost. */
  onClose(code: number, reason: string): void;
}

export interface WebTransportSession {
  readonly id: number;
  readonly request: SessionRequest;
  readonly remoteAddress: string;
  /** What `admitConnection` returned for this session's QUIC connection (null on clients, or without it). */
  readonly admission: AdmittedConnection | null;
  /** Largest datagram payload that fits in one packet right now. */
  readonly maxDatagramBytes: number;
  setHandler(handler: SessionHandler): void;
  openBidiStream(): WtBidiStream;
  openUniStream(): WtSendStream;
  /** False if dropped (too big, queue full, closed). */
  sendDatagram(bytes: Uint8Array): boolean;
  /**
   * Sends the CLOSE_WEBTRANSPORT_SESSION capsule with code/reason and FINs the CONNECT stream; the
   * handler's `onClose(code, reason)` follows synchronously. Idempotent.
   */
  close(code: number, reason: string): void;
}

export interface StreamHandler {
  /** Bytes owned by the handler (a copy; keep or modify freely). */
  onData(bytes: Uint8Array): void;
  /** Peer FIN. */
  onEnd(): void;
  /**
   * Peer reset, or the session/connection went away. `code` is the WebTransport application code
   * (u32) when the wire code lies in the draft's mapped range, else the raw HTTP/3 code (Chromium
   * resets with 0x10f after a session close; Ferry uses WT_SESSION_GONE).
   */
  onReset(code: number): void;
  /**
   * The send queue fell to half the high-water mark after a `write` returned false, or emptied
   * (also after `end`).
   */
  onDrain(): void;
}

export interface WtSendStream {
  readonly id: number;
  /**
   * Queues bytes (not copied: don't modify them afterwards). Backpressure: `bufferedAmount()` and
   * `onDrain`; the implementation also returns false once `maxStreamBufferBytes` are queued (the
   * bytes are still accepted).
   */
  write(bytes: Uint8Array): void;
  /** Bytes accepted by `write` not yet taken by QUIC. */
  bufferedAmount(): number;
  /** FIN after the queued bytes. Idempotent. */
  end(): void;
  /** RESET_STREAM with the application `code` (u32); queued bytes are dropped. */
  reset(code: number): void;
}

export interface WtReceiveStream {
  readonly id: number;
  /**
   * Starts delivery. Until a handler is set the stream is not read: its bytes wait in QUIC's receive
   * window, so the peer is held back by flow control, not buffered here.
   */
  setHandler(handler: StreamHandler): void;
  /**
   * Stops reading (inbound backpressure): the peer's bytes stay in QUIC's receive window until
   * `resume`, and flow control holds the peer back. A chunk being delivered is delivered whole.
   */
  pause(): void;
  /** Reads again after `pause`. */
  resume(): void;
  /** STOP_SENDING to the peer with the application `code` (u32). */
  stop(code: number): void;
}

export type WtBidiStream = WtSendStream & WtReceiveStream;
