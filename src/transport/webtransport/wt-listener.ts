import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type {
  CertificateSource,
  ConnectionAdmission,
  ServingCertificate,
  SessionDecision,
  SessionRequest,
  WebTransportLimits,
  WebTransportServerOptions,
  WebTransportSession,
} from '../../webtransport/index.js';
import { AdmissionTicket, REFUSALS, type Admission } from '../admission.js';
import { normalizeRemoteAddress } from '../listener-support.js';
import type { ConnectionCallback, Listener, TransportKind } from '../transport.js';
import { WtConnection, type WtConnectionContext } from './wt-connection.js';

/** The part of the engine's WebTransport server this listener drives (src/webtransport/server.ts). */
export interface WtServerHandle {
  /** Binds the UDP socket; port 0 resolves to the real port. */
  listen(): Promise<{ host: string; port: number }>;
  /** Serves this pair to new QUIC connections from now on (certificate rotation). */
  setCertificate(certPem: string, keyPem: string): void;
  /** Closes every QUIC connection and the socket. */
  close(): Promise<void>;
}

/** Creates the engine's server; gateway.ts passes the real one, unit tests a fake. */
export type WtServerFactory = (opts: WebTransportServerOptions) => WtServerHandle;

/** Options of a WebTransport listener. */
export interface WebTransportListenerOptions {
  host: string;
  port: number;
  /** The only path a session may be opened on (default '/wt'); others get 404. The query is ignored. */
  path?: string;
  /**
   * Origins allowed to open sessions, compared case-insensitively; empty = any. A request without
   * Origin (a non-browser client) is always allowed, as on the WebSocket listener.
   */
  allowedOrigins?: string[];
  /** Development (rotating, hashes published) or CA-issued certificate. */
  certificates: CertificateSource;
  createServer: WtServerFactory;
  limits?: Partial<WebTransportLimits>;
  /** How long a graceful close waits for the frame stream to flush (default 2 s). */
  closeLingerMs?: number;
  /**
   * Admits every QUIC connection before its handshake (the node's shared admission); absent = no caps.
   * The handshake deadline is `limits.connectTimeoutMs` (the gateway sets it to the admission's).
   */
  admission?: Admission;
  /** Called synchronously for each accepted session. */
  onConnection: ConnectionCallback;
  logger: Logger;
  metrics?: Metrics;
}

/** What a connection may hold for a client that has not opened its frame stream yet. */
const MAX_PENDING_BYTES = 64 * 1024;

/**
 * WebTransport listener (HTTP/3 over QUIC, UDP): each accepted session becomes a `WtConnection` handed
 * to `onConnection`. This class decides each extended CONNECT: wrong path -> 404, disallowed Origin ->
 * 403, draining -> 503. It keeps the engine's certificate in step with the certificate source.
 *
 * `stopAccepting` keeps the UDP socket open, because every existing session lives on it; new sessions
 * are refused with 503 from then on.
 */
export class WebTransportListener implements Listener {
  readonly kind: TransportKind = 'wt';
  private readonly path: string;
  private readonly allowedOrigins: Set<string>;
  private readonly connections = new Set<WtConnection>();
  private readonly context: WtConnectionContext;
  private server: WtServerHandle | null = null;
  private unsubscribe: (() => void) | null = null;
  private accepting = true;
  private closing: Promise<void> | null = null;

  constructor(private readonly opts: WebTransportListenerOptions) {
    this.path = opts.path ?? '/wt';
    this.allowedOrigins = new Set((opts.allowedOrigins ?? []).map((o) => o.toLowerCase()));
    const connections = this.connections;
    this.context = {
      closeLingerMs: opts.closeLingerMs ?? 2000,
      maxPendingBytes: MAX_PENDING_BYTES,
      connectionClosed: (conn) => void connections.delete(conn),
    };
  }

  /** Open sessions. */
  get size(): number {
    return this.connections.size;
  }

  /** Creates the engine's server with the current certificate and binds the UDP port. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.server !== null) throw new Error('WebTransportListener.listen() called twice');
    const { opts } = this;
    const cert = opts.certificates.current();
    const server = opts.createServer({
      host: opts.host,
      port: opts.port,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      ...(opts.limits !== undefined ? { limits: opts.limits } : {}),
      logger: opts.logger,
      ...(opts.admission !== undefined
        ? { admitConnection: (address) => this.admitConnection(address) }
        : {}),
      onSessionRequest: (req) => this.decide(req),
      onSession: (session) => this.serverOnSession(session),
    });
    this.server = server;
    this.unsubscribe = opts.certificates.onRotate((next) => this.certificateRotated(next));
    const address = await server.listen();
    opts.logger.info(
      { ...address, path: this.path, ca: opts.certificates.ca, sha256: cert.hash.hex },
      'webtransport listener started',
    );
    return address;
  }

  /** New sessions are refused with 503 from now on; open ones stay. Idempotent. */
  stopAccepting(): Promise<void> {
    this.accepting = false;
    return Promise.resolve();
  }

  /** Stops accepting, destroys every connection (each gets onClose(0, '')), closes the server. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    await this.stopAccepting();
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const conn of [...this.connections]) conn.destroy();
    await this.server?.close();
  }

  /**
   * A new QUIC connection, before its handshake: counted per IP and in total like any client socket
   * (no descriptor of its own). A refused client reads the Ferry code in the CONNECTION_CLOSE reason.
   */
  private admitConnection(address: string): ConnectionAdmission {
    const ticket = this.opts.admission!.admit('wt', normalizeRemoteAddress(address), false);
    if (typeof ticket !== 'string') return ticket;
    const { code, reason } = REFUSALS[ticket];
    return { refused: `${code} ${reason}` };
  }

  /** The CONNECT decision (path, origin, draining), made before the engine answers the request. */
  private decide(req: SessionRequest): SessionDecision {
    if (pathOf(req.path) !== this.path) return this.refuse(404, 'path', req);
    const origin = req.origin;
    if (this.allowedOrigins.size > 0 && origin !== '' && !this.allowedOrigins.has(origin.toLowerCase())) {
      return this.refuse(403, 'origin', req);
    }
    if (!this.accepting || this.closing !== null) return this.refuse(503, 'draining', req);
    return { status: 200 };
  }

  private refuse(status: number, reason: string, req: SessionRequest): SessionDecision {
    this.opts.metrics?.connectionsRefused.inc({ transport: 'wt', reason });
    this.opts.logger.debug(
      { status, reason, path: req.path, origin: req.origin, remoteAddress: req.remoteAddress },
      'webtransport session refused',
    );
    return { status, reason };
  }

  private serverOnSession(session: WebTransportSession): void {
    if (this.closing !== null) {
      session.close(0, 'server closing');
      return;
    }
    const ticket = session.admission instanceof AdmissionTicket ? session.admission : null;
    const conn = new WtConnection(
      session,
      normalizeRemoteAddress(session.remoteAddress),
      this.context,
      ticket,
    );
    this.connections.add(conn);
    try {
      this.opts.onConnection(conn);
    } catch (err) {
      this.opts.logger.error({ err, conn: conn.id }, 'onConnection threw; connection destroyed');
      conn.destroy();
    }
  }

  private certificateRotated(cert: ServingCertificate): void {
    this.server?.setCertificate(cert.certPem, cert.keyPem);
    this.opts.logger.info(
      { sha256: cert.hash.hex, notAfter: cert.hash.notAfter },
      'webtransport certificate switched for new connections',
    );
  }
}

function pathOf(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}
