/**
 * HTTP/3 over one QUIC connection, as far as WebTransport needs it (RFC 9114, RFC 9204, RFC 9297,
 * draft-ietf-webtrans-http3), shared by server and client; the role-specific handling of the CONNECT
 * request lives in server.ts and client.ts.
 *
 * Streams: each readable QUIC stream has a sink. A peer stream starts with a {@link PreambleReader}
 * that decides what it is: control / QPACK streams (critical), unknown uni types (discarded), request
 * streams, or WebTransport streams routed to their session. WebTransport streams for a session that
 * does not exist yet are held unread (bounded, under flow control) until it does.
 *
 * Errors: codecs throw H3Error; this file catches them in one place per stream read and either
 * resets that stream (scope 'stream') or closes the connection with the error's code.
 */
import type { WebTransportLimits, WtLogger } from './api.js';
import { datagramHeaderLength, readDatagramSessionId } from './capsules.js';
import {
  FRAME_WEBTRANSPORT_STREAM,
  H3_ID_ERROR,
  H3_INTERNAL_ERROR,
  H3_STREAM_CREATION_ERROR,
  STREAM_CONTROL,
  STREAM_PUSH,
  STREAM_QPACK_DECODER,
  STREAM_QPACK_ENCODER,
  STREAM_WEBTRANSPORT_UNI,
  WT_BUFFERED_STREAM_REJECTED,
} from './constants.js';
import { H3Error } from './errors.js';
import { encodeControlStreamPreamble, encodeUniStreamType, type StreamHeader } from './h3-frames.js';
import { RequestStreamSink, type RequestStreamHost } from './h3-request.js';
import { ControlStreamSink, DiscardSink, PreambleReader, QpackStreamSink } from './h3-streams.js';
import type { HeaderField } from './qpack/decoder.js';
import type { QuicConnection, QuicConnectionHandler } from './quic/connection.js';
import { RECV_DONE, RECV_GONE, RECV_RESET, type QuicCloseInfo, type QuicStreamError } from './quic/engine.js';
import type { WtSession, SessionHost } from './session.js';
import {
  peerWebTransportSupport,
  serverSettings,
  type H3Settings,
  type PeerWebTransportSupport,
} from './settings.js';
import { WtStream, type StreamSink } from './stream.js';

/** RFC 9000 §20.1: NO_ERROR, the transport's code for a close without an error. */
const QUIC_NO_ERROR = 0x0;
/** One read buffer for every connection: processing is synchronous and sinks copy what they keep. */
const READ_BUFFER = new Uint8Array(65536);
/** Exact-size views for preamble reads (no per-read allocation). */
const READ_VIEWS: Uint8Array[] = Array.from({ length: 17 }, (_, n) => READ_BUFFER.subarray(0, n));
const EMPTY = new Uint8Array(0);

/** Settings shared by both roles. */
export interface H3ConnectionOptions {
  quic: QuicConnection;
  limits: WebTransportLimits;
  logger: WtLogger;
  /** The peer's IP address (for SessionRequest and logs). */
  remoteAddress: string;
}

/** A peer stream waiting for its session. */
interface BufferedStream {
  streamId: number;
  bidi: boolean;
  fin: boolean;
}

/** A sink that leaves a stream unread (a WebTransport stream waiting for its session). */
const HOLD_SINK: StreamSink = {
  paused: true,
  readLimit: 0,
  critical: false,
  onBytes: () => {},
  onReset: () => {},
};

/** The role-independent HTTP/3 connection; see the file comment. */
export abstract class H3Connection implements QuicConnectionHandler, RequestStreamHost, SessionHost {
  readonly quic: QuicConnection;
  readonly limits: WebTransportLimits;
  readonly maxHeaderBytes: number;
  readonly remoteAddress: string;
  protected readonly logger: WtLogger;
  protected readonly sessions = new Map<number, WtSession>();
  /** Session ids that ended or were refused: their late streams are rejected at once. */
  protected readonly deadSessions = new Set<number>();
  protected peerSettings: H3Settings | null = null;
  protected peerSupport: PeerWebTransportSupport | null = null;
  protected closing = false;
  private readonly sinks = new Map<number, StreamSink>();
  private readonly buffered = new Map<number, BufferedStream[]>();
  private bufferedCount = 0;
  private bufferTimer: NodeJS.Timeout | null = null;
  private nextBidi: number;
  private nextUni: number;
  private readonly peerUniSeen = new Set<number>();

