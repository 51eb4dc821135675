/**
 * The gRPC port's own TCP listener. grpc-js's `bindAsync` accepts sockets itself, so nothing could
 * count or refuse them before its HTTP/2 and TLS work; here a plain `net.Server` accepts, the node's
 * admission decides each socket (the gRPC pool: `access.connectionsPerIp`, `access.maxConnections`,
 * and the shared file-descriptor budget), and admitted sockets are handed to grpc-js through
 * `Server.createConnectionInjector`, which keeps TLS/mTLS, health and reflection exactly as with
 * `bindAsync`.
 *
 * Deadlines: a socket must make its first call within `limits.handshakeTimeoutMs` of accept (TLS,
 * HTTP/2 preface and settings, first request), else it is closed; after that grpc-js closes it with
 * GOAWAY once it has had no call for `access.idleTimeoutMs` (`grpc.max_connection_idle_ms`).
 */
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { Admission, REFUSALS, type AdmissionRefusal } from '../transport/admission.js';
import {
  handleServerErrors,
  listenOn,
  normalizeRemoteAddress,
  SocketTracker,
  stopServer,
} from '../transport/listener-support.js';

/** What grpc-js's connection injector offers (`Server.createConnectionInjector`). */
export interface ConnectionInjector {
  injectConnection(socket: Duplex): void;
}

/** Options of a {@link GrpcListener}. */
export interface GrpcListenerOptions {
  host: string;
  port: number;
  /** TLS on the port: a refused socket is then closed unanswered (an answer would cost a handshake). */
  secure: boolean;
  admission: Admission;
  logger: Logger;
  metrics?: Metrics;
}

/** RFC 9113 §7: ENHANCE_YOUR_CALM, the peer is generating excessive load. */
const H2_ENHANCE_YOUR_CALM = 0xb;

/** See the file comment. */
export class GrpcListener {
  private readonly sockets = new SocketTracker();
  private server: net.Server | null = null;
  private stopped: { allClosed: Promise<void> } | null = null;
  private readonly refusals: Record<AdmissionRefusal, Buffer>;

  constructor(private readonly opts: GrpcListenerOptions) {
    this.refusals = {
      per_ip: goawayRefusal('per_ip'),
      server_full: goawayRefusal('server_full'),
      fd_reserve: goawayRefusal('fd_reserve'),
      abuse: goawayRefusal('abuse'),
    };
  }

  /**
   * Server interceptor (grpc-js runs it for every call to a registered method): the first call on a
   * socket ends its handshake deadline and moves it to the `authenticated` phase.
   */
  readonly interceptor: grpc.ServerInterceptor = (_method, call) => {
    this.sockets.handshakeDone(call.getConnectionInfo())?.authenticated();
    return new grpc.ServerInterceptingCall(call);
  };

  /** Binds the port; each admitted socket goes to `injector`. Resolves with the bound address. */
  async listen(injector: ConnectionInjector): Promise<{ host: string; port: number }> {
    if (this.server !== null) throw new Error('GrpcListener.listen() called twice');
    const server = net.createServer({ noDelay: true });
    server.on('connection', (socket: Socket) => this.serverOnSocket(socket, injector));
    this.server = server;
    const errors = handleServerErrors(server, 'grpc', this.opts.logger, this.opts.metrics);
    return listenOn(server, errors, this.opts.host, this.opts.port);
  }

  /** Closes the listening socket; open connections stay. Idempotent. */
  stopAccepting(): void {
    if (this.server !== null && this.stopped === null) this.stopped = stopServer(this.server);
  }

  /** Stops accepting and destroys every socket left (grpc-js has closed its sessions before). */
  async close(): Promise<void> {
    this.stopAccepting();
    this.sockets.destroyAll();
    await this.stopped?.allClosed;
  }

  private serverOnSocket(socket: Socket, injector: ConnectionInjector): void {
    const remoteAddress = socket.remoteAddress;
    if (socket.destroyed || remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    const { admission } = this.opts;
    const ticket = admission.admit('grpc', normalizeRemoteAddress(remoteAddress), true);
    if (typeof ticket === 'string') {
      if (this.opts.secure) socket.destroy();
      else admission.refuseSocket(socket, this.refusals[ticket]);
      return;
    }
    this.sockets.add(socket, ticket, true);
    ticket.startDeadline(destroySocket, socket);
    injector.injectConnection(socket);
  }
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}

/**
 * What a refused plaintext (h2c) socket receives: the server preface (an empty SETTINGS frame, RFC
 * 9113 §3.4) and GOAWAY with last stream 0, ENHANCE_YOUR_CALM and the Ferry code and reason as debug
 * data (§6.8), so a client sees why before the connection closes.
 */
function goawayRefusal(refusal: AdmissionRefusal): Buffer {
  const { code, reason } = REFUSALS[refusal];
  const debug = Buffer.from(`${code} ${reason}`);
  const out = Buffer.alloc(9 + 9 + 8 + debug.length);
  // SETTINGS: length 0, type 0x4, flags 0, stream 0.
  out.writeUIntBE(0, 0, 3);
  out[3] = 0x4;
  // GOAWAY: type 0x7, stream 0; payload = last stream id (0), error code, debug data.
  out.writeUIntBE(8 + debug.length, 9, 3);
  out[12] = 0x7;
  out.writeUInt32BE(0, 18);
  out.writeUInt32BE(H2_ENHANCE_YOUR_CALM, 22);
  debug.copy(out, 26);
  return out;
}
