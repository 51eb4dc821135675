import { DisconnectCode } from '../../errors.js';
import type {
  SessionHandler,
  StreamHandler,
  WebTransportSession,
  WtBidiStream,
  WtReceiveStream,
} from '../../webtransport/index.js';
import {
  IGNORE_HANDLER,
  allocateConnectionId,
  clampCloseReason,
  type Connection,
  type ConnectionHandler,
  type Framing,
  type TransportKind,
} from '../transport.js';
import type { AdmissionTicket } from '../admission.js';

/** What the listener shares with all of its connections (one object per listener). */
export interface WtConnectionContext {
  /** How long `close()` waits for the client's FIN on the frame stream before closing the session anyway. */
  readonly closeLingerMs: number;
  /** Bytes `write` keeps while the client has not opened its frame stream yet; more are dropped. */
  readonly maxPendingBytes: number;
  /** The connection is gone (called once), so the listener can forget it. */
  connectionClosed(conn: WtConnection): void;
}

/** docs/protocol.md §2.3: streams beyond the first are refused with this application error code. */
export const EXTRA_STREAM_ERROR_CODE = DisconnectCode.PROTOCOL_VIOLATION;

const OPEN = 0;
const CLOSING = 1;
const CLOSED = 2;

/**
 * One WebTransport session as a Ferry connection ('stream' framing, docs/protocol.md §2.3).
 *
 * The session's first client-opened bidirectional stream carries the same u32-BE length-prefixed frames
 * as TCP, both ways; later bidi streams are reset and uni streams stopped with 4503, so a client cannot
 * make the server hold state for streams nobody reads. Datagrams carry one frame each and go straight
 * to the handler's `onDatagram` (the session layer allows only ephemeral frames there).
 *
 * The WebTransport session close code is Ferry's disconnect code itself (session close codes are u32,
 * so 4000-4999 pass through unchanged) and the reason is the disconnect reason: a browser reads both
 * from `WebTransport.closed`. The Disconnect frame before it (the only carrier of reconnect advice)
 * survives the teardown thanks to the close handshake described at `close()`.
 *
 * This object is the session's and the frame stream's handler as well as the Connection: no closures.
 */
export class WtConnection implements Connection, SessionHandler, StreamHandler {
  readonly id = allocateConnectionId();
  private handler: ConnectionHandler | null = null;
  private stream: WtBidiStream | null = null;
  /** Writes before the frame stream exists (in practice only a refusal's Disconnect frame). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Reliable bytes that arrived before `setHandler` (the listener installs it synchronously, so rare). */
  private early: Uint8Array[] = [];
  private state = OPEN;
  private closeCode = 0;
  private closeReason = '';
  private linger: NodeJS.Timeout | null = null;
  /** `pauseReading` was called: the frame stream is not read (also applied once it opens). */
  private readingPaused = false;
  /** Set when the session ended before a handler was installed; delivered by `setHandler`. */
  private pendingClose: { code: number; reason: string } | null = null;

  constructor(
    private readonly session: WebTransportSession,
    readonly remoteAddress: string,
    private readonly context: WtConnectionContext,
    /** The QUIC connection's admission ticket (released by the server when the connection is gone). */
    private readonly ticket: AdmissionTicket | null = null,
  ) {
    session.setHandler(this);
  }

  get kind(): TransportKind {
    return 'wt';
  }
  get framing(): Framing {
    return 'stream';
  }
  get supportsDatagrams(): boolean {
    return true;
  }
  get maxDatagramBytes(): number {
    return this.state === OPEN ? this.session.maxDatagramBytes : 0;
  }
  /** The WebTransport session id, for logs. */
  get sessionId(): number {
    return this.session.id;
  }

  /** Installs the handler (once). Bytes or a close that came first are delivered in order. */
  setHandler(handler: ConnectionHandler): void {
    if (this.handler !== null) throw new Error(`connection ${this.id}: handler already set`);
    if (this.pendingClose !== null) {
      this.handler = IGNORE_HANDLER;
      const { code, reason } = this.pendingClose;
      this.pendingClose = null;
      process.nextTick(() => handler.onClose(code, reason));
      return;
    }
    this.handler = handler;
    const early = this.early;
    this.early = [];
    for (const bytes of early) this.handler.onData(bytes);
  }

