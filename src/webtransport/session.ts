/**
 * A WebTransport session (draft-ietf-webtrans-http3 §3-§6): the CONNECT stream that established it,
 * the streams and datagrams tagged with its id, and its close handshake.
 *
 * Close (draft §6): the closing side sends CLOSE_WEBTRANSPORT_SESSION (u32 code + reason) in a DATA
 * frame and FINs the CONNECT stream; the other side answers with its own FIN. Either side resets the
 * session's streams (we use WT_SESSION_GONE). The session is over for Ferry once the CONNECT stream
 * is finished both ways, or after a grace period when the peer never answers.
 */
import type {
  AdmittedConnection,
  SessionHandler,
  SessionRequest,
  WebTransportLimits,
  WebTransportSession,
  WtBidiStream,
} from './api.js';
import {
  datagramHeaderSize,
  decodeCloseSession,
  encodeCloseSessionCapsule,
  writeDatagramHeader,
} from './capsules.js';
import {
  CAPSULE_CLOSE_WEBTRANSPORT_SESSION,
  CAPSULE_DATAGRAM,
  H3_REQUEST_REJECTED,
  WT_SESSION_GONE,
} from './constants.js';
import { encodeDataFrame, encodeWebTransportBidiHeader, encodeWebTransportUniHeader } from './h3-frames.js';
import type { QuicConnection } from './quic/connection.js';
import { WtStream, type StreamOwner } from './stream.js';

/** How long we wait for the peer's FIN on the CONNECT stream after our close capsule. */
const CLOSE_GRACE_MS = 3000;
/** Room for a datagram's Quarter Stream ID (RFC 9297 §2.1) and the largest QUIC datagram payload. */
const DATAGRAM_SCRATCH_BYTES = 65536 + 8;
const EMPTY = new Uint8Array(0);

/** Reused to build outgoing datagrams: quiche copies the bytes it queues. */
const datagramScratch = new Uint8Array(DATAGRAM_SCRATCH_BYTES);

/** What a session needs from its HTTP/3 connection. */
export interface SessionHost {
  readonly quic: QuicConnection;
  readonly limits: WebTransportLimits;
  /** Allocates the next locally-initiated stream id; throws when the peer's limit is reached. */
  allocateStreamId(bidi: boolean): number;
  /** Registers a stream we opened so its incoming bytes reach it. */
  attachStream(stream: WtStream): void;
  /** Forgets a finished stream. */
  detachStream(stream: WtStream): void;
  /**
   * The session is over (CONNECT stream finished both ways, or abandoned). `peerStillSending` when
   * we gave up waiting for the peer's FIN, so late bytes on the CONNECT stream must be dropped.
   */
  sessionEnded(session: WtSession, peerStillSending: boolean): void;
}

/** A session over one HTTP/3 connection; implements the public {@link WebTransportSession}. */
export class WtSession implements WebTransportSession, StreamOwner {
  readonly remoteAddress: string;
  private handler: SessionHandler | null = null;
  private readonly streams = new Map<number, WtStream>();
  /** Peer streams that arrived before `setHandler`, delivered when it is called. */
  private pending: [WtStream, boolean][] = [];
  private closeNotified = false;
  private localFinSent = false;
  private peerFinReceived = false;
  private ended = false;
  private graceExpired = false;
  private graceTimer: NodeJS.Timeout | null = null;

  constructor(
    /** The CONNECT stream's id (draft §2: the session id). */
    readonly id: number,
    readonly request: SessionRequest,
    private readonly host: SessionHost,
  ) {
    this.remoteAddress = request.remoteAddress;
  }

  get quic(): QuicConnection {
    return this.host.quic;
  }

  get admission(): AdmittedConnection | null {
    return this.host.quic.admission;
  }

  get maxDatagramBytes(): number {
    // RFC 9297 §2.1: the Quarter Stream ID prefix takes part of each QUIC DATAGRAM frame.
    return Math.max(0, this.host.quic.maxDatagramBytes - datagramHeaderSize(this.id));
  }

  /** True once either side started closing (or the connection went away). */
  get isClosed(): boolean {
    return this.closeNotified;
  }

  setHandler(handler: SessionHandler): void {
    this.handler = handler;
    const pending = this.pending;
    this.pending = [];
    for (const [stream, bidi] of pending) {
      if (this.closeNotified) break;
      if (bidi) handler.onBidiStream(stream);
      else handler.onUniStream(stream);
    }
  }

  openBidiStream(): WtBidiStream {
    return this.openStream(true);
  }

  openUniStream(): WtBidiStream {
    return this.openStream(false);
  }

  sendDatagram(bytes: Uint8Array): boolean {
    if (this.closeNotified || bytes.length + 8 > DATAGRAM_SCRATCH_BYTES) return false;
    const offset = writeDatagramHeader(datagramScratch, 0, this.id);
    datagramScratch.set(bytes, offset);
    return this.host.quic.sendDatagram(datagramScratch.subarray(0, offset + bytes.length));
  }

