/**
 * WebTransport streams (draft-ietf-webtrans-http3 §4.1, §4.2): QUIC streams whose preamble (`0x54` /
 * `0x41` + session id) has been read or written, carrying raw application bytes from then on.
 *
 * Receiving is pull-based under QUIC flow control: a stream with no handler, or paused, is not read,
 * so its bytes stay in QUIC's receive buffer and the peer runs out of credit (RFC 9000 §4.1) instead
 * of Ferry buffering without bound. Sending queues in the QUIC connection's per-stream send queue;
 * `write` returns false above the high-water mark and `onDrain` fires once the queue has fallen to
 * half of it.
 */
import type { StreamHandler, WtBidiStream } from './api.js';
import { http3CodeToWebTransport, webTransportCodeToHttp3 } from './constants.js';
import type { QuicConnection } from './quic/connection.js';

/** What a stream needs from its session. */
export interface StreamOwner {
  readonly quic: QuicConnection;
  /** Both directions are finished: forget the stream. */
  streamFinished(stream: WtStream): void;
}

/** Receives the bytes of one QUIC stream from the HTTP/3 connection's read loop. */
export interface StreamSink {
  /** While true the read loop leaves the stream's data in QUIC. */
  readonly paused: boolean;
  /** Largest read the sink wants now (0 = the whole read buffer). */
  readonly readLimit: number;
  /** A critical stream: any error or closure ends the connection (RFC 9114 §6.2.1, RFC 9204 §4.2). */
  readonly critical: boolean;
  /** `bytes` is a view of a shared buffer, valid only during the call. */
  onBytes(bytes: Uint8Array, fin: boolean): void;
  onReset(code: number): void;
}

const EMPTY = new Uint8Array(0);

/**
 * RESET_STREAM / STOP_SENDING codes arrive in HTTP/3's space; WebTransport application codes are
 * mapped into it (draft-ietf-webtrans-http3 §4.3). Handlers get the application code when the value
 * lies in that range, else the raw HTTP/3 code (e.g. Chromium's 0x10f after a session close).
 */
export function streamErrorFromWire(h3Code: number): number {
  return http3CodeToWebTransport(h3Code) ?? h3Code;
}

/**
 * One WebTransport stream. Unidirectional streams use one half: a peer's uni stream is never
 * writable, ours never readable. Implements the public {@link WtBidiStream} contract.
 */
export class WtStream implements WtBidiStream, StreamSink {
  readonly readLimit = 0;
  readonly critical = false;
  /** True once the peer's FIN or RESET_STREAM was read: QUIC will not report the stream again. */
  peerDone = false;
  private handler: StreamHandler | null = null;
  private finPending = false;
  private userPaused = false;
  private recvOpen: boolean;
  private sendOpen: boolean;
  private drainWanted = false;
  private finished = false;

  constructor(
    /** QUIC stream id. */
    readonly id: number,
    private readonly owner: StreamOwner,
    readable: boolean,
    writable: boolean,
    /** `write` returns false once this many bytes are queued. */
    private readonly highWaterMark: number,
  ) {
    this.recvOpen = readable;
    this.sendOpen = writable;
  }

  get paused(): boolean {
    return this.handler === null || this.userPaused || !this.recvOpen;
  }

  setHandler(handler: StreamHandler): void {
    this.handler = handler;
    if (this.finPending) {
      // The stream ended right after its preamble; nothing is left in QUIC to wake us.
      this.finPending = false;
      queueMicrotask(() => this.onBytes(EMPTY, true));
    } else if (this.recvOpen) {
      this.owner.quic.wake();
    }
  }

  /** The peer's FIN was read together with the preamble, before any handler existed. */
  markPeerFin(): void {
    this.peerDone = true;
    this.finPending = true;
  }

  /** Stops reading; the peer is held back by flow control until {@link resume}. */
  pause(): void {
    this.userPaused = true;
  }

  resume(): void {
    if (!this.userPaused) return;
    this.userPaused = false;
    if (this.recvOpen) this.owner.quic.wake();
  }

