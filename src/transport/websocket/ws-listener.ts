import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import {
  handleServerErrors,
  listenOn,
  loadTlsMaterial,
  normalizeRemoteAddress,
  SocketTracker,
  stopServer,
  type TlsMaterial,
} from '../listener-support.js';
import type { ConnectionCallback, Listener, TransportKind } from '../transport.js';
import { WsConnection, type WsConnectionHooks } from './ws-connection.js';
import { Admission, REFUSAL_RECONNECT_DELAY_MS, REFUSALS, type AdmissionRefusal } from '../admission.js';

/** Options of a WebSocket listener. */
export interface WebSocketListenerOptions {
  host: string;
  port: number;
  /** The only path that upgrades (default '/ws'); anything else gets HTTP 404. The query is ignored. */
  path?: string;
  /**
   * Origins allowed to connect, compared case-insensitively with the `Origin` header; empty = any.
   * A handshake without `Origin` is always allowed: browsers always send it (RFC 6455 §4.1), so the
   * check still stops foreign web pages, while devices and servers that never send it can connect.
   */
  allowedOrigins?: string[];
  /** PEM contents or paths (see `TlsMaterial`); null = plain ws://. */
  tls: TlsMaterial | null;
  /** Ferry's frame size limit (`limits.maxFrameBytes`). */
  maxPayloadBytes: number;
  /** How long a graceful close waits for the peer's close frame before destroying (default 5 s). */
  closeLingerMs?: number;
  /**
   * Admits every accepted socket before any TLS or HTTP work (the node's shared admission) and
   * carries the handshake deadline (TLS, HTTP request, upgrade); absent = no caps and a 10 s deadline.
   */
  admission?: Admission;
  /** Called synchronously for each upgraded connection. */
  onConnection: ConnectionCallback;
  logger: Logger;
  metrics?: Metrics;
}

/** Longest period of Node's own HTTP timeout check (its default, 30 s, would let a slow request live that long). */
const MAX_CHECKING_INTERVAL_MS = 1000;
/**
 * Caps on ws's reassembly state per connection: a peer that sends a message as thousands of tiny
 * fragments or TCP segments would otherwise hold one Buffer object per piece (ws defaults: 16384
 * fragments, 262144 chunks). Real clients send a frame as one fragment in a handful of segments.
 */
const MAX_FRAGMENTS = 128;
const MAX_BUFFERED_CHUNKS = 1024;

/**
 * WebSocket listener: a plain `net.Server` accepts, admission decides each socket before any TLS or
 * HTTP work (over a cap: HTTP 429 or 503 with Retry-After on a plain socket, a bare close on a TLS
 * one), and admitted sockets are handed to a non-listening node http/https server under the
 * admission's handshake deadline, which ends when the upgrade completes. `ws` runs in `noServer`
 * mode so this class decides each upgrade: wrong path -> 404, disallowed Origin -> 403, while
 * draining -> 503, plain HTTP request -> 426 (404 off the path). Each accepted upgrade becomes a
 * `WsConnection` handed to `onConnection`.
 *
 * No permessage-deflate: a zlib context costs far more memory than an idle connection is allowed
 * (target <= 10 KB RSS each), and frames are small protobuf.
 *
 * Message size: ws's `maxPayload` is max(2 x maxPayloadBytes, maxPayloadBytes + 1 KiB). A message a
 * little over Ferry's limit still reaches the session, which closes with the documented 4501
 * FRAME_TOO_LARGE after a Disconnect frame; only a grossly oversized one is cut by ws itself with
 * 1009 (Message Too Big) before it is buffered, which is also what a client sees from any ws server.
 */
export class WebSocketListener implements Listener {
  readonly kind: TransportKind = 'ws';
  private readonly path: string;
  private readonly allowedOrigins: Set<string>;
  private readonly wss: WebSocketServer;
  private readonly sockets = new SocketTracker();
  private readonly hooks: WsConnectionHooks;
  private readonly admission: Admission;
  private server: net.Server | null = null;
  private http: http.Server | https.Server | null = null;
  private accepting = true;
  private stopped: { allClosed: Promise<void> } | null = null;

