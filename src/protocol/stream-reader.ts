import { DisconnectCode, ProtocolError } from '../errors.js';
import { LENGTH_PREFIX_BYTES, MAX_DECLARABLE_FRAME_BYTES } from './constants.js';

/**
 * Splits a byte stream (raw TCP, a WebTransport bidirectional stream) into frame bodies of the form
 * u32-BE length + body (docs/protocol.md §2.1), across arbitrary chunk boundaries.
 *
 * Invariants:
 *  - Linear time and memory in the bytes pushed, however the stream is chunked: a frame whose body
 *    spans chunks gets one buffer of exactly its declared length, allocated when its prefix is
 *    complete and filled in place (never re-concatenated); a prefix split across chunks is assembled
 *    in a fixed 4-byte scratch buffer. A frame wholly inside one chunk is passed on as a view, no copy.
 *  - Holds at most one partial frame: `bufferedBytes` <= 4 + maxFrameBytes.
 *  - A declared length over `maxFrameBytes` throws FRAME_TOO_LARGE as soon as the 4 prefix bytes are
 *    in, before any of the body is buffered, so a peer cannot make the reader allocate past the limit.
 *  - A zero-length frame is passed on as an empty body (decodeFrame rejects it as BAD_FRAME); framing
 *    itself has no other failure mode.
 *  - Fails closed: after any throw out of `push` (its own ProtocolError, or one from `onFrame`) the
 *    reader is poisoned and every later `push` throws a ProtocolError; the stream's framing can no
 *    longer be trusted and the connection must be closed.
 *  - Can stop mid-chunk without copying: `onFrame` may call `hold()` to leave the frame it was handed
 *    untaken. The reader then keeps that frame and the unread rest of the chunk (views, no copy),
 *    hands out nothing more, and queues any later `push` behind them until `resume` offers the held
 *    frame again (a session over its rate limit stops reading this way, docs/architecture.md).
 */
export class StreamFrameReader {
  private readonly maxFrameBytes: number;
  /** Prefix bytes of the next frame seen so far (0-3 outside `push`). */
  private readonly header = new Uint8Array(LENGTH_PREFIX_BYTES);
  private headerFilled = 0;
  /** Body of a frame that spans chunks, being filled; null between frames. */
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private failure: ProtocolError | null = null;
  /** Set by `hold()` during an `onFrame` call. */
  private holdRequested = false;
  /** The frame left untaken by `hold()`, offered again first by `resume`; null when not holding. */
  private heldFrame: Uint8Array | null = null;
  /** Unread bytes behind the held frame, oldest first. */
  private heldChunks: Uint8Array[] = [];

  /**
   * @param maxFrameBytes largest body accepted (limits.maxFrameBytes); values at or above 2^32-1,
   * Infinity included, mean "whatever a u32 prefix can declare".
   */
  constructor(maxFrameBytes: number) {
    if (Number.isNaN(maxFrameBytes) || maxFrameBytes < 0) {
      throw new RangeError(`maxFrameBytes must be a non-negative number, got ${maxFrameBytes}`);
    }
    this.maxFrameBytes = Math.min(Math.floor(maxFrameBytes), MAX_DECLARABLE_FRAME_BYTES);
  }

  /** Bytes held waiting for the rest of a frame (a partial prefix plus a partial body). */
  get bufferedBytes(): number {
    return this.body === null ? this.headerFilled : LENGTH_PREFIX_BYTES + this.bodyFilled;
  }

  /** True while a frame left untaken by `hold()` waits for `resume`. */
  get holding(): boolean {
    return this.heldFrame !== null;
  }

  /**
   * Only from inside `onFrame`: the frame just handed out is not taken. Once `onFrame` returns, the
   * reader stops; the frame (still a view: its bytes stay valid, they are the caller's chunk) and the
   * rest of the chunk wait for `resume`.
   */
  hold(): void {
    this.holdRequested = true;
  }

  /**
   * Offers the held frame again, then reads on through the bytes queued behind it, in order, until
   * they are used up or `onFrame` holds again. Same errors and poisoning as `push`.
   */
  resume(onFrame: (body: Uint8Array) => void): void {
    if (this.failure !== null) throw this.failure;
    const frame = this.heldFrame;
    if (frame === null) return;
    try {
      this.heldFrame = null;
      if (this.offer(frame, onFrame, null, 0)) return;
      while (this.heldFrame === null && this.heldChunks.length > 0) {
        this.consume(this.heldChunks.shift()!, onFrame);
      }
    } catch (err) {
      this.poison(err);
      throw err;
    }
  }

