import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { AdmissionTicket } from '../admission.js';
import {
  IGNORE_HANDLER,
  NOT_A_FRAME_MESSAGE,
  allocateConnectionId,
  clampCloseReason,
  type Connection,
  type ConnectionHandler,
  type Framing,
  type TransportKind,
} from '../transport.js';

/** Used instead of a close code that may not go on the wire (RFC 6455 §7.4.1: internal error). */
const WS_INTERNAL_ERROR = 1011;

/** Back-pointer from a `ws` WebSocket and its socket to the Connection, so listeners need no closures. */
const kConnection = Symbol('ferry.connection');
type Tagged<T> = T & { [kConnection]?: WsConnection };

/** What a listener wants to hear about its connections (one object per listener, shared). */
export interface WsConnectionHooks {
  /** `ws` reported a protocol error (oversized message, bad UTF-8, bad framing) and is closing. */
  onProtocolError(conn: WsConnection, err: Error): void;
}

/**
 * One WebSocket client connection ('message' framing: each binary message is one frame).
 *
 * Memory: this object holds seven fields; every event listener is a module-level function that finds
 * its connection through a symbol on the `ws` object or socket, so an idle connection costs no closure
 * and no timer here. Constant properties are getters on the prototype.
 *
 * Before `setHandler` the WebSocket is paused: ws parses nothing, so early bytes wait in the socket
 * (up to its readable high-water mark, then in the kernel under the TCP window) and none are lost.
 *
 * A text message is handed to `onData` as NOT_A_FRAME_MESSAGE, which the session refuses with 4500
 * BAD_FRAME: every protocol error is counted and closed in one place, with a documented code.
 */
export class WsConnection implements Connection {
  readonly id = allocateConnectionId();
  private handler: ConnectionHandler | null = null;
  /** Set when the WebSocket closed before a handler was installed; delivered by `setHandler`. */
  private pendingClose: { code: number; reason: string } | null = null;

  constructor(
    private readonly ws: WebSocket,
    socket: Duplex,
    readonly remoteAddress: string,
    private readonly hooks: WsConnectionHooks,
    /** The raw socket's admission ticket (released by the listener when the socket closes). */
    private readonly ticket: AdmissionTicket | null = null,
  ) {
    (ws as Tagged<WebSocket>)[kConnection] = this;
    (socket as Tagged<Duplex>)[kConnection] = this;
    ws.pause();
    ws.on('message', wsOnMessage);
    ws.on('close', wsOnClose);
    ws.on('error', wsOnError);
    // `ws` has no drain event: the socket under it drains when everything ws.send() queued is written.
    socket.on('drain', socketOnDrain);
  }

  get kind(): TransportKind {
    return 'ws';
  }
  get framing(): Framing {
    return 'message';
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
    if (this.pendingClose !== null) {
      this.handler = IGNORE_HANDLER;
      const { code, reason } = this.pendingClose;
      this.pendingClose = null;
      process.nextTick(() => handler.onClose(code, reason));
      return;
    }
    this.handler = handler;
    this.ws.resume();
  }

  /** Sends one binary message. Dropped silently when the connection is closing or closed. */
  write(bytes: Uint8Array): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(bytes, { binary: true });
  }

  writeDatagram(): boolean {
    return false;
  }

  /** Bytes queued in the socket (and ws's sender) and not yet handed to the kernel. */
  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Pauses the socket under `ws`. Messages ws has already read keep coming to `onData` until its
   * parser has worked through that read (at most one socket read, 64 KiB).
   */
  pauseReading(): void {
    this.ws.pause();
  }

  /** Reads again; before `setHandler` the WebSocket stays paused (it is resumed there). */
  resumeReading(): void {
    if (this.handler !== null) this.ws.resume();
  }

  /**
   * Sends a close frame after everything written so far. If the peer does not answer within the
   * listener's close linger, `ws` destroys the socket (its close timer, which exists only while
   * closing). A code that may not appear on the wire becomes 1011.
   */
  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ticket?.closing(code);
    const wireCode = isValidCloseCode(code) ? code : WS_INTERNAL_ERROR;
    this.ws.close(wireCode, clampCloseReason(reason));
  }

  /** Destroys the socket now; `onClose` follows with 1006. */
  destroy(): void {
    this.ws.terminate();
  }

  markAuthenticated(): void {
    this.ticket?.authenticated();
  }

  /** @internal */
  dataArrived(bytes: Uint8Array): void {
    // Events after close (ws flushes bytes it had already read) go to IGNORE_HANDLER.
    this.handler?.onData(bytes);
  }

  /** @internal */
  drained(): void {
    this.handler?.onDrain();
  }

  /** @internal */
  closed(code: number, reason: string): void {
    const handler = this.handler;
    if (handler === null) {
      this.pendingClose = { code, reason };
      return;
    }
    this.handler = IGNORE_HANDLER;
    handler.onClose(code, reason);
  }

  /** @internal */
  protocolError(err: Error): void {
    this.hooks.onProtocolError(this, err);
  }
}

/** RFC 6455 §7.4: codes an endpoint may send (1004-1006 and 1015 are reserved, 1016-2999 unassigned). */
function isValidCloseCode(code: number): boolean {
  return (
    (Number.isInteger(code) &&
      code >= 1000 &&
      code <= 1014 &&
      code !== 1004 &&
      code !== 1005 &&
      code !== 1006) ||
    (Number.isInteger(code) && code >= 3000 && code <= 4999)
  );
}

function wsOnMessage(this: Tagged<WebSocket>, data: Buffer, isBinary: boolean): void {
  // docs/protocol.md §2: text messages are never frames, even when their bytes would parse as one.
  this[kConnection]?.dataArrived(isBinary ? data : NOT_A_FRAME_MESSAGE);
}

function wsOnClose(this: Tagged<WebSocket>, code: number, reason: Buffer): void {
  this[kConnection]?.closed(code, reason.toString());
}

function wsOnError(this: Tagged<WebSocket>, err: Error): void {
  // ws has already started closing with the matching code (1009, 1007, 1002...); 'close' follows.
  this[kConnection]?.protocolError(err);
}

function socketOnDrain(this: Tagged<Duplex>): void {
  this[kConnection]?.drained();
}
