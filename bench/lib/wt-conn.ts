/**
 * Benchmark connections of either transport behind one shape: WebSocket through the existing
 * `WireConn` (one binary message per frame), WebTransport through Ferry's Node client (the session's
 * first bidi stream carries u32-BE length-prefixed frames, docs/protocol.md §2.3). The load generator
 * in wt-loadgen.ts drives both with the same code, so the two transports see the same workload.
 */
import { connect, type WebTransportClientSession, type WtBidiStream } from '../../src/webtransport/index.js';
import { PrefixedReader } from './frames.js';
import { WireConn, authenticate, type CloseHandler, type FrameHandler } from './wire-conn.js';

/** WebSocket (`ws://…/ws`) or WebTransport (`https://…/wt`). */
export type BenchTransport = 'ws' | 'wt';

/** What the generator needs from a connection (WireConn has exactly these public members). */
export interface BenchConn {
  /** True when frames carry the u32-BE length prefix (TCP, WebTransport stream). */
  readonly prefixed: boolean;
  readonly closed: boolean;
  readonly closeCode: number;
  onClose: CloseHandler;
  setFrameHandler(handler: FrameHandler): void;
  send(frame: Buffer): void;
  /** Bytes accepted by `send` that the transport has not taken yet. */
  buffered(): number;
  close(): void;
  terminate(): void;
}

/** Options of {@link openConn}. */
export interface OpenOptions {
  /** WebTransport: SHA-256 of the server certificate (the node publishes them on its admin port). */
  certHashes?: string[];
  timeoutMs?: number;
}

/** A Ferry connection over WebTransport with the `BenchConn` shape. */
export class WtConn implements BenchConn {
  readonly prefixed = true;
  onClose: CloseHandler = () => {};
  closed = false;
  closeCode = 0;
  closeReason = '';
  private handler: FrameHandler | null = null;
  /** Frames that arrived before a handler was set (see WireConn.early). */
  private early: Buffer[] = [];
  private readonly frames = new PrefixedReader();

  private constructor(
    readonly session: WebTransportClientSession,
    readonly stream: WtBidiStream,
  ) {
    session.setHandler({
      onBidiStream: (s) => s.reset(0),
      onUniStream: (s) => s.stop(0),
      onDatagram: () => {},
      onClose: (code, reason) => this.closedWith(code, reason),
    });
    stream.setHandler({
      onData: (bytes) =>
        this.frames.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (buf, s, e) =>
          this.frameIn(buf, s, e),
        ),
      // The server FINs the frame stream when it closes the connection; answering with ours lets it
      // close the session at once (docs/protocol.md §2.3).
      onEnd: () => stream.end(),
      onReset: () => {},
      onDrain: () => {},
    });
  }

  /** Opens a session to `https://…/wt` pinned by `certHashes`, and the frame stream. */
  static async connect(url: string, opts: OpenOptions = {}): Promise<WtConn> {
    const session = await connect(url, {
      certHashes: opts.certHashes ?? [],
      timeoutMs: opts.timeoutMs ?? 10_000,
    });
    return new WtConn(session, session.openBidiStream());
  }

  setFrameHandler(handler: FrameHandler): void {
    this.handler = handler;
    const early = this.early;
    this.early = [];
    for (const f of early) handler(f, 0, f.length);
  }

  send(frame: Buffer): void {
    if (!this.closed) this.stream.write(frame);
  }

  buffered(): number {
    return this.stream.bufferedAmount();
  }

  /** Graceful: the session close capsule (code 0); the server sees the session end. */
  close(): void {
    if (!this.closed) this.session.close(0, 'bench done');
  }

  /** Drops the QUIC connection without a word, like a vanished client. */
  terminate(): void {
    this.session.destroy();
  }

  private frameIn(buf: Buffer, start: number, end: number): void {
    if (this.handler !== null) this.handler(buf, start, end);
    else this.early.push(Buffer.from(buf.subarray(start, end)));
  }

  private closedWith(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    this.closeReason = reason;
    this.onClose(code, reason);
  }
}

/** Opens a connection of `kind` (no authentication yet). */
export function openConn(kind: BenchTransport, url: string, opts: OpenOptions = {}): Promise<BenchConn> {
  if (kind === 'wt') return WtConn.connect(url, opts);
  return WireConn.connect(url, opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {});
}

/** Sends Authenticate on any BenchConn (wire-conn.ts `authenticate`, which both kinds satisfy). */
export const authenticateConn: (conn: BenchConn, token: string, timeoutMs?: number) => Promise<void> =
  authenticate;
