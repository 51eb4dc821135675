import {
  decodeFrame,
  encodeFrame,
  encodeFramePrefixed,
  type Frame,
  type FrameInit,
} from '../../src/protocol/codec.js';
import { LENGTH_PREFIX_BYTES } from '../../src/protocol/constants.js';
import {
  allocateConnectionId,
  type Connection,
  type ConnectionHandler,
  type Framing,
  type TransportKind,
} from '../../src/transport/transport.js';

/** Options of a FakeConnection. */
export interface FakeConnectionOptions {
  kind?: TransportKind;
  /** Default: 'message' for ws, 'stream' otherwise. */
  framing?: Framing;
  remoteAddress?: string;
  supportsDatagrams?: boolean;
  maxDatagramBytes?: number;
}

/**
 * A hand-written Connection for session tests: records what the server writes (and decodes it),
 * lets the test play the peer (`send`, `sendBytes`), the transport's buffer (`buffered`, `drain`) and
 * the network (`peerClose`). `close` and `destroy` report `onClose` synchronously, the harshest order
 * for re-entrancy in the session.
 */
export class FakeConnection implements Connection {
  readonly id = allocateConnectionId();
  readonly kind: TransportKind;
  readonly framing: Framing;
  readonly remoteAddress: string;
  readonly supportsDatagrams: boolean;
  readonly maxDatagramBytes: number;
  handler: ConnectionHandler | null = null;
  /** Every write, in order (one frame each: the session never splits or merges frames). */
  readonly written: Uint8Array[] = [];
  readonly datagrams: Uint8Array[] = [];
  /** What `bufferedAmount()` reports; tests raise it to simulate a slow reader. */
  buffered = 0;
  closed: { code: number; reason: string } | null = null;
  destroyed = false;
  /** Set by `markAuthenticated` (the session layer accepted the peer's identity). */
  authenticated = false;
  /** True while the session has paused reading; the peer's bytes wait in `unread` meanwhile. */
  paused = false;
  /** How many times the session paused reading. */
  pauses = 0;
  private unread: Uint8Array[] = [];
  private seen = 0;

  constructor(opts: FakeConnectionOptions = {}) {
    this.kind = opts.kind ?? 'ws';
    this.framing = opts.framing ?? (this.kind === 'ws' ? 'message' : 'stream');
    this.remoteAddress = opts.remoteAddress ?? '192.0.2.1';
    this.supportsDatagrams = opts.supportsDatagrams ?? false;
    this.maxDatagramBytes = opts.maxDatagramBytes ?? 0;
  }

  setHandler(handler: ConnectionHandler): void {
    this.handler = handler;
  }

  write(bytes: Uint8Array): void {
    if (this.closed !== null || this.destroyed) return;
    this.written.push(bytes);
  }

  writeDatagram(bytes: Uint8Array): boolean {
    if (!this.supportsDatagrams || this.closed !== null) return false;
    this.datagrams.push(bytes);
    return true;
  }

  bufferedAmount(): number {
    return this.buffered;
  }

  pauseReading(): void {
    if (!this.paused) this.pauses++;
    this.paused = true;
  }

  /** Delivers what the peer sent while paused, in order, as a real transport would. */
  resumeReading(): void {
    this.paused = false;
    while (!this.paused && this.unread.length > 0) this.handler?.onData(this.unread.shift()!);
  }

  /** Bytes the peer sent that wait while reading is paused. */
  get unreadChunks(): number {
    return this.unread.length;
  }

  close(code: number, reason: string): void {
    if (this.closed !== null || this.destroyed) return;
    this.closed = { code, reason };
    this.handler?.onClose(code, reason);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.closed === null) {
      this.closed = { code: 0, reason: '' };
      this.handler?.onClose(0, '');
    }
  }

  markAuthenticated(): void {
    this.authenticated = true;
  }

  // ---- the peer's side ----

  /** Encodes a frame the way the client would for this framing and delivers it. */
  send(frame: FrameInit): void {
    this.sendBytes(this.framing === 'message' ? encodeFrame(frame) : encodeFramePrefixed(frame));
  }

  /** Delivers raw bytes (garbage, split frames); kept back while the session has paused reading. */
  sendBytes(bytes: Uint8Array): void {
    if (this.paused) this.unread.push(bytes);
    else this.handler?.onData(bytes);
  }

  /** The transport buffer emptied. */
  drain(): void {
    this.buffered = 0;
    this.handler?.onDrain();
  }

  /** The peer vanished. */
  peerClose(): void {
    this.destroy();
  }

  /** Every frame written so far, decoded. */
  frames(): Frame[] {
    return this.written.map((b) => this.decode(b));
  }

  /** Frames written since the previous `take()`. */
  take(): Frame[] {
    const out = this.written.slice(this.seen).map((b) => this.decode(b));
    this.seen = this.written.length;
    return out;
  }

  /** The bodies of every frame written so far ('authResult', 'deliver', ...). */
  bodies(): string[] {
    return this.frames().map((f) => f.body ?? '');
  }

  /** Every Deliver written so far. */
  delivers(): NonNullable<Frame['deliver']>[] {
    return this.frames().flatMap((f) => (f.body === 'deliver' && f.deliver ? [f.deliver] : []));
  }

  /** The Disconnect frame written, if any. */
  disconnectFrame(): NonNullable<Frame['disconnect']> | undefined {
    return this.frames().find((f) => f.body === 'disconnect')?.disconnect ?? undefined;
  }

  private decode(bytes: Uint8Array): Frame {
    if (this.framing === 'message') return decodeFrame(bytes, Infinity);
    const len = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32BE(0);
    if (len !== bytes.length - LENGTH_PREFIX_BYTES)
      throw new Error(`bad length prefix ${len} for ${bytes.length} bytes`);
    return decodeFrame(bytes.subarray(LENGTH_PREFIX_BYTES), Infinity);
  }
}