  protected constructor(
    protected readonly isServer: boolean,
    options: H3ConnectionOptions,
  ) {
    this.quic = options.quic;
    this.limits = options.limits;
    this.logger = options.logger;
    this.remoteAddress = options.remoteAddress;
    this.maxHeaderBytes = options.limits.maxHeaderBytes;
    // RFC 9000 §2.1: the low bits of a stream id are initiator (0 client) and direction (2 uni).
    this.nextBidi = isServer ? 1 : 0;
    this.nextUni = isServer ? 3 : 2;
  }

  // --- role hooks ---------------------------------------------------------------------------------

  /** The handshake completed and our control and QPACK streams are open. */
  protected abstract afterEstablished(): void;
  /** The peer's SETTINGS arrived (checked for WebTransport support by the caller). */
  protected abstract afterPeerSettings(): void;
  abstract onHeaders(sink: RequestStreamSink, fields: HeaderField[]): void;
  abstract onHeadersTooLarge(sink: RequestStreamSink): void;
  abstract onRequestEnded(sink: RequestStreamSink): void;
  /** A peer-opened request stream (only servers accept them, RFC 9114 §6.1). */
  protected abstract acceptRequestStream(streamId: number): RequestStreamSink;
  /** The QUIC connection is closing or gone; sessions have been told. */
  protected abstract afterClosed(info: QuicCloseInfo): void;
  /** No sessions and no pending requests are left. */
  protected abstract onIdle(sessionEnded: boolean): void;

  // --- QuicConnectionHandler ---------------------------------------------------------------------

  onEstablished(): void {
    // RFC 9114 §6.2.1 and RFC 9204 §4.2: each side opens one control and one encoder/decoder stream.
    const settings = serverSettings({
      maxFieldSectionSize: this.limits.maxHeaderBytes,
      maxSessions: this.limits.maxSessionsPerConnection,
      greaseN: Math.floor(Math.random() * 0x10000),
    });
    this.quic.streamWrite(this.allocateStreamId(false), encodeControlStreamPreamble(settings), false);
    this.quic.streamWrite(this.allocateStreamId(false), encodeUniStreamType(STREAM_QPACK_ENCODER), false);
    this.quic.streamWrite(this.allocateStreamId(false), encodeUniStreamType(STREAM_QPACK_DECODER), false);
    this.afterEstablished();
  }

  onStreamReadable(streamId: number): void {
    let sink = this.sinks.get(streamId);
    if (sink === undefined) {
      if (this.isLocal(streamId) || this.closing) return;
      sink = new PreambleReader(streamId, (streamId & 2) !== 0, this);
      this.sinks.set(streamId, sink);
    }
    const quic = this.quic;
    try {
      for (;;) {
        sink = this.sinks.get(streamId);
        if (sink === undefined || sink.paused) return;
        const limit = sink.readLimit;
        const buf = limit > 0 && limit < READ_VIEWS.length ? (READ_VIEWS[limit] as Uint8Array) : READ_BUFFER;
        const n = quic.streamRecv(streamId, buf);
        if (n === RECV_DONE || n === RECV_GONE) return;
        if (n === RECV_RESET) {
          sink.onReset(quic.lastResetCode);
          this.dropSinkIfDone(streamId, sink);
          return;
        }
        const fin = quic.lastRecvFin;
        sink.onBytes(n === buf.length ? buf : buf.subarray(0, n), fin);
        if (fin) {
          this.dropSinkIfDone(streamId, sink);
          return;
        }
        // quiche fills the buffer while contiguous data lasts: a short read means none is left.
        if (limit === 0 && n < buf.length) return;
      }
    } catch (err) {
      this.onStreamFailure(streamId, sink, err);
    }
  }

