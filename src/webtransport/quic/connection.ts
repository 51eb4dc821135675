/**
 * One driven QUIC connection: the glue between an engine connection (sans-IO), the endpoint that
 * owns the UDP socket, and the application protocol above (HTTP/3). quiche has no callbacks, so after
 * every batch of received datagrams, every timer and every application write the connection runs one
 * {@link QuicConnection.process} turn: deliver readable streams and datagrams, drain blocked send
 * queues (credit arrives with incoming packets), send until the engine has nothing left, then re-arm
 * the single timer at the engine's next deadline.
 *
 * Per-packet cost decides WebTransport's CPU per message at moderate rates (bench/RESULTS.md), so a
 * turn skips every native call it can prove useless: streams and datagrams are only looked at after
 * input (a received datagram, or `wake` for a resumed stream); streams already known are polled with
 * the cheap per-stream check and the engine's stream iterator (a napi object per call) is only built
 * when something else is readable; the timer is only re-armed when a packet went in or out.
 */
import {
  QuicStreamError,
  RECV_DONE,
  type QuicAddress,
  type QuicCloseInfo,
  type QuicEngineConnection,
  type QuicConnectionStats,
} from './engine.js';
import type { AdmittedConnection } from '../api.js';
import { SendQueue } from './send-queue.js';

/** What the application protocol receives from a connection. All calls come from `process`. */
export interface QuicConnectionHandler {
  /** The handshake completed (called once, before any stream callback). */
  onEstablished(): void;
  /** The stream has data, a FIN or a reset to read with {@link QuicConnection.streamRecv}. */
  onStreamReadable(streamId: number): void;
  onDatagram(data: Uint8Array): void;
  /** A drain pass moved queued bytes of the stream into QUIC; `buffered` is what is still queued. */
  onStreamWritable(streamId: number, buffered: number): void;
  /** The stream's send side failed (peer STOP_SENDING, stream gone); its queue was dropped. */
  onStreamSendError(streamId: number, err: QuicStreamError): void;
  /** The connection started closing or was lost. Called exactly once; no callbacks follow. */
  onClosed(info: QuicCloseInfo): void;
  /** A callback threw; the handler decides how to close (the connection is still open). */
  onProcessError(err: unknown): void;
}

/** The endpoint side a connection needs: batching, the send loop and forgetting closed connections. */
export interface QuicConnectionHost {
  /** Runs `process` for this connection soon, once per event-loop turn however often it is asked. */
  schedule(conn: QuicConnection): void;
  /** Sends every datagram the engine has ready; returns how many. */
  transmit(conn: QuicConnection): number;
  /** The connection is fully closed: drop its routing entries. */
  forget(conn: QuicConnection): void;
}

/** RFC 9000 §20.1 INTERNAL_ERROR: last resort when the handler itself fails while closing. */
const TRANSPORT_INTERNAL_ERROR = 0x1;

/**
 * A QUIC connection as the HTTP/3 layer sees it: stream reads and queued writes, datagrams, close.
 * Stream-id allocation and stream semantics belong to the layer above.
 */
export class QuicConnection {
  /** Set by the layer above before the first `process` turn. */
  handler: QuicConnectionHandler | null = null;
  /** Endpoint bookkeeping: queued for a `process` turn. */
  scheduled = false;
  /** Endpoint bookkeeping: routing keys (connection ids) that point at this connection. */
  readonly routingKeys: string[] = [];
  /** Endpoint bookkeeping: the id an engine-owned socket reports this connection by (-1: none). */
  handle = -1;
  /** Server side: the admission handle, released by the endpoint when the connection is forgotten. */
  admission: AdmittedConnection | null = null;

  private readonly queues = new Map<number, SendQueue>();
  private readonly blocked = new Set<number>();
  private sendErrors: [number, QuicStreamError][] = [];
  private established = false;
  private closedNotified = false;
  private forgotten = false;
  /** The send loop was put off by one turn (see `process`). */
  private deferred = false;
  /** A datagram arrived or a stream was resumed since the last delivery pass. */
  private inputPending = true;
  /** Packets went in or out (or a timer fired) since the timer was last armed. */
  private timerDirty = true;
  /** close() was called: writes are pointless from now on. */
  private closeRequested = false;
  /**
   * Peer-opened and local streams that have been readable and are not finished: polled one by one
   * (cheap) before asking the engine for its full readable set (costly). The last stream found
   * readable moves to the front, so a session's busy stream is polled before the HTTP/3 control and
   * QPACK streams that rarely carry anything.
   */
  private readonly knownStreams: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerDeadline = 0;
  private readonly onTimer = (): void => {
    this.timer = null;
    // The timer is left armed when the engine's deadline moves later (re-arming per packet costs more),
    // so it often fires early, e.g. at a loss-detection deadline that an ACK has since cancelled.
    // Then re-arming is all there is to do; a full turn would cost several native calls.
    const left = this.engine.timeoutMs();
    if (left !== null && left > 0) {
      this.armTimer();
      return;
    }
    this.timerDirty = true;
    this.inputPending = true;
    this.engine.onTimeout();
    this.process();
  };

