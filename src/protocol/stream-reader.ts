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

  /**
   * Feeds one chunk; calls `onFrame` synchronously, in stream order, with each complete frame body.
   * The body is a view that is valid only during the call (copy it to keep it; decodeFrame copies what
   * it keeps). The chunk is not retained after `push` returns except as the bodies handed out.
   * Throws ProtocolError (FRAME_TOO_LARGE, or the poisoned-reader error); an exception thrown by
   * `onFrame` propagates unchanged, the rest of the chunk is not read, and the reader is poisoned.
   */
  push(chunk: Uint8Array, onFrame: (body: Uint8Array) => void): void {
    if (this.failure !== null) throw this.failure;
    try {
      this.consume(chunk, onFrame);
    } catch (err) {
      this.failure =
        err instanceof ProtocolError
          ? err
          : new ProtocolError(DisconnectCode.BAD_FRAME, 'frame handler failed; stream abandoned', {
              cause: err,
            });
      throw err;
    }
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
          onFrame(body);
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
        onFrame(body);
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