  onDatagram(data: Uint8Array): void {
    // RFC 9297 §2.1: Quarter Stream ID, then the payload; unknown sessions' datagrams are dropped.
    let sessionId: number;
    try {
      sessionId = readDatagramSessionId(data);
    } catch (err) {
      if (err instanceof H3Error) this.closeConnection(err.code, err.message);
      return;
    }
    this.sessions.get(sessionId)?.onDatagram(data.subarray(datagramHeaderLength(data)));
  }

  onStreamWritable(streamId: number, buffered: number): void {
    const sink = this.sinks.get(streamId);
    if (sink instanceof WtStream) sink.onWritable(buffered);
  }

  onStreamSendError(streamId: number, err: QuicStreamError): void {
    const sink = this.sinks.get(streamId);
    if (sink instanceof WtStream) sink.onSendError(err.code);
    else if (sink instanceof RequestStreamSink) sink.session?.onConnectAborted(err.code);
  }

  onClosed(info: QuicCloseInfo): void {
    this.closing = true;
    if (this.bufferTimer !== null) clearTimeout(this.bufferTimer);
    this.bufferTimer = null;
    const reason = info.by === 'idle' ? 'idle timeout' : `connection closed (${info.by}): ${info.reason}`;
    for (const session of [...this.sessions.values()]) session.connectionLost(reason);
    this.sessions.clear();
    this.sinks.clear();
    this.buffered.clear();
    this.afterClosed(info);
  }

  onProcessError(err: unknown): void {
    this.logger.error({ err }, 'webtransport: unexpected error, closing the connection');
    this.closeConnection(H3_INTERNAL_ERROR, 'internal error');
  }

  // --- PreambleListener --------------------------------------------------------------------------

  onPreamble(streamId: number, header: StreamHeader, prefix: Uint8Array, fin: boolean): void {
    const uni = (streamId & 2) !== 0;
    if (!uni) {
      if (header.type === FRAME_WEBTRANSPORT_STREAM) {
        this.routeWtStream(streamId, header.sessionId, true, fin);
        return;
      }
      // RFC 9114 §6.1: a server-initiated bidirectional stream is H3_STREAM_CREATION_ERROR.
      if (!this.isServer) throw new H3Error(H3_STREAM_CREATION_ERROR, 'server-initiated request stream');
      const sink = this.acceptRequestStream(streamId);
      this.sinks.set(streamId, sink);
      sink.onBytes(prefix, fin);
      return;
    }
    let sink: StreamSink;
    switch (header.type) {
      case STREAM_WEBTRANSPORT_UNI:
        this.routeWtStream(streamId, header.sessionId, false, fin);
        return;
      case STREAM_CONTROL:
      case STREAM_QPACK_ENCODER:
      case STREAM_QPACK_DECODER:
        // RFC 9114 §6.2.1, RFC 9204 §4.2: a second stream of a critical type is a connection error.
        if (this.peerUniSeen.has(header.type)) {
          throw new H3Error(H3_STREAM_CREATION_ERROR, `second stream of type ${header.type}`);
        }
        this.peerUniSeen.add(header.type);
        sink =
          header.type === STREAM_CONTROL
            ? new ControlStreamSink(this)
            : new QpackStreamSink(header.type === 2);
        break;
      case STREAM_PUSH:
        // RFC 9114 §6.2.2: clients never push; we never sent MAX_PUSH_ID, so a server may not either.
        throw new H3Error(this.isServer ? H3_STREAM_CREATION_ERROR : H3_ID_ERROR, 'push stream');
      default:
        sink = new DiscardSink(() => this.sinks.delete(streamId));
    }
    this.sinks.set(streamId, sink);
    if (fin) sink.onBytes(EMPTY, true);
  }

  onPreambleAbandoned(streamId: number): void {
    this.sinks.delete(streamId);
  }

  // --- ControlStreamListener ---------------------------------------------------------------------

  onPeerSettings(settings: H3Settings): void {
    this.peerSettings = settings;
    this.peerSupport = peerWebTransportSupport(settings, !this.isServer);
    this.afterPeerSettings();
  }