  /**
   * Feeds one chunk; calls `onFrame` synchronously, in stream order, with each complete frame body.
   * The body is a view that is valid only during the call (copy it to keep it; decodeFrame copies what
   * it keeps). The chunk is not retained after `push` returns except as the bodies handed out and,
   * while holding, as the held frame and the unread rest: the caller must not reuse the chunk's
   * memory (socket and WebTransport reads are fresh buffers). While holding, the chunk is only queued.
   * Throws ProtocolError (FRAME_TOO_LARGE, or the poisoned-reader error); an exception thrown by
   * `onFrame` propagates unchanged, the rest of the chunk is not read, and the reader is poisoned.
   */
  push(chunk: Uint8Array, onFrame: (body: Uint8Array) => void): void {
    if (this.failure !== null) throw this.failure;
    if (this.heldFrame !== null) {
      this.heldChunks.push(chunk);
      return;
    }
    try {
      this.consume(chunk, onFrame);
    } catch (err) {
      this.poison(err);
      throw err;
    }
  }

  private poison(err: unknown): void {
    this.heldFrame = null;
    this.heldChunks = [];
    this.failure =
      err instanceof ProtocolError
        ? err
        : new ProtocolError(DisconnectCode.BAD_FRAME, 'frame handler failed; stream abandoned', {
            cause: err,
          });
  }

  /**
   * Hands `body` to `onFrame`; when it holds, keeps the body and `chunk` from `rest` on (ahead of any
   * queued chunk) and returns true.
   */
  private offer(
    body: Uint8Array,
    onFrame: (body: Uint8Array) => void,
    chunk: Uint8Array | null,
    rest: number,
  ): boolean {
    this.holdRequested = false;
    onFrame(body);
    if (!this.holdRequested) return false;
    this.holdRequested = false;
    this.heldFrame = body;
    if (chunk !== null && rest < chunk.length) this.heldChunks.unshift(chunk.subarray(rest));
    return true;
  }

  private consume(chunk: Uint8Array, onFrame: (body: Uint8Array) => void): void {
    const end = chunk.length;
    let off = 0;
    while (off < end) {
      if (this.body !== null) {
        // Continue a body that spans chunks: copy what this chunk holds of it, in place.
        const body = this.body;
        const n = Math.min(body.length - this.bodyFilled, end - off);
        if (n === 1) body[this.bodyFilled] = chunk[off]!;
        else body.set(chunk.subarray(off, off + n), this.bodyFilled);
        this.bodyFilled += n;
        off += n;
        if (this.bodyFilled === body.length) {
          this.body = null;
          this.bodyFilled = 0;
          if (this.offer(body, onFrame, chunk, off)) return;
        }
        continue;
      }

      let length: number;
      if (this.headerFilled === 0 && end - off >= LENGTH_PREFIX_BYTES) {
        // Fast path: the whole prefix is in this chunk.
        length = readU32BE(chunk, off);
        off += LENGTH_PREFIX_BYTES;
      } else {
        // The prefix is split across chunks: gather it in the 4-byte scratch buffer.
        while (this.headerFilled < LENGTH_PREFIX_BYTES && off < end) {
          this.header[this.headerFilled++] = chunk[off++]!;
        }
        if (this.headerFilled < LENGTH_PREFIX_BYTES) return;
        this.headerFilled = 0;
        length = readU32BE(this.header, 0);
      }

      if (length > this.maxFrameBytes) {
        throw new ProtocolError(
          DisconnectCode.FRAME_TOO_LARGE,
          `frame length ${length} exceeds ${this.maxFrameBytes}`,
        );
      }
      if (end - off >= length) {
        // The whole body is in this chunk: hand out a view, no copy.
        const body = chunk.subarray(off, off + length);
        off += length;
        if (this.offer(body, onFrame, chunk, off)) return;
      } else {
        // The body spans chunks: allocate it once, at its declared (already bounded) size. Unpooled and
        // not zero-filled: it is handed out only once every byte has been written.
        const body = Buffer.allocUnsafeSlow(length);
        body.set(chunk.subarray(off, end), 0);
        this.bodyFilled = end - off;
        this.body = body;
        off = end;
      }
    }
  }
}

function readU32BE(bytes: Uint8Array, off: number): number {
  return ((bytes[off]! << 24) | (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!) >>> 0;
}
