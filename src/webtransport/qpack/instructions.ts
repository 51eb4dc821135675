/**
 * The two QPACK instruction streams (RFC 9204 §4.2) as seen by an endpoint whose dynamic tables
 * stay empty: we advertise capacity 0, and our encoder never inserts. What may legitimately arrive:
 * - on the peer's encoder stream, Set Dynamic Table Capacity 0 (Chromium sends the byte `0x20`);
 * - on the peer's decoder stream, Stream Cancellation (sent when a request stream is reset).
 * Everything else is a connection error with the stream's QPACK error code.
 */
import {
  H3_CLOSED_CRITICAL_STREAM,
  QPACK_DECODER_STREAM_ERROR,
  QPACK_ENCODER_STREAM_ERROR,
} from '../constants.js';
import { H3Error } from '../errors.js';
import { INT_INCOMPLETE, readPrefixedInt, type Cursor } from './primitives.js';

/** An instruction is at most 1 + 9 continuation bytes long; that is all we ever hold back. */
const MAX_PENDING = 16;

/**
 * Shared chunk handling: parses whole instructions, keeps an incomplete tail (<= 16 bytes) for the
 * next chunk. `parseOne` returns false when the instruction at `cur.pos` is incomplete.
 */
abstract class InstructionReader {
  private pending: Uint8Array | undefined;
  private failed = false;

  protected abstract readonly errorCode: number;
  protected abstract parseOne(buf: Uint8Array, cur: Cursor): boolean;

  /** Parses a chunk of the stream; throws H3Error with the stream's QPACK error code. */
  push(chunk: Uint8Array): void {
    if (this.failed) throw new H3Error(this.errorCode, 'QPACK stream used after an error');
    let buf = chunk;
    if (this.pending) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
      this.pending = undefined;
    }
    const cur: Cursor = { pos: 0 };
    try {
      while (cur.pos < buf.length) {
        const start = cur.pos;
        if (!this.parseOne(buf, cur)) {
          cur.pos = start;
          break;
        }
      }
    } catch (err) {
      this.failed = true;
      throw err;
    }
    if (cur.pos < buf.length) {
      if (buf.length - cur.pos > MAX_PENDING) {
        this.failed = true;
        throw new H3Error(this.errorCode, 'QPACK instruction too long');
      }
      this.pending = buf.slice(cur.pos);
    }
  }

  /** The peer closed the stream: RFC 9204 §4.2 forbids closing either QPACK stream. */
  finish(): void {
    this.failed = true;
    throw new H3Error(H3_CLOSED_CRITICAL_STREAM, 'QPACK stream closed'); // RFC 9204 §4.2
  }

  protected int(buf: Uint8Array, cur: Cursor, prefixBits: number): number {
    return readPrefixedInt(buf, cur, buf.length, prefixBits, this.errorCode);
  }
}

/**
 * Reads the peer's QPACK encoder stream (after its stream type byte) for a decoder that allows
 * `maxTableCapacity` (Ferry: 0). RFC 9204 §4.3.1: Set Dynamic Table Capacity above that limit is
 * QPACK_ENCODER_STREAM_ERROR; with capacity 0 every insertion (§4.3.2, §4.3.3) and Duplicate
 * (§4.3.4) is one too, as no entry can fit or exist.
 */
export class QpackEncoderStreamReader extends InstructionReader {
  protected readonly errorCode = QPACK_ENCODER_STREAM_ERROR;
  /** Last capacity the peer set (0 unless `maxTableCapacity` > 0). */
  capacity = 0;

  constructor(private readonly maxTableCapacity = 0) {
    super();
  }

  protected parseOne(buf: Uint8Array, cur: Cursor): boolean {
    const b = buf[cur.pos]!;
    if ((b & 0xe0) === 0x20) {
      // RFC 9204 §4.3.1: 001 capacity(5)
      const capacity = this.int(buf, cur, 5);
      if (capacity === INT_INCOMPLETE) return false;
      if (capacity > this.maxTableCapacity) {
        throw new H3Error(
          this.errorCode,
          `dynamic table capacity ${capacity} exceeds ${this.maxTableCapacity}`,
        );
      }
      this.capacity = capacity;
      return true;
    }
    const what =
      b & 0x80 ? 'Insert with Name Reference' : b & 0x40 ? 'Insert with Literal Name' : 'Duplicate';
    throw new H3Error(this.errorCode, `${what} on a dynamic table of capacity 0`);
  }
}

/**
 * Reads the peer's QPACK decoder stream (after its stream type byte) for an encoder that never
 * uses the dynamic table. Stream Cancellation (RFC 9204 §4.4.2) is accepted and ignored; Section
 * Acknowledgment (§4.4.1: no section of ours has a non-zero Required Insert Count) and Insert
 * Count Increment (§4.4.3: we inserted nothing) are QPACK_DECODER_STREAM_ERROR.
 */
export class QpackDecoderStreamReader extends InstructionReader {
  protected readonly errorCode = QPACK_DECODER_STREAM_ERROR;

  protected parseOne(buf: Uint8Array, cur: Cursor): boolean {
    const b = buf[cur.pos]!;
    if (b & 0x80) {
      if (this.int(buf, cur, 7) === INT_INCOMPLETE) return false;
      throw new H3Error(this.errorCode, 'Section Acknowledgment for a section without dynamic references');
    }
    if (b & 0x40) return this.int(buf, cur, 6) !== INT_INCOMPLETE; // Stream Cancellation
    if (this.int(buf, cur, 6) === INT_INCOMPLETE) return false;
    throw new H3Error(this.errorCode, 'Insert Count Increment but nothing was inserted');
  }
}
