/**
 * The WebTransport server: a UDP endpoint accepting QUIC connections (ALPN h3), each driven as an
 * HTTP/3 connection that accepts extended CONNECT requests for WebTransport sessions.
 *
 * Request handling (RFC 9220 §3, draft-ietf-webtrans-http3 §3): the request is validated
 * (h3-request.ts), then — once the client's SETTINGS have shown WebTransport support (draft §3.1:
 * the server must not process a WebTransport request before them) — checked against the session cap
 * and `onSessionRequest`. Accepted: `:status 200` without FIN (QPACK `00 00 d9`) and the stream
 * becomes the session's capsule stream. Refused: `:status 4xx` with FIN (the rest of the request is
 * read and dropped). A connection without a session `connectTimeoutMs` after its first Initial
 * (so the QUIC handshake is bounded too), or without a session or pending request that long later,
 * is closed; when its last session ends it is closed at once, because Chromium drops connections
 * without a CONNECTION_CLOSE. `admitConnection` decides each connection before it exists.
 */
import type {
  SessionDecision,
  SessionRequest,
  WebTransportLimits,
  WebTransportServerOptions,
  WtLogger,
} from './api.js';
import { H3_NO_ERROR } from './constants.js';
import { H3Connection } from './h3-connection.js';
import { encodeHeadersFrame } from './h3-frames.js';
import { parseConnectRequest, RequestStreamSink } from './h3-request.js';
import type { HeaderField } from './qpack/decoder.js';
import { encodeFieldSection } from './qpack/encoder.js';
import type { QuicConnection } from './quic/connection.js';
import { transportConfig } from './quic/defaults.js';
import type { QuicCloseInfo, QuicEngine, QuicEngineConfig } from './quic/engine.js';
import { quicEngine } from './quic/engines.js';
import { nativeSocketStats, type NativeSocketStats } from './quic/native-engine.js';
import { QuicServerEndpoint } from './quic/server-endpoint.js';
import { WtSession } from './session.js';

/** Limits used where {@link WebTransportServerOptions.limits} leaves a field out. */
export const DEFAULT_LIMITS: Readonly<WebTransportLimits> = Object.freeze({
  maxSessionsPerConnection: 8,
  maxStreamsPerSession: 256,
  maxStreamBufferBytes: 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  maxConnections: 10_000,
});

const SILENT_LOGGER: WtLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** `:status 200`, the whole answer to an accepted CONNECT (RFC 9204 §4.5.2: static index 25). */
const STATUS_200_FRAME = encodeHeadersFrame(encodeFieldSection([[':status', '200']]));

/** Server-role HTTP/3: decides CONNECT requests. */
class ServerH3Connection extends H3Connection {
  private readonly pending = new Set<RequestStreamSink>();
  private waiting: [RequestStreamSink, SessionRequest][] = [];
  private connectTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: WebTransportServerOptions,
    limits: WebTransportLimits,
    logger: WtLogger,
    quic: QuicConnection,
  ) {
    super(true, { quic, limits, logger, remoteAddress: quic.remote.host });
    // From the first Initial: a handshake that never completes is held no longer than a CONNECT.
    this.armConnectTimer();
  }

  protected afterEstablished(): void {
    this.armConnectTimer();
  }

  protected afterPeerSettings(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const [sink, request] of waiting) this.decide(sink, request);
  }

  protected acceptRequestStream(streamId: number): RequestStreamSink {
    // The connect timer keeps running: only a started session proves the client is real.
    const sink = new RequestStreamSink(streamId, this);
    this.pending.add(sink);
    return sink;
  }

  onHeaders(sink: RequestStreamSink, fields: HeaderField[]): void {
    const parsed = parseConnectRequest(fields, this.remoteAddress);
    if ('status' in parsed) {
      this.refuse(sink, parsed.status, parsed.message);
      return;
    }
    if (this.peerSupport === null) {
      // Requests ahead of SETTINGS wait, but no more of them than sessions could be accepted.
      if (this.waiting.length >= this.limits.maxSessionsPerConnection) {
        this.refuse(sink, 429, 'too many requests before SETTINGS');
        return;
      }
      sink.markWaiting();
      this.waiting.push([sink, parsed]);
      return;
    }
    this.decide(sink, parsed);
  }

  onHeadersTooLarge(sink: RequestStreamSink): void {
    // RFC 9114 §4.2.2: 431 Request Header Fields Too Large; the connection is unaffected.
    this.refuse(sink, 431, 'request header section too large');
  }

  onRequestEnded(sink: RequestStreamSink): void {
    this.pending.delete(sink);
    this.waiting = this.waiting.filter(([s]) => s !== sink);
    this.sessionRefused(sink.streamId);
    this.idleCheck();
  }

  protected hasPendingRequests(): boolean {
    return this.pending.size > 0;
  }

  protected onIdle(sessionEnded: boolean): void {
    if (sessionEnded) this.closeWhenIdle();
    else this.armConnectTimer();
  }

  protected afterClosed(info: QuicCloseInfo): void {
    this.clearConnectTimer();
    this.pending.clear();
    this.waiting = [];
    this.logger.debug({ peer: this.remoteAddress, ...info }, 'webtransport: connection closed');
  }

  private decide(sink: RequestStreamSink, request: SessionRequest): void {
    if (!sink.isPending || this.closing) return;
    // draft-ietf-webtrans-http3 §3.1: the client must have enabled WebTransport and datagrams.
    if (this.peerSupport?.webTransport !== true) {
      this.refuse(sink, 400, 'client SETTINGS do not enable WebTransport');
      return;
    }
    if (this.sessions.size >= this.limits.maxSessionsPerConnection) {
      this.refuse(sink, 429, 'too many sessions on this connection');
      return;
    }
    let decision: SessionDecision;
    try {
      decision = this.options.onSessionRequest?.(request) ?? { status: 200 };
    } catch (err) {
      this.logger.error({ err }, 'webtransport: onSessionRequest threw');
      decision = { status: 500 };
    }
    if (decision.status !== 200) {
      const reason = 'reason' in decision && decision.reason !== undefined ? decision.reason : 'refused';
      this.refuse(sink, decision.status, reason);
      return;
    }
    this.pending.delete(sink);
    this.clearConnectTimer();
    this.quic.streamWrite(sink.streamId, STATUS_200_FRAME, false);
    const session = new WtSession(sink.streamId, request, this);
    sink.startSession(session);
    this.sessionStarted(session);
    this.logger.debug(
      { peer: this.remoteAddress, path: request.path, id: session.id },
      'webtransport: session',
    );
    this.options.onSession(session);
  }

  private refuse(sink: RequestStreamSink, status: number, message: string): void {
    const streamId = sink.streamId;
    sink.markDone();
    this.pending.delete(sink);
    this.logger.debug({ peer: this.remoteAddress, status, message }, 'webtransport: CONNECT refused');
    const code = status >= 100 && status <= 599 ? Math.trunc(status) : 500;
    this.quic.streamWrite(
      streamId,
      encodeHeadersFrame(encodeFieldSection([[':status', String(code)]])),
      true,
    );
    // RFC 9114 §4.1.1 would allow STOP_SENDING(H3_NO_ERROR) here, but Chromium 156 then reports
    // ERR_QUIC_PROTOCOL_ERROR instead of the refusal; read and drop the rest of the request instead.
    this.discardRequest(streamId);
    this.sessionRefused(streamId);
    this.idleCheck();
  }

  private idleCheck(): void {
    if (!this.closing && this.sessions.size === 0 && this.pending.size === 0) this.onIdle(false);
  }

  /** Closes the connection unless a session starts within connectTimeoutMs (kept if already armed). */
  private armConnectTimer(): void {
    if (this.connectTimer !== null || this.closing) return;
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (this.sessions.size === 0) {
        this.quic.admission?.handshakeTimedOut?.();
        // RFC 9114 §5.2: closing an idle connection is not an error.
        this.closeConnection(H3_NO_ERROR, 'no WebTransport session requested in time');
      }
    }, this.limits.connectTimeoutMs);
    this.connectTimer.unref();
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }
}