  constructor(
    /** The engine connection; the endpoint's send loop reads from it. */
    readonly engine: QuicEngineConnection,
    private readonly host: QuicConnectionHost,
    /** The peer's address when the connection was created. */
    readonly remote: QuicAddress,
  ) {}

  /** True once CONNECTION_CLOSE was sent or received, or the connection was lost. */
  get isClosing(): boolean {
    return this.closedNotified || this.closeRequested || this.engine.isClosing();
  }

  get isEstablished(): boolean {
    return this.established;
  }

  /** Asks for a `process` turn (e.g. a paused stream was resumed and must be read again). */
  wake(): void {
    this.inputPending = true;
    this.host.schedule(this);
  }

  /** Feeds one datagram; the endpoint schedules `process` after the batch. */
  receive(packet: Uint8Array, fromHost: string, fromPort: number): void {
    this.engine.recv(packet, fromHost, fromPort);
    this.inputPending = true;
    this.timerDirty = true;
    this.host.schedule(this);
  }

  /** Datagrams went into the engine connection directly (an engine-owned socket routed them). */
  received(): void {
    this.inputPending = true;
    this.timerDirty = true;
    this.host.schedule(this);
  }

  /** Reads stream bytes; see {@link QuicEngineConnection.streamRecv} for the result encoding. */
  streamRecv(streamId: number, buf: Uint8Array): number {
    const n = this.engine.streamRecv(streamId, buf);
    if (n < 0 ? n !== RECV_DONE : this.engine.lastRecvFin) this.forgetStream(streamId);
    return n;
  }

  get lastRecvFin(): boolean {
    return this.engine.lastRecvFin;
  }

  get lastResetCode(): number {
    return this.engine.lastResetCode;
  }

  /**
   * Writes to a stream, queueing what flow control does not take now. Never throws: send-side
   * failures reach the handler's `onStreamSendError` from the next `process` turn.
   */
  streamWrite(streamId: number, data: Uint8Array, fin: boolean): void {
    // Not `isClosing`: two native calls per write. A write racing a close the peer sent fails in the
    // engine and surfaces as onStreamSendError, which the layer above handles anyway.
    if (this.closedNotified || this.closeRequested) return;
    let queue = this.queues.get(streamId);
    if (queue === undefined) {
      queue = new SendQueue();
      this.queues.set(streamId, queue);
    }
    queue.push(data);
    if (fin) queue.fin = true;
    if (!this.blocked.has(streamId)) this.drainStream(streamId, queue);
    this.host.schedule(this);
  }

  /** Bytes written to the stream and not yet taken by QUIC. */
  bufferedAmount(streamId: number): number {
    return this.queues.get(streamId)?.bytes ?? 0;
  }

  /** RESET_STREAM ('write', dropping the queue) or STOP_SENDING ('read'), RFC 9000 §3.5. */
  streamShutdown(streamId: number, direction: 'read' | 'write', code: number): void {
    if (direction === 'write') {
      this.queues.delete(streamId);
      this.blocked.delete(streamId);
    }
    if (this.isClosing) return;
    this.engine.streamShutdown(streamId, direction, code);
    this.host.schedule(this);
  }

  /** Forgets the send queue of a stream the layer above has finished with. */
  releaseStream(streamId: number): void {
    this.forgetStream(streamId);
    const queue = this.queues.get(streamId);
    if (queue !== undefined && queue.isEmpty) this.queues.delete(streamId);
  }

  peerStreamsLeft(bidi: boolean): number {
    return bidi ? this.engine.peerStreamsLeftBidi() : this.engine.peerStreamsLeftUni();
  }

  /** Queues a datagram; false if it was dropped (too big, queue full, closing). */
  sendDatagram(data: Uint8Array): boolean {
    if (this.isClosing || !this.engine.dgramSend(data)) return false;
    this.host.schedule(this);
    return true;
  }

  get maxDatagramBytes(): number {
    return this.isClosing ? 0 : this.engine.dgramMaxWritableLen();
  }

  /** Starts closing with CONNECTION_CLOSE; idempotent. */
  close(isApp: boolean, code: number, reason: string): void {
    this.closeRequested = true;
    this.timerDirty = true;
    this.engine.close(isApp, code, reason);
    this.host.schedule(this);
  }

  peerCertChain(): Uint8Array[] | null {
    return this.engine.peerCertChain();
  }

  stats(): QuicConnectionStats {
    return this.engine.stats();
  }

