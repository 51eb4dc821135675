import type { Socket } from 'node:net';
import type { AdmissionTicket } from '../admission.js';
import {
  IGNORE_HANDLER,
  allocateConnectionId,
  type Connection,
  type ConnectionHandler,
  type Framing,
  type TransportKind,
} from '../transport.js';

/** Back-pointer from a socket to its Connection, so socket listeners need no closures. */
const kConnection = Symbol('ferry.connection');
type TaggedSocket = Socket & { [kConnection]?: TcpConnection };

/** What the listener shares with all of its connections (one object per listener). */
export interface TcpConnectionContext {
  /** How long `close()` waits for the flush and the peer's FIN before destroying the socket. */
  readonly closeLingerMs: number;
}

/**
 * One raw TCP (or TLS over TCP) client connection, 'stream' framing: the bytes are u32-BE
 * length-prefixed frames, cut into chunks however the network likes; the session's
 * StreamFrameReader reassembles them.
 *
 * TCP carries no close code: `close(code, reason)` relies on the session having written a
 * Disconnect frame (which carries the code) just before, flushes it with end(), and destroys the
 * socket after the context's linger if the peer never finishes. `onClose` always reports (0, '').
 *
 * Before `setHandler` no 'data' listener is attached, so the socket does not flow: early bytes stay in
 * the socket's readable buffer (bounded by its high-water mark, then by the TCP window) and are
 * delivered in order once the handler is in place.
 *
 * Memory: seven fields; all socket listeners are module-level functions that find their connection
 * through a symbol on the socket; no timer exists until `close()`.
 */
export class TcpConnection implements Connection {
  readonly id = allocateConnectionId();
  private handler: ConnectionHandler | null = null;
  private closedBeforeHandler = false;

  constructor(
    private readonly socket: Socket,
    readonly remoteAddress: string,
    private readonly context: TcpConnectionContext,
    /** The raw socket's admission ticket (released by the listener when the socket closes). */
    private readonly ticket: AdmissionTicket | null = null,
  ) {
    (socket as TaggedSocket)[kConnection] = this;
    socket.on('error', socketOnError);
    socket.on('close', socketOnClose);
    socket.on('drain', socketOnDrain);
  }

  get kind(): TransportKind {
    return 'tcp';
  }
  get framing(): Framing {
    return 'stream';
  }
  get supportsDatagrams(): boolean {
    return false;
  }
  get maxDatagramBytes(): number {
    return 0;
  }

  /** Installs the handler (once) and starts reading. A close that already happened is delivered next tick. */
  setHandler(handler: ConnectionHandler): void {
    if (this.handler !== null) throw new Error(`connection ${this.id}: handler already set`);
    if (this.closedBeforeHandler) {
      this.handler = IGNORE_HANDLER;
      process.nextTick(() => handler.onClose(0, ''));
      return;
    }
    this.handler = handler;
    this.socket.on('data', socketOnData);
  }

  /** Queues bytes on the socket. Dropped silently once the socket is ending or destroyed. */
  write(bytes: Uint8Array): void {
    const { socket } = this;
    if (socket.destroyed || socket.writableEnded) return;
    socket.write(bytes);
  }

  writeDatagram(): boolean {
    return false;
  }

  /** Bytes accepted by `write` and still in the socket's buffer (not yet with the kernel). */
  bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** Stops the socket flowing: the kernel's receive buffer fills and TCP's window closes on the peer. */
  pauseReading(): void {
    this.socket.pause();
  }

  /** Flows again; before `setHandler` the socket stays as it is (nobody would get the bytes). */
  resumeReading(): void {
    if (this.handler !== null && !this.socket.destroyed) this.socket.resume();
  }

  /**
   * Flushes what was written, sends FIN (after TLS close_notify), and destroys the socket if it has
   * not closed within the linger. `code` and `reason` are not sent: TCP has no place for them, the
   * Disconnect frame the session wrote before carries them. Idempotent.
   */
  close(code: number, _reason: string): void {
    const { socket } = this;
    if (socket.destroyed || socket.writableEnded) return;
    this.ticket?.closing(code);
    socket.end();
    // One unref'd timer per closing connection, none at rest; destroy() of a closed socket is a no-op.
    setTimeout(destroySocket, this.context.closeLingerMs, socket).unref();
  }

  /** Drops buffered bytes and releases the socket now. Idempotent. */
  destroy(): void {
    this.socket.destroy();
  }

  markAuthenticated(): void {
    this.ticket?.authenticated();
  }

  /** @internal */
  dataArrived(bytes: Uint8Array): void {
    this.handler?.onData(bytes);
  }

  /** @internal */
  drained(): void {
    this.handler?.onDrain();
  }

  /** @internal */
  closed(): void {
    const handler = this.handler;
    if (handler === null) {
      this.closedBeforeHandler = true;
      return;
    }
    this.handler = IGNORE_HANDLER;
    handler.onClose(0, '');
  }
}

function socketOnData(this: TaggedSocket, chunk: Buffer): void {
  this[kConnection]?.dataArrived(chunk);
}

function socketOnDrain(this: TaggedSocket): void {
  this[kConnection]?.drained();
}

function socketOnClose(this: TaggedSocket): void {
  this[kConnection]?.closed();
}

function socketOnError(): void {
  // ECONNRESET, EPIPE, TLS alerts: the socket is destroyed and 'close' follows, which is what the
  // session hears about. Having a listener at all is what keeps the error from being thrown.
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}
