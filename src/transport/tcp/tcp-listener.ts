import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
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
import { Admission, type AdmissionRefusal, type AdmissionTicket } from '../admission.js';
import { TcpConnection, type TcpConnectionContext } from './tcp-connection.js';

/** Options of a raw TCP listener. */
export interface TcpListenerOptions {
  host: string;
  port: number;
  /** PEM contents or paths (see `TlsMaterial`); null = plain TCP. */
  tls: TlsMaterial | null;
  /** How long a graceful close waits for the flush and the peer's FIN before destroying (default 5 s). */
  closeLingerMs?: number;
  /**
   * Admits every accepted socket before any TLS work (the node's shared admission); absent = no caps,
   * and a 10 s TLS handshake deadline.
   */
  admission?: Admission;
  /**
   * The framed Disconnect a plain-TCP socket refused at admission gets before FIN (4007 or 4008);
   * absent = closed without one. TLS sockets are refused before the handshake, without an answer.
   */
  refusalFrame?: (refusal: AdmissionRefusal) => Uint8Array;
  /** Called synchronously for each accepted (for TLS: handshaken) connection. */
  onConnection: ConnectionCallback;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * TCP keepalive probes find peers that vanished without a FIN or RST (NAT timeouts, pulled cables)
 * on connections whose session is idle; the session's own heartbeats do the same at the
 * application level, so this only has to be well below typical NAT idle timeouts.
 */
const KEEPALIVE_INITIAL_DELAY_MS = 60_000;

/**
 * Raw TCP listener (optionally TLS): u32-BE length-prefixed frames on a byte stream. Nagle is off so a
 * small frame leaves at once. The listener owns a plain `net.Server`: each accepted socket is admitted
 * first (per-IP and global caps, file descriptors; a refused plain socket gets a Disconnect frame),
 * then, for TLS, handed to a non-listening `tls.Server` under the admission's handshake deadline.
 * Each ready socket becomes a `TcpConnection` handed to `onConnection`.
 */
export class TcpListener implements Listener {
  readonly kind: TransportKind = 'tcp';
  private readonly sockets = new SocketTracker();
  private readonly context: TcpConnectionContext;
  private readonly admission: Admission;
  private server: net.Server | null = null;
  private tlsServer: tls.Server | null = null;
  private stopped: { allClosed: Promise<void> } | null = null;

  constructor(private readonly opts: TcpListenerOptions) {
    this.context = { closeLingerMs: opts.closeLingerMs ?? 5000 };
    this.admission = opts.admission ?? new Admission({}, opts.metrics);
  }

  /** Loads TLS material if configured, creates the server and binds it. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.server !== null) throw new Error('TcpListener.listen() called twice');
    const { opts } = this;
    if (opts.tls !== null) {
      const tlsServer = tls.createServer(await loadTlsMaterial(opts.tls));
      tlsServer.on('secureConnection', (socket: TLSSocket) => this.tlsOnSecureConnection(socket));
      tlsServer.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        opts.logger.debug({ err: err.message }, 'tls handshake failed');
        // A socket our own deadline destroyed was counted as handshake_timeout already.
        const ticket = this.sockets.handshakeDone(socket);
        if (ticket !== null && !ticket.timedOut) this.admission.refused('tcp', 'tls');
      });
      this.tlsServer = tlsServer;
    }
    const server = net.createServer({ noDelay: true });
    server.on('connection', (socket: Socket) => this.serverOnSocket(socket));
    this.server = server;
    const errors = handleServerErrors(server, 'tcp', opts.logger, opts.metrics);
    const address = await listenOn(server, errors, opts.host, opts.port);
    opts.logger.info({ ...address, tls: opts.tls !== null }, 'tcp listener started');
    return address;
  }

  /** Closes the listening socket; open connections stay. Idempotent. */
  stopAccepting(): Promise<void> {
    if (this.server !== null && this.stopped === null) this.stopped = stopServer(this.server);
    return Promise.resolve();
  }

  /** Stops accepting, destroys every connection (each gets onClose(0, '')), and waits for the server. */
  async close(): Promise<void> {
    await this.stopAccepting();
    this.sockets.destroyAll();
    await this.stopped?.allClosed;
  }

  private serverOnSocket(socket: Socket): void {
    // The peer may have reset between accept and this event; remoteAddress is then undefined.
    const remoteAddress = socket.remoteAddress;
    if (socket.destroyed || remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    const ticket = this.admission.admit('tcp', normalizeRemoteAddress(remoteAddress), true);
    if (typeof ticket === 'string') {
      // docs/protocol.md §6.2: a plain socket is told why (4007/4008 with reconnect advice); a TLS
      // one would first cost a handshake, so it is closed unanswered.
      if (this.tlsServer === null && this.opts.refusalFrame !== undefined) {
        this.admission.refuseSocket(socket, this.opts.refusalFrame(ticket), ticket);
      } else socket.destroy();
      return;
    }
    socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
    if (this.tlsServer === null) {
      this.sockets.add(socket, ticket);
      this.startConnection(socket, ticket);
      return;
    }
    this.sockets.add(socket, ticket, true);
    ticket.startDeadline(destroySocket, socket);
    this.tlsServer.emit('connection', socket);
  }

  private tlsOnSecureConnection(socket: TLSSocket): void {
    const ticket = this.sockets.handshakeDone(socket);
    if (ticket === null) {
      socket.destroy();
      return;
    }
    this.startConnection(socket, ticket);
  }

  private startConnection(socket: Socket, ticket: AdmissionTicket): void {
    if (socket.destroyed) return;
    // A TLS socket forwards these to the raw socket's handle.
    socket.setNoDelay(true);
    const conn = new TcpConnection(
      socket,
      normalizeRemoteAddress(socket.remoteAddress),
      this.context,
      ticket,
    );
    try {
      this.opts.onConnection(conn);
    } catch (err) {
      this.opts.logger.error({ err, conn: conn.id }, 'onConnection threw; connection destroyed');
      conn.destroy();
    }
  }
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}