  close(code: number, reason: string): void {
    if (this.closeNotified) return;
    // draft §6: the capsule in a DATA frame, then FIN; the reason is cut to 1024 bytes by the encoder.
    this.host.quic.streamWrite(this.id, encodeDataFrame(encodeCloseSessionCapsule(code, reason)), true);
    this.localFinSent = true;
    this.finishClose(code >>> 0, reason);
    this.checkEnded();
  }

  // --- from the HTTP/3 connection ---------------------------------------------------------------

  /** A capsule arrived on the CONNECT stream (unknown types never get here). */
  onCapsule(type: number, value: Uint8Array): void {
    if (type === CAPSULE_CLOSE_WEBTRANSPORT_SESSION) {
      const { code, reason } = decodeCloseSession(value);
      this.peerClosed(code, reason);
    } else if (type === CAPSULE_DATAGRAM) {
      // RFC 9297 §3.5: a datagram sent as a capsule on the CONNECT stream.
      if (!this.closeNotified) this.handler?.onDatagram(value.slice());
    }
    // DRAIN_WEBTRANSPORT_SESSION (draft §4.6) is advisory: the application sees the close later.
  }

  /** The peer finished the CONNECT stream (clean FIN). */
  onConnectFin(): void {
    this.peerFinReceived = true;
    this.peerClosed(0, '');
    this.checkEnded();
  }

  /** The peer reset the CONNECT stream, or its data was malformed and we reset it (`code`). */
  onConnectAborted(code: number): void {
    this.peerFinReceived = true;
    if (!this.localFinSent) {
      this.localFinSent = true;
      this.host.quic.streamShutdown(this.id, 'write', code);
    }
    this.finishClose(0, '');
    this.checkEnded();
  }

  onDatagram(payload: Uint8Array): void {
    if (!this.closeNotified) this.handler?.onDatagram(payload);
  }

  /** A peer-opened stream with this session's id. Refused beyond `maxStreamsPerSession`. */
  addPeerStream(stream: WtStream, bidi: boolean): void {
    if (this.closeNotified || this.streams.size >= this.host.limits.maxStreamsPerSession) {
      stream.abort(this.closeNotified ? WT_SESSION_GONE : H3_REQUEST_REJECTED, false);
      return;
    }
    this.streams.set(stream.id, stream);
    if (this.handler === null) this.pending.push([stream, bidi]);
    else if (bidi) this.handler.onBidiStream(stream);
    else this.handler.onUniStream(stream);
  }

  /** The QUIC connection is closing or gone: the session ends now. */
  connectionLost(reason: string): void {
    this.localFinSent = true;
    this.peerFinReceived = true;
    this.finishClose(0, reason, false);
    this.checkEnded();
  }

  streamFinished(stream: WtStream): void {
    this.streams.delete(stream.id);
    this.host.detachStream(stream);
  }

  // --- internals --------------------------------------------------------------------------------

  private openStream(bidi: boolean): WtStream {
    if (this.closeNotified) throw new Error('WebTransport session is closed');
    if (this.streams.size >= this.host.limits.maxStreamsPerSession) {
      throw new Error(`WebTransport session has ${this.streams.size} open streams (limit)`);
    }
    const id = this.host.allocateStreamId(bidi);
    const stream = new WtStream(id, this, bidi, true, this.host.limits.maxStreamBufferBytes);
    this.streams.set(id, stream);
    this.host.attachStream(stream);
    // draft §4.1/§4.2: the preamble goes first; it is tiny and always fits the stream's credit.
    const preamble = bidi ? encodeWebTransportBidiHeader(this.id) : encodeWebTransportUniHeader(this.id);
    this.host.quic.streamWrite(id, preamble, false);
    return stream;
  }

  private peerClosed(code: number, reason: string): void {
    if (!this.localFinSent) {
      this.localFinSent = true;
      this.host.quic.streamWrite(this.id, EMPTY, true);
    }
    this.finishClose(code, reason);
  }

  /** Resets the streams and tells the application, once. */
  private finishClose(code: number, reason: string, connectionUp = true): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    for (const stream of [...this.streams.values()]) stream.abort(WT_SESSION_GONE, true);
    this.streams.clear();
    this.pending = [];
    if (connectionUp && !this.peerFinReceived) {
      this.graceTimer = setTimeout(() => this.onGraceExpired(), CLOSE_GRACE_MS);
      this.graceTimer.unref();
    }
    const handler = this.handler;
    this.handler = null;
    handler?.onClose(code, reason);
  }

  private onGraceExpired(): void {
    this.graceTimer = null;
    if (this.ended) return;
    // The peer never finished its side: stop reading it and end the session anyway.
    this.host.quic.streamShutdown(this.id, 'read', WT_SESSION_GONE);
    this.graceExpired = true;
    this.peerFinReceived = true;
    this.checkEnded();
  }

  private checkEnded(): void {
    if (this.ended || !this.localFinSent || !this.peerFinReceived) return;
    this.ended = true;
    if (this.graceTimer !== null) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.host.sessionEnded(this, this.graceExpired);
  }
}