  /** One driving turn; see the file comment. Safe to call at any time. */
  process(): void {
    if (this.forgotten) return;
    const engine = this.engine;
    const handler = this.handler;
    if (!this.closedNotified && handler !== null) {
      try {
        if (!this.established && engine.isEstablished()) {
          this.established = true;
          handler.onEstablished();
        }
        if (this.established && this.deliver(handler) && !this.deferred && !this.closeRequested) {
          // The application usually answers what it just read from a promise callback, after this
          // turn; sending now would put our ACK in a packet of its own and the answer in another.
          // One turn later both leave together (fewer packets per message, bench/RESULTS.md).
          this.deferred = true;
          this.host.schedule(this);
          return;
        }
      } catch (err) {
        this.fail(handler, err);
      }
    }
    this.deferred = false;
    if (this.host.transmit(this) > 0) this.timerDirty = true;
    if (!this.timerDirty) return;
    const closing = engine.isClosing();
    if (!this.closedNotified && closing) {
      this.closedNotified = true;
      this.queues.clear();
      this.blocked.clear();
      this.knownStreams.length = 0;
      const info = engine.closeInfo() ?? { isApp: false, code: 0, reason: '', by: 'local' as const };
      try {
        handler?.onClosed(info);
      } catch {
        // Nothing more to do for a connection that is gone.
      }
    }
    if (closing && engine.isClosed()) {
      this.forgotten = true;
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.host.forget(this);
      return;
    }
    this.armTimer();
  }

  /** Hands readable streams and datagrams to the handler; true if there was any. */
  private deliver(handler: QuicConnectionHandler): boolean {
    if (!this.inputPending) {
      if (this.sendErrors.length > 0) this.reportSendErrors(handler);
      return false;
    }
    this.inputPending = false;
    const engine = this.engine;
    let input = false;
    if (engine.isReadable()) {
      input = true;
      const known = this.knownStreams;
      let readable = true;
      for (let i = 0; i < known.length; i++) {
        const streamId = known[i]!;
        if (!engine.streamReadable(streamId)) continue;
        if (i > 0) {
          known[i] = known[0]!;
          known[0] = streamId;
        }
        handler.onStreamReadable(streamId);
        // Usually a single stream had data and the handler read all of it: the rest need no poll.
        readable = engine.isReadable();
        if (!readable) break;
      }
      // Something unknown is readable (a new stream, a reset, a stream the handler left unread).
      if (readable && engine.isReadable()) {
        for (const streamId of engine.readableStreams()) {
          if (!known.includes(streamId)) known.push(streamId);
          handler.onStreamReadable(streamId);
        }
      }
    }
    for (let d = engine.dgramRecv(); d !== null; d = engine.dgramRecv()) {
      input = true;
      handler.onDatagram(d);
    }
    // Credit for blocked streams arrives with the packets just received.
    for (const streamId of this.blocked) {
      const queue = this.queues.get(streamId);
      if (queue === undefined) {
        this.blocked.delete(streamId);
        continue;
      }
      const before = queue.bytes;
      this.drainStream(streamId, queue);
      if (queue.bytes !== before || !this.blocked.has(streamId)) {
        handler.onStreamWritable(streamId, queue.bytes);
      }
    }
    if (this.sendErrors.length > 0) this.reportSendErrors(handler);
    return input;
  }

  private reportSendErrors(handler: QuicConnectionHandler): void {
    const errors = this.sendErrors;
    this.sendErrors = [];
    for (const [streamId, err] of errors) handler.onStreamSendError(streamId, err);
  }

  private drainStream(streamId: number, queue: SendQueue): void {
    try {
      if (queue.drainInto(this.engine, streamId)) {
        this.blocked.delete(streamId);
        this.queues.delete(streamId);
      } else {
        this.blocked.add(streamId);
      }
    } catch (err) {
      queue.clear();
      this.queues.delete(streamId);
      this.blocked.delete(streamId);
      const error = err instanceof QuicStreamError ? err : new QuicStreamError('other', 0, String(err));
      this.sendErrors.push([streamId, error]);
    }
  }

  private forgetStream(streamId: number): void {
    const known = this.knownStreams;
    const i = known.indexOf(streamId);
    if (i < 0) return;
    known[i] = known[known.length - 1]!;
    known.pop();
  }

  /** Stops driving without sending anything (the socket is going away). */
  abandon(): void {
    this.forgotten = true;
    this.closedNotified = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private fail(handler: QuicConnectionHandler, err: unknown): void {
    try {
      handler.onProcessError(err);
    } catch {
      this.engine.close(false, TRANSPORT_INTERNAL_ERROR, 'internal error');
    }
  }

  /** One timer per connection. Firing early is harmless (quiche ignores unexpired timers). */
  private armTimer(): void {
    this.timerDirty = false;
    const ms = this.engine.timeoutMs();
    if (ms === null) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      return;
    }
    const deadline = performance.now() + ms;
    if (this.timer !== null) {
      if (this.timerDeadline <= deadline) return;
      clearTimeout(this.timer);
    }
    this.timerDeadline = deadline;
    this.timer = setTimeout(this.onTimer, ms);
    this.timer.unref();
  }
}