/**
 * A WebTransport server; see the file comment. Construct, then {@link listen}. The certificate can be
 * swapped at any time (rotation): new QUIC connections get the new one, existing ones keep theirs.
 */
export class WebTransportServer {
  /** Effective limits (defaults merged with the options). */
  readonly limits: Readonly<WebTransportLimits>;
  private readonly logger: WtLogger;
  private endpoint: QuicServerEndpoint | null = null;
  private config: QuicEngineConfig;
  private closing: Promise<void> | null = null;
  private readonly engine: QuicEngine;

  /** Validates the certificate and key at once (throws if the engine rejects them or is unavailable). */
  constructor(private readonly options: WebTransportServerOptions) {
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...options.limits });
    this.logger = options.logger ?? SILENT_LOGGER;
    this.engine = quicEngine(options.engine ?? 'matrixai');
    this.config = this.buildConfig(options.certPem, options.keyPem);
  }

  /** Binds UDP `host:port` (port 0 picks a free one) and starts accepting; resolves to the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.endpoint !== null || this.closing !== null)
      throw new Error('WebTransportServer.listen() called twice');
    const { options, limits, logger } = this;
    this.endpoint = await QuicServerEndpoint.listen({
      host: options.host,
      port: options.port,
      engine: this.engine,
      config: this.config,
      retry: options.retry ?? true,
      maxConnections: limits.maxConnections,
      ...(options.admitConnection !== undefined ? { admit: options.admitConnection } : {}),
      logger,
      onConnection: (quic) => {
        quic.handler = new ServerH3Connection(options, limits, logger, quic);
      },
    });
    return this.address;
  }

  /** Serves this certificate/key pair to new connections from now on. Throws if they are unusable. */
  setCertificate(certPem: string, keyPem: string): void {
    this.config = this.buildConfig(certPem, keyPem);
    this.endpoint?.setConfig(this.config);
  }

  /** The QUIC engine in use ('matrixai' or 'native'). */
  get engineName(): string {
    return this.engine.name;
  }

  /**
   * Counters of the UDP socket when the engine owns it (the native engine reads, routes and writes
   * datagrams in its addon); null on node:dgram (the matrixai engine) or before `listen`.
   */
  get engineSocketStats(): NativeSocketStats | null {
    return nativeSocketStats(this.endpoint?.engineSocket ?? null);
  }

  /** The bound UDP address (port 0 before `listen`). */
  get address(): { host: string; port: number } {
    return this.endpoint === null ? { host: this.options.host, port: 0 } : { ...this.endpoint.address };
  }

  /** Live QUIC connections, including ones still handshaking or closing. */
  get connectionCount(): number {
    return this.endpoint?.connectionCount ?? 0;
  }

  /**
   * Closes every connection (CONNECTION_CLOSE H3_NO_ERROR; sessions see `onClose`) and the socket.
   * Idempotent. Close sessions first for a per-session code and reason.
   */
  close(): Promise<void> {
    this.closing ??= this.endpoint?.close(H3_NO_ERROR, 'server shutting down') ?? Promise.resolve();
    return this.closing;
  }

  private buildConfig(certPem: string, keyPem: string): QuicEngineConfig {
    return this.engine.createConfig(transportConfig(this.limits, { certPem, keyPem, verifyPeer: false }));
  }
}
