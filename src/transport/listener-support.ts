import { readFile } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AdmissionTicket } from './admission.js';
import type { TransportKind } from './transport.js';

/**
 * What the WebSocket and TCP listeners share: TLS material loading, socket tracking for `close()`,
 * and the server-level error handling that keeps an accept() failure (EMFILE at the fd limit) from
 * crashing the process.
 */

/**
 * A certificate and its private key. Each value is either PEM text (anything containing
 * `-----BEGIN`) or a path to a PEM file, so the same setting works from a config file (paths) and
 * from an environment variable (contents).
 */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** Resolves `TlsMaterial` to PEM contents, reading files where a value is a path. */
export async function loadTlsMaterial(tls: TlsMaterial): Promise<{ cert: string; key: string }> {
  const [cert, key] = await Promise.all([pemOrFile(tls.cert), pemOrFile(tls.key)]);
  return { cert, key };
}

async function pemOrFile(value: string): Promise<string> {
  if (value.includes('-----BEGIN')) return value;
  return readFile(value, 'utf8');
}

/**
 * The peer IP without port. IPv4 peers of a dual-stack (`::`) socket appear as `::ffff:a.b.c.d`;
 * they are reported as `a.b.c.d` so a per-IP limit counts one client once whichever way it came in.
 */
export function normalizeRemoteAddress(address: string | undefined): string {
  if (address === undefined) return '';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  return address;
}

/** The admission ticket of a tracked raw socket. */
const kTicket = Symbol('ferry.admissionTicket');
/** The key of a raw socket in `SocketTracker.handshaking`. */
const kPeerKey = Symbol('ferry.peerKey');
type TrackedSocket = Duplex & { [kTicket]?: AdmissionTicket | null; [kPeerKey]?: string };

/**
 * Every raw TCP socket a server accepted and that is still open, from the moment of accept (before a
 * TLS or HTTP handshake finished) to its 'close'. `close()` of a listener destroys them all; destroying
 * the raw socket also tears down a TLS socket or a WebSocket on top of it. A socket's admission ticket
 * is released on that same 'close', when its descriptor is freed. One Set entry and one shared 'close'
 * listener per socket: no closure per connection.
 *
 * Sockets still in their transport handshake are also found by peer address and port, because what
 * the handshake's end reports may be the TLS socket wrapping the raw one (which has the same peer).
 */
export class SocketTracker {
  private readonly sockets = new Set<Duplex>();
  private readonly handshaking = new Map<string, Duplex>();
  private readonly onSocketClose: (this: TrackedSocket) => void;

  constructor() {
    const { sockets, handshaking } = this;
    this.onSocketClose = function socketOnClose(this: TrackedSocket) {
      sockets.delete(this);
      const key = this[kPeerKey];
      if (key !== undefined && handshaking.get(key) === this) handshaking.delete(key);
      this[kTicket]?.release();
    };
  }

  /**
   * Starts tracking a freshly accepted socket; `ticket` (if any) is released when it closes. With
   * `handshaking`, {@link handshakeDone} finds it until its handshake ends.
   */
  add(socket: Duplex, ticket: AdmissionTicket | null = null, handshaking = false): void {
    const s = socket as TrackedSocket;
    this.sockets.add(s);
    s[kTicket] = ticket;
    if (handshaking) {
      const key = peerKey(socket as Socket);
      s[kPeerKey] = key;
      this.handshaking.set(key, s);
    }
    s.once('close', this.onSocketClose);
  }

  /**
   * The transport handshake of the raw socket under `socket` (itself, the TLS socket wrapping it, or
   * a gRPC call's connection: the same peer address and port) is over: returns its ticket with the
   * deadline stopped, or null if it is unknown, already done or gone.
   */
  handshakeDone(socket: PeerAddress): AdmissionTicket | null {
    const key = peerKey(socket);
    const raw = this.handshaking.get(key) as TrackedSocket | undefined;
    if (raw === undefined) return null;
    this.handshaking.delete(key);
    const ticket = raw[kTicket] ?? null;
    ticket?.endDeadline();
    return ticket;
  }

  /** Destroys every tracked socket (their 'close' events remove them). */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  get size(): number {
    return this.sockets.size;
  }
}

/** Where a socket (or a gRPC call's connection) comes from. */
export interface PeerAddress {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

function peerKey(socket: PeerAddress): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}

/** How often at most an accept error (EMFILE flood) is logged; the count is logged with it. */
const ACCEPT_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Installs the persistent 'error' handler of a listening server. After `listen()` resolved, the only
 * errors a net/tls/http server emits come from accept(): EMFILE/ENFILE when the process or system is
 * out of file descriptors (this host allows 20,000 per process), ENOMEM, ECONNABORTED. Without a
 * handler Node would throw them and end the process, taking every other connection with it. libuv has
 * already shed the pending connection (its EMFILE trick), so the right answer is to count, log at a
 * bounded rate, and keep serving the connections we have.
 *
 * Returns a function that routes errors to `onListenError` instead, for the window of `listen()`.
 */
export function handleServerErrors(
  server: Server,
  kind: TransportKind | 'grpc',
  logger: Logger,
  metrics: Metrics | undefined,
): { setListenErrorSink(sink: ((err: Error) => void) | null): void } {
  let listenSink: ((err: Error) => void) | null = null;
  let suppressed = 0;
  let lastLogAt = 0;
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (listenSink) {
      listenSink(err);
      return;
    }
    const reason = (err.code ?? 'accept_error').toLowerCase();
    metrics?.connectionsRefused.inc({ transport: kind, reason });
    const now = Date.now();
    if (now - lastLogAt < ACCEPT_ERROR_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    logger.error(
      { err, code: err.code, suppressedSinceLastLog: suppressed },
      'accept failed; connection shed (file descriptor limit?)',
    );
    lastLogAt = now;
    suppressed = 0;
  });
  return {
    setListenErrorSink(sink) {
      listenSink = sink;
    },
  };
}

/**
 * `server.listen` as a promise that rejects on EADDRINUSE and the like, and resolves with the bound
 * address (port 0 becomes the real port).
 */
export function listenOn(
  server: Server,
  errors: { setListenErrorSink(sink: ((err: Error) => void) | null): void },
  host: string,
  port: number,
): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    errors.setListenErrorSink((err) => {
      errors.setListenErrorSink(null);
      reject(err);
    });
    server.listen({ host, port }, () => {
      errors.setListenErrorSink(null);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`unexpected listening address ${String(address)}`));
        return;
      }
      resolve({ host: address.address, port: address.port });
    });
  });
}

/**
 * Stops the server from accepting and resolves when it has stopped listening. The promise from
 * `server.close(cb)` would wait for every open connection to end, which for long-lived client
 * connections is the opposite of "stop accepting, keep the rest". `allClosed` resolves then.
 */
export function stopServer(server: Server): { allClosed: Promise<void> } {
  const allClosed = new Promise<void>((resolve) => {
    // Not listening (listen() never called, or it failed): no connections to wait for.
    if (server.listening) server.close(() => resolve());
    else resolve();
  });
  return { allClosed };
}