  constructor(private readonly opts: WebSocketListenerOptions) {
    this.path = opts.path ?? '/ws';
    this.allowedOrigins = new Set((opts.allowedOrigins ?? []).map((o) => o.toLowerCase()));
    const wsOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: Math.max(2 * opts.maxPayloadBytes, opts.maxPayloadBytes + 1024),
      maxFragments: MAX_FRAGMENTS,
      maxBufferedChunks: MAX_BUFFERED_CHUNKS,
      // ws arms this timer only while a close handshake is in progress: the close linger.
      closeTimeout: opts.closeLingerMs ?? 5000,
    };
    this.wss = new WebSocketServer(wsOptions);
    this.admission = opts.admission ?? new Admission({}, opts.metrics);
    const { logger, metrics } = opts;
    this.hooks = {
      onProtocolError: (conn, err) => {
        const code = (err as { code?: string }).code ?? 'WS_ERR';
        logger.debug({ conn: conn.id, err: err.message, code }, 'websocket protocol error');
        metrics?.disconnects.inc({ code: String(wsErrorCloseCode(code)), name: code });
      },
    };
  }

  /** Loads TLS material if configured, creates the servers and binds the port. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.server !== null) throw new Error('WebSocketListener.listen() called twice');
    const { opts } = this;
    const deadline = this.admission.limits.handshakeTimeoutMs;
    // The admission deadline is exact; Node's own header/request timeouts are a second line, checked
    // often enough to hold near the configured value.
    const serverOptions = {
      headersTimeout: deadline,
      requestTimeout: deadline,
      connectionsCheckingInterval: Math.min(MAX_CHECKING_INTERVAL_MS, Math.max(50, Math.floor(deadline / 4))),
    };
    const httpServer =
      opts.tls === null
        ? http.createServer(serverOptions)
        : https.createServer({ ...serverOptions, ...(await loadTlsMaterial(opts.tls)) });
    this.http = httpServer;
    httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => this.serverOnRequest(req, res));
    httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.serverOnUpgrade(req, socket, head),
    );
    httpServer.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) =>
      this.serverOnClientError(err, socket),
    );
    httpServer.on('tlsClientError', (err: Error, socket: Socket) => {
      opts.logger.debug({ err: err.message }, 'tls handshake failed');
      const ticket = this.sockets.handshakeDone(socket);
      if (ticket !== null && !ticket.timedOut) this.refused('tls');
    });
    // Node starts tracking connections for its timeouts on 'listening'; this server never listens
    // itself (sockets are injected), so it is told once here.
    httpServer.emit('listening');
    const server = net.createServer({ noDelay: true });
    server.on('connection', (socket: Socket) => this.serverOnSocket(socket));
    this.server = server;
    const errors = handleServerErrors(server, 'ws', opts.logger, opts.metrics);
    const address = await listenOn(server, errors, opts.host, opts.port);
    opts.logger.info({ ...address, path: this.path, tls: opts.tls !== null }, 'websocket listener started');
    return address;
  }

  /** Closes the listening socket; open connections stay. Upgrades that still arrive get 503. */
  stopAccepting(): Promise<void> {
    this.accepting = false;
    if (this.server !== null && this.stopped === null) this.stopped = stopServer(this.server);
    return Promise.resolve();
  }

  /** Stops accepting, destroys every connection (each gets onClose 1006), and waits for the server. */
  async close(): Promise<void> {
    await this.stopAccepting();
    this.sockets.destroyAll();
    // Stops Node's timeout check (the server never listened: its close reports that, harmlessly).
    this.http?.close(ignore);
    await this.stopped?.allClosed;
  }

  private serverOnSocket(socket: Socket): void {
    // The peer may have reset between accept and this event; remoteAddress is then undefined.
    const remoteAddress = socket.remoteAddress;
    if (socket.destroyed || remoteAddress === undefined || this.http === null) {
      socket.destroy();
      return;
    }
    const ticket = this.admission.admit('ws', normalizeRemoteAddress(remoteAddress), true);
    if (typeof ticket === 'string') {
      // Plain HTTP: answered before the request is read. TLS: closed before any handshake work.
      if (this.opts.tls === null) this.admission.refuseSocket(socket, refusalResponse(ticket), ticket);
      else socket.destroy();
      return;
    }
    this.sockets.add(socket, ticket, true);
    ticket.startDeadline(this.opts.tls === null ? httpOnHandshakeTimeout : destroySocket, socket);
    this.http.emit('connection', socket);
  }

  private serverOnRequest(req: IncomingMessage, res: ServerResponse): void {
    const onPath = pathOf(req.url) === this.path;
    this.refused(onPath ? 'not_upgrade' : 'path');
    const status = onPath ? 426 : 404;
    const body = onPath ? 'This endpoint only speaks WebSocket.\n' : 'Not found.\n';
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      // RFC 9110 §15.5.22: a 426 names the protocol to upgrade to. The client asked for the wrong thing on
      // this connection, so it is closed rather than kept alive.
      ...(onPath ? { Upgrade: 'websocket', Connection: 'Upgrade, close' } : {}),
    });
    res.end(body);
  }

  private serverOnUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node removed its own listeners from an upgraded socket: without this an ECONNRESET would throw.
    socket.on('error', destroyOnError);
    if (pathOf(req.url) !== this.path) return this.refuseUpgrade(socket, 404, 'path');
    const origin = req.headers.origin;
    if (
      this.allowedOrigins.size > 0 &&
      origin !== undefined &&
      !this.allowedOrigins.has(origin.toLowerCase())
    ) {
      this.opts.logger.debug({ origin }, 'websocket origin refused');
      return this.refuseUpgrade(socket, 403, 'origin');
    }
    if (!this.accepting) return this.refuseUpgrade(socket, 503, 'draining');
    const remoteAddress = normalizeRemoteAddress(req.socket.remoteAddress);
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      socket.removeListener('error', destroyOnError);
      // The upgrade is complete: the session's auth deadline takes over from the handshake deadline.
      const ticket = this.sockets.handshakeDone(req.socket);
      if (ticket === null) {
        ws.terminate();
        return;
      }
      const conn = new WsConnection(ws, socket, remoteAddress, this.hooks, ticket);
      try {
        this.opts.onConnection(conn);
      } catch (err) {
        this.opts.logger.error({ err, conn: conn.id }, 'onConnection threw; connection destroyed');
        conn.destroy();
      }
    });
  }

  private serverOnClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    // Replaces Node's default answer (which is the same), so that bad HTTP is counted. A reset is a
    // client going away (browsers drop idle keep-alive connections), not bad input.
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    this.refused(err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'handshake_timeout' : 'bad_http');
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    respondAndClose(socket, status, '');
  }

  private refuseUpgrade(socket: Duplex, status: number, reason: string): void {
    this.refused(reason);
    respondAndClose(socket, status, `${STATUS_CODES[status] ?? ''}\n`);
  }

  private refused(reason: string): void {
    this.admission.refused('ws', reason);
  }
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Writes a minimal HTTP/1.1 response on a raw socket and destroys it once written. */
function respondAndClose(socket: Duplex, status: number, body: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', socket.destroy);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}

function ignore(): void {}

/**
 * The handshake deadline of a plain HTTP socket passed (a request or upgrade never completed): 408
 * when nothing else is being written (every response here is written at once), then close.
 */
function httpOnHandshakeTimeout(socket: Duplex): void {
  if (socket.writableLength === 0) respondAndClose(socket, 408, '');
  else socket.destroy();
}

/** The raw HTTP answer to a socket refused at admission (docs/protocol.md §6.2). */
function refusalResponse(refusal: AdmissionRefusal): string {
  const { httpStatus, code, reason } = REFUSALS[refusal];
  const body = `${code} ${reason}\n`;
  return (
    `HTTP/1.1 ${httpStatus} ${STATUS_CODES[httpStatus] ?? ''}\r\n` +
    `Retry-After: ${Math.ceil(REFUSAL_RECONNECT_DELAY_MS / 1000)}\r\n` +
    'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** The close code ws sends for each of its receiver errors (ws lib/receiver.js). */
function wsErrorCloseCode(code: string): number {
  switch (code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return 1009;
    case 'WS_ERR_INVALID_UTF8':
      return 1007;
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return 1008;
    default:
      return 1002;
  }
}
