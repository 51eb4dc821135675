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
import { TcpConnection, type TcpConnectionContext } from './tcp-connection.js';

/** Options of a raw TCP listener. */
export interface TcpListenerOptions {
  host: string;
  port: number;
  /** PEM contents or paths (see `TlsMaterial`); null = plain TCP. */
  tls: TlsMaterial | null;
  /** How long a graceful close waits for the flush and the peer's FIN before destroying (default 5 s). */
  closeLingerMs?: number;
  /** Called synchronously for each accepted (for TLS: handshaken) connection. */
  onConnection: ConnectionCallback;
  logger: Logger;
  metrics?: Metrics;
}

/** Time allowed for a TLS handshake, so half-open handshakes do not pile up. */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * TCP keepalive probes find peers that vanished without a FIN or RST (NAT timeouts, pulled cables)
 * on connections whose session is idle; the session's own heartbeats do the same at the
 * application level, so this only has to be well below typical NAT idle timeouts.
 */
const KEEPALIVE_INITIAL_DELAY_MS = 60_000;

/**
 * Raw TCP listener (optionally TLS): u32-BE length-prefixed frames on a byte stream. Nagle is off so a
 * small frame leaves at once. Each accepted socket becomes a `TcpConnection` handed to `onConnection`.
 */
export class TcpListener implements Listener {
  readonly kind: TransportKind = 'tcp';
  private readonly sockets = new SocketTracker();
  private readonly context: TcpConnectionContext;
  private server: net.Server | tls.Server | null = null;
  private stopped: { allClosed: Promise<void> } | null = null;

  constructor(private readonly opts: TcpListenerOptions) {
    this.context = { closeLingerMs: opts.closeLingerMs ?? 5000 };
  }

  /** Loads TLS material if configured, creates the server and binds it. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.server !== null) throw new Error('TcpListener.listen() called twice');
    const { opts } = this;
    const socketOptions = {
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_INITIAL_DELAY_MS,
    };
    let server: net.Server | tls.Server;
    if (opts.tls === null) {
      server = net.createServer(socketOptions);
      server.on('connection', (socket: Socket) => {
        this.sockets.add(socket);
        this.serverOnSocket(socket);
      });
    } else {
      server = tls.createServer({
        ...socketOptions,
        ...(await loadTlsMaterial(opts.tls)),
        handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
      });
      // Track the raw socket from accept on, so close() also ends connections mid-handshake.
      server.on('connection', (raw: Socket) => this.sockets.add(raw));
      server.on('secureConnection', (socket: TLSSocket) => this.serverOnSocket(socket));
      server.on('tlsClientError', (err: Error) => {
        opts.logger.debug({ err: err.message }, 'tls handshake failed');
        opts.metrics?.connectionsRefused.inc({ transport: 'tcp', reason: 'tls' });
      });
    }
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
    if (socket.destroyed) return;
    // The server options set these on the raw socket; a TLS socket forwards them to the same handle.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
    const conn = new TcpConnection(socket, normalizeRemoteAddress(socket.remoteAddress), this.context);
    try {
      this.opts.onConnection(conn);
    } catch (err) {
      this.opts.logger.error({ err, conn: conn.id }, 'onConnection threw; connection destroyed');
      conn.destroy();
    }
  }
}