  onGoaway(id: number): void {
    this.logger.debug({ id, peer: this.remoteAddress }, 'webtransport: peer sent GOAWAY');
  }

  // --- SessionHost -------------------------------------------------------------------------------

  allocateStreamId(bidi: boolean): number {
    if (this.quic.peerStreamsLeft(bidi) <= 0) {
      throw new Error(`peer stream limit reached (${bidi ? 'bidirectional' : 'unidirectional'})`);
    }
    const id = bidi ? this.nextBidi : this.nextUni;
    if (bidi) this.nextBidi += 4;
    else this.nextUni += 4;
    return id;
  }

  attachStream(stream: WtStream): void {
    this.sinks.set(stream.id, stream);
  }

  detachStream(stream: WtStream): void {
    if (this.sinks.get(stream.id) !== stream) return;
    // A receive side we stopped still gets the peer's RESET_STREAM: keep reading until it comes.
    const neverReadable = this.isLocal(stream.id) && (stream.id & 2) !== 0;
    if (stream.peerDone || neverReadable) this.sinks.delete(stream.id);
    else this.sinks.set(stream.id, new DiscardSink(() => this.sinks.delete(stream.id)));
    this.quic.releaseStream(stream.id);
  }

  sessionEnded(session: WtSession, peerStillSending: boolean): void {
    this.sessions.delete(session.id);
    this.deadSessions.add(session.id);
    // After a close grace expired the peer may still send on the CONNECT stream: drop it.
    if (peerStillSending) this.discardRequest(session.id);
    else this.sinks.delete(session.id);
    this.quic.releaseStream(session.id);
    if (!this.closing && this.sessions.size === 0 && !this.hasPendingRequests()) this.onIdle(true);
  }

  // --- helpers for the roles ---------------------------------------------------------------------

  /** Whether a CONNECT is still waiting for an answer. */
  protected abstract hasPendingRequests(): boolean;

  /** Registers the sink of a request stream we opened (client CONNECT). */
  protected attachRequest(sink: RequestStreamSink): void {
    this.sinks.set(sink.streamId, sink);
  }

  /** Replaces a refused request's sink so the rest of its stream is read and dropped. */
  protected discardRequest(streamId: number): void {
    this.sinks.set(streamId, new DiscardSink(() => this.sinks.delete(streamId)));
  }

  /** A session started on `session.id`: streams that waited for it are delivered. */
  protected sessionStarted(session: WtSession): void {
    this.sessions.set(session.id, session);
    const waiting = this.buffered.get(session.id);
    if (waiting === undefined) return;
    this.buffered.delete(session.id);
    this.bufferedCount -= waiting.length;
    for (const { streamId, bidi, fin } of waiting) this.deliverWtStream(session, streamId, bidi, fin);
  }

  /** `sessionId` will never be a session: streams that waited for it are refused. */
  protected sessionRefused(sessionId: number): void {
    this.deadSessions.add(sessionId);
    const waiting = this.buffered.get(sessionId);
    if (waiting === undefined) return;
    this.buffered.delete(sessionId);
    this.bufferedCount -= waiting.length;
    for (const entry of waiting) this.rejectWtStream(entry.streamId, entry.bidi);
  }

  /** Closes the QUIC connection with an HTTP/3 error code (RFC 9114 §8). */
  closeConnection(code: number, reason: string): void {
    if (!this.closing) this.logger.debug({ code, reason, peer: this.remoteAddress }, 'webtransport: closing');
    this.quic.close(true, code, reason);
  }

  /**
   * Closes an idle connection after the current turn, so a just-written FIN still leaves first.
   *
   * With the transport's NO_ERROR (RFC 9000 §20.1, a CONNECTION_CLOSE of type 0x1c), not HTTP/3's
   * H3_NO_ERROR (an application close, 0x1d). Chromium hands a session close it has read to the
   * page one task later (it posts the transition), while its FIN on the CONNECT stream leaves at
   * once; our close, sent when that FIN arrives, can get there before the posted task runs. An
   * application close reaching it then counts as a connection error, and the page sees
   * "Connection lost." instead of the session's code and reason; a transport NO_ERROR counts as a
   * clean close that keeps the code and reason it has already read (docs/protocol.md §2.3).
   */
  protected closeWhenIdle(): void {
    setImmediate(() => {
      if (!this.closing && this.sessions.size === 0 && !this.hasPendingRequests()) {
        this.logger.debug({ peer: this.remoteAddress }, 'webtransport: closing an idle connection');
        this.quic.close(false, QUIC_NO_ERROR, '');
      }
    });
  }