  /** Writes framed bytes on the frame stream; kept (bounded) until the client opens it. */
  write(bytes: Uint8Array): void {
    if (this.state !== OPEN) return;
    if (this.stream !== null) {
      this.stream.write(bytes);
      return;
    }
    if (this.pendingBytes + bytes.length > this.context.maxPendingBytes) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  writeDatagram(bytes: Uint8Array): boolean {
    if (this.state !== OPEN) return false;
    return this.session.sendDatagram(bytes);
  }

  bufferedAmount(): number {
    return this.stream !== null ? this.stream.bufferedAmount() : this.pendingBytes;
  }

  /**
   * Stops reading the frame stream: its bytes stay in QUIC's receive buffer and the client runs out of
   * flow-control credit (RFC 9000 §4.1). Datagrams keep arriving (QUIC gives them no flow control).
   */
  pauseReading(): void {
    this.readingPaused = true;
    this.stream?.pause();
  }

  resumeReading(): void {
    this.readingPaused = false;
    this.stream?.resume();
  }

  /**
   * Graceful close, a handshake like WebSocket's: FIN on the frame stream after what was written (the
   * session's Disconnect frame), then the session close capsule with `code` and `reason` once the
   * client has answered with its own FIN (it has read everything), or after the linger. Closing the
   * session at once would lose the Disconnect frame: on a session close both sides reset the
   * session's streams (draft-ietf-webtrans-http3 §6) and a browser drops what its page has not read
   * yet (W3C WebTransport, "cleanup"), and only the frame carries the reconnect advice. Idempotent.
   */
  close(code: number, reason: string): void {
    if (this.state !== OPEN) return;
    this.ticket?.closing(code);
    this.state = CLOSING;
    this.closeCode = code;
    this.closeReason = clampCloseReason(reason);
    const stream = this.stream;
    if (stream === null && this.pendingBytes === 0) {
      this.closeSession();
      return;
    }
    // With no frame stream yet (a refusal at admission), the Disconnect frame waits for the stream
    // the client opens next (`onBidiStream`), within the same linger.
    stream?.end();
    // One unref'd timer per closing connection, none at rest.
    this.linger = setTimeout(lingerExpired, this.context.closeLingerMs, this);
    this.linger.unref();
  }

  /** Abrupt close: reset the frame stream, close the session now; `onClose(0, '')` follows at once. */
  destroy(): void {
    if (this.state === CLOSED) return;
    this.stream?.reset(0);
    this.closeCode = 0;
    this.closeReason = '';
    this.closeSession();
    this.ended(0, '');
  }

  markAuthenticated(): void {
    this.ticket?.authenticated();
  }

  // --- SessionHandler ---------------------------------------------------------------------------

  /** The first client-opened bidi stream becomes the frame stream; any later one is refused. */
  onBidiStream(stream: WtBidiStream): void {
    if (this.stream !== null || this.state === CLOSED) {
      stream.reset(EXTRA_STREAM_ERROR_CODE);
      stream.stop(EXTRA_STREAM_ERROR_CODE);
      return;
    }
    this.stream = stream;
    if (this.readingPaused) stream.pause();
    stream.setHandler(this);
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const bytes of pending) stream.write(bytes);
    if (this.state === CLOSING) stream.end(); // a refusal's Disconnect frame, then the close handshake
  }

  /** Ferry uses no client uni streams (docs/protocol.md §2.3). */
  onUniStream(stream: WtReceiveStream): void {
    stream.stop(EXTRA_STREAM_ERROR_CODE);
  }

  onDatagram(bytes: Uint8Array): void {
    // Unreliable by nature: one that arrives before the session layer listens is simply lost.
    if (this.state === OPEN) this.handler?.onDatagram(bytes);
  }

  /** The session ended (close capsule from the peer, our own close completing, or the connection lost). */
  onClose(code: number, reason: string): void {
    this.ended(code, reason);
  }

  // --- StreamHandler (the frame stream) ---------------------------------------------------------

  onData(bytes: Uint8Array): void {
    if (this.state !== OPEN) return;
    if (this.handler === null) this.early.push(bytes);
    else this.handler.onData(bytes);
  }

  /**
   * The client finished its side of the frame stream: while we close, that is its answer (close the
   * session now); otherwise it is leaving and sends nothing more, so the connection is over.
   */
  onEnd(): void {
    if (this.state === CLOSING) {
      this.closeSession();
      return;
    }
    if (this.state !== OPEN) return;
    this.state = CLOSING;
    this.stream?.end();
    this.closeSession();
    this.ended(0, '');
  }

  /** The frame stream was reset (by the peer, or because the session went away): the connection is over. */
  onReset(): void {
    if (this.state === CLOSED) return;
    if (this.state === OPEN) {
      this.state = CLOSING;
      this.closeSession();
    }
    this.ended(0, '');
  }

  onDrain(): void {
    if (this.state === OPEN) this.handler?.onDrain();
  }

  /** @internal The close linger passed without the client's answer. */
  lingerExpired(): void {
    this.linger = null;
    this.closeSession();
  }

  private closeSession(): void {
    if (this.linger !== null) clearTimeout(this.linger);
    this.linger = null;
    this.session.close(this.closeCode, this.closeReason);
  }

  /** Reports the end exactly once. */
  private ended(code: number, reason: string): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    if (this.linger !== null) clearTimeout(this.linger);
    this.linger = null;
    this.pending = [];
    this.early = [];
    this.context.connectionClosed(this);
    const handler = this.handler;
    if (handler === null) {
      this.pendingClose = { code, reason };
      return;
    }
    this.handler = IGNORE_HANDLER;
    handler.onClose(code, reason);
  }
}

function lingerExpired(conn: WtConnection): void {
  conn.lingerExpired();
}
