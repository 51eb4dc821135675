import { DisconnectCode, ProtocolError } from '../errors.js';
import { LENGTH_PREFIX_BYTES } from './codec.js';

/**
 * Splits a byte stream into frames of the form u32-BE length + body, across arbitrary chunk
 * boundaries. Holds at most one partial frame; a declared length over `maxFrameBytes` throws
 * FRAME_TOO_LARGE before any of its body is buffered, so a peer cannot make it allocate much.
 */
export class StreamFrameReader {
  private readonly maxFrameBytes: number;
  private pending: Buffer | null = null;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }

  /**
   * Feeds one chunk; calls `onFrame` with each complete frame body (a view, valid only during the
   * call unless copied). Throws ProtocolError; after a throw the reader must not be used again.
   */
  push(chunk: Uint8Array, onFrame: (body: Uint8Array) => void): void {
    let buf = toBuffer(chunk);
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, buf]);
      this.pending = null;
    }
    let off = 0;
    while (buf.length - off >= LENGTH_PREFIX_BYTES) {
      const len = buf.readUInt32BE(off);
      if (len > this.maxFrameBytes) {
        throw new ProtocolError(
          DisconnectCode.FRAME_TOO_LARGE,
          `frame length ${len} exceeds ${this.maxFrameBytes}`,
        );
      }
      const end = off + LENGTH_PREFIX_BYTES + len;
      if (end > buf.length) break;
      onFrame(buf.subarray(off + LENGTH_PREFIX_BYTES, end));
      off = end;
    }
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
  }
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