  // --- internals ---------------------------------------------------------------------------------

  private isLocal(streamId: number): boolean {
    return ((streamId & 1) === 1) === this.isServer;
  }

  private routeWtStream(streamId: number, sessionId: number, bidi: boolean, fin: boolean): void {
    const session = this.sessions.get(sessionId);
    if (session !== undefined) {
      this.deliverWtStream(session, streamId, bidi, fin);
      return;
    }
    // draft-ietf-webtrans-http3 §4.6: a stream may arrive before its CONNECT; buffer a few, briefly.
    if (this.deadSessions.has(sessionId) || this.bufferedCount >= this.limits.maxStreamsPerSession) {
      this.rejectWtStream(streamId, bidi);
      return;
    }
    let list = this.buffered.get(sessionId);
    if (list === undefined) this.buffered.set(sessionId, (list = []));
    list.push({ streamId, bidi, fin });
    this.bufferedCount++;
    this.sinks.set(streamId, HOLD_SINK);
    if (this.bufferTimer === null) {
      this.bufferTimer = setTimeout(() => this.expireBuffered(), this.limits.connectTimeoutMs);
      this.bufferTimer.unref();
    }
  }

  private deliverWtStream(session: WtSession, streamId: number, bidi: boolean, fin: boolean): void {
    const stream = new WtStream(streamId, session, true, bidi, this.limits.maxStreamBufferBytes);
    this.sinks.set(streamId, stream);
    if (fin) stream.markPeerFin();
    session.addPeerStream(stream, bidi);
  }

  private rejectWtStream(streamId: number, bidi: boolean): void {
    this.quic.streamShutdown(streamId, 'read', WT_BUFFERED_STREAM_REJECTED);
    if (bidi) this.quic.streamShutdown(streamId, 'write', WT_BUFFERED_STREAM_REJECTED);
    this.sinks.set(streamId, new DiscardSink(() => this.sinks.delete(streamId)));
  }

  private expireBuffered(): void {
    this.bufferTimer = null;
    for (const sessionId of [...this.buffered.keys()]) {
      const waiting = this.buffered.get(sessionId) ?? [];
      this.buffered.delete(sessionId);
      for (const entry of waiting) this.rejectWtStream(entry.streamId, entry.bidi);
    }
    this.bufferedCount = 0;
    this.quic.wake();
  }

  private dropSinkIfDone(streamId: number, sink: StreamSink): void {
    if (sink instanceof PreambleReader && this.sinks.get(streamId) === sink) this.sinks.delete(streamId);
  }

  /** The one place stream-level codec errors are turned into resets or a connection close. */
  private onStreamFailure(streamId: number, sink: StreamSink | undefined, err: unknown): void {
    if (!(err instanceof H3Error)) throw err; // a bug: QuicConnection closes with INTERNAL_ERROR
    if (err.scope === 'connection' || sink === undefined || sink.critical) {
      this.closeConnection(err.code, err.message);
      return;
    }
    this.logger.debug({ streamId, code: err.code, reason: err.message }, 'webtransport: stream error');
    this.quic.streamShutdown(streamId, 'read', err.code);
    this.quic.streamShutdown(streamId, 'write', err.code);
    this.sinks.set(streamId, new DiscardSink(() => this.sinks.delete(streamId)));
    if (sink instanceof WtStream) sink.abort(err.code, true);
    else if (sink instanceof RequestStreamSink) {
      if (sink.session !== null) sink.session.onConnectAborted(err.code);
      else if (sink.isPending) {
        sink.markDone();
        this.onRequestEnded(sink);
      }
    }
  }
}