  /**
   * Queues `bytes` (not copied: do not modify them afterwards). Returns false when the queue is at
   * or above the high-water mark; `onDrain` follows once it has fallen to half. Writes after `end`,
   * `reset` or a peer STOP_SENDING are dropped.
   */
  write(bytes: Uint8Array): boolean {
    if (!this.sendOpen) return false;
    const quic = this.owner.quic;
    quic.streamWrite(this.id, bytes, false);
    if (quic.bufferedAmount(this.id) < this.highWaterMark) return true;
    this.drainWanted = true;
    return false;
  }

  bufferedAmount(): number {
    return this.owner.quic.bufferedAmount(this.id);
  }

  /** FIN after the queued bytes. */
  end(): void {
    if (!this.sendOpen) return;
    this.sendOpen = false;
    this.owner.quic.streamWrite(this.id, EMPTY, true);
    this.checkFinished();
  }

  /** RESET_STREAM with the application `code` (u32); queued bytes are dropped. */
  reset(code: number): void {
    if (!this.sendOpen) return;
    this.sendOpen = false;
    this.owner.quic.streamShutdown(this.id, 'write', webTransportCodeToHttp3(code));
    this.checkFinished();
  }

  /** STOP_SENDING with the application `code` (u32); nothing more is delivered. */
  stop(code: number): void {
    if (!this.recvOpen) return;
    this.recvOpen = false;
    this.owner.quic.streamShutdown(this.id, 'read', webTransportCodeToHttp3(code));
    this.checkFinished();
  }

  // --- from the HTTP/3 connection ---------------------------------------------------------------

  onBytes(bytes: Uint8Array, fin: boolean): void {
    const handler = this.handler;
    if (handler === null || !this.recvOpen) return;
    // The read buffer is shared and reused: the handler gets its own copy.
    if (bytes.length > 0) handler.onData(bytes.slice());
    if (fin && this.recvOpen) {
      this.peerDone = true;
      this.recvOpen = false;
      handler.onEnd();
      this.checkFinished();
    }
  }

  onReset(code: number): void {
    this.peerDone = true;
    if (!this.recvOpen) return;
    this.recvOpen = false;
    this.handler?.onReset(streamErrorFromWire(code));
    this.checkFinished();
  }

  /**
   * A drain pass moved queued bytes into QUIC. `onDrain` fires when a refused `write` is below half
   * the high-water mark again, and whenever the queue empties (also after `end`, so a graceful close
   * can wait for its last bytes).
   */
  onWritable(buffered: number): void {
    if (buffered === 0 || (this.drainWanted && buffered <= this.highWaterMark / 2)) {
      this.drainWanted = false;
      this.handler?.onDrain();
    }
  }

  /** The peer sent STOP_SENDING (or the stream vanished): the send side is over. */
  onSendError(code: number): void {
    if (!this.sendOpen) return;
    this.sendOpen = false;
    // RFC 9000 §3.5: answer STOP_SENDING with RESET_STREAM (quiche does it; this is idempotent).
    this.owner.quic.streamShutdown(this.id, 'write', code);
    if (!this.recvOpen) this.handler?.onReset(streamErrorFromWire(code));
    this.checkFinished();
  }

  /**
   * The session or connection ended: both directions are abandoned. `code` goes to the peer (when
   * the connection is still up) and to the handler, if the stream was still open.
   */
  abort(code: number, notify: boolean): void {
    const wasOpen = this.recvOpen || this.sendOpen;
    if (this.sendOpen) this.owner.quic.streamShutdown(this.id, 'write', code);
    if (this.recvOpen) this.owner.quic.streamShutdown(this.id, 'read', code);
    this.sendOpen = false;
    this.recvOpen = false;
    if (wasOpen && notify) this.handler?.onReset(streamErrorFromWire(code));
    this.checkFinished();
  }

  private checkFinished(): void {
    if (this.finished || this.recvOpen || this.sendOpen) return;
    this.finished = true;
    this.owner.streamFinished(this);
  }
}
