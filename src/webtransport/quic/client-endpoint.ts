/**
 * The client side of the QUIC driver: one connected UDP socket carrying exactly one connection.
 * A connected socket sends without per-datagram address handling, and the kernel filters datagrams
 * from other sources. The engine handles Retry and Version Negotiation from the server itself.
 */
import type dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { WtLogger } from '../api.js';
import type { QuicEngine, QuicEngineConfig } from './engine.js';
import { QuicConnection } from './connection.js';
import { QuicEndpoint } from './endpoint.js';

/** RFC 9000 §7.2: the client's first destination id is random, at least 8 bytes; we use 16. */
const CLIENT_INITIAL_DCID_BYTES = 16;

/** A loopback server is reached from a loopback address; anything else from the wildcard. */
function bindAddressFor(host: string): string {
  if (host.startsWith('127.')) return '127.0.0.1';
  if (host === '::1') return '::1';
  return isIP(host) === 6 ? '::' : '0.0.0.0';
}

/** Settings of {@link QuicClientEndpoint.connect}. */
export interface QuicClientEndpointOptions {
  /** Server IP literal and port. */
  host: string;
  port: number;
  /** TLS SNI; omitted for IP literals per RFC 6066 §3. */
  serverName: string;
  /** Local IP to send from (default: loopback for a loopback server, else the wildcard). */
  localAddress?: string;
  engine: QuicEngine;
  config: QuicEngineConfig;
  logger: WtLogger;
}

/** Drives one client connection; the socket closes when the connection is gone. */
export class QuicClientEndpoint extends QuicEndpoint {
  private conn: QuicConnection | null = null;
  private readonly closedCallbacks: (() => void)[] = [];

  private constructor(host: string, logger: WtLogger) {
    super(host, logger, true);
  }

  /**
   * Binds an ephemeral port, connects the socket and creates the connection. The caller installs
   * the connection's handler and then calls {@link start} to send the first flight.
   */
  static async connect(options: QuicClientEndpointOptions): Promise<QuicClientEndpoint> {
    const endpoint = new QuicClientEndpoint(options.host, options.logger);
    const local = await endpoint.bind(options.localAddress ?? bindAddressFor(options.host), 0);
    await new Promise<void>((resolve, reject) => {
      endpoint.socket!.connect(options.port, options.host, (err?: Error) => (err ? reject(err) : resolve()));
    });
    const peer = { host: options.host, port: options.port };
    const serverName = isIP(options.serverName) === 0 ? options.serverName : null;
    const engineConn = options.engine.connect(
      serverName,
      randomBytes(CLIENT_INITIAL_DCID_BYTES),
      local,
      peer,
      options.config,
    );
    endpoint.conn = new QuicConnection(engineConn, endpoint, peer);
    return endpoint;
  }

  /** The one connection of this endpoint. */
  get connection(): QuicConnection {
    if (this.conn === null) throw new Error('not connected');
    return this.conn;
  }

  /** Sends the first flight (call after installing the handler). */
  start(): void {
    this.conn?.process();
  }

  /** Runs `callback` once the socket is closed (immediately if it already is). */
  onSocketClosed(callback: () => void): void {
    if (this.closed) callback();
    else this.closedCallbacks.push(callback);
  }

  protected onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.conn !== null && !this.closed) this.conn.receive(msg, rinfo.address, rinfo.port);
  }

  forget(conn: QuicConnection): void {
    if (conn !== this.conn) return;
    void this.closeSocket().then(() => {
      for (const callback of this.closedCallbacks.splice(0)) callback();
    });
  }

  /** Drops the connection without sending anything (tests simulate a vanished client with this). */
  async destroy(): Promise<void> {
    this.conn?.abandon();
    await this.closeSocket();
    for (const callback of this.closedCallbacks.splice(0)) callback();
  }
}
