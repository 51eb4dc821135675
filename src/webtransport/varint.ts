/**
 * QUIC variable-length integers (RFC 9000 §16): the two high bits of the first byte give the length
 * (1, 2, 4 or 8 bytes), the rest is the big-endian value, up to 2^62-1.
 *
 * Numbers vs bigint: JavaScript numbers are exact up to 2^53-1 (Number.MAX_SAFE_INTEGER), and every
 * value this module acts on (lengths, stream and session ids, known types and settings) is far
 * below that. So the hot-path reader {@link readVarint} returns a `number`: exact for values up to
 * 2^53-1; an 8-byte encoding of a larger value (a peer's GREASE type, say) comes back as the nearest
 * double, always `> Number.MAX_SAFE_INTEGER`, never equal to a known constant. Callers treat such a
 * value as "unknown" (types, setting ids) or "too large" (lengths, ids). {@link readVarintBigInt}
 * returns the exact value when it matters; the writers accept a `bigint` for values past 2^53-1.
 */
import { internalError } from './errors.js';

/** Returned by {@link readVarint} when the buffer ends before the varint does. */
export const VARINT_INCOMPLETE = -1;

const TWO_POW_32 = 0x1_0000_0000;
const VARINT_MAX_BIG = (1n << 62n) - 1n;

/** RFC 9000 §16: encoded length (1, 2, 4 or 8) announced by a varint's first byte. */
export function varintSize(firstByte: number): 1 | 2 | 4 | 8 {
  return (1 << (firstByte >> 6)) as 1 | 2 | 4 | 8;
}

/**
 * Reads the varint at `offset` without copying. Returns its value, or {@link VARINT_INCOMPLETE}
 * (-1) when `buf` ends first; its encoded length is `varintSize(buf[offset])`. Values above 2^53-1
 * are returned inexact (see the module comment). Never throws.
 */
export function readVarint(buf: Uint8Array, offset: number): number {
  if (offset >= buf.length) return VARINT_INCOMPLETE;
  const first = buf[offset]!;
  const size = varintSize(first);
  if (offset + size > buf.length) return VARINT_INCOMPLETE;
  switch (size) {
    case 1:
      return first;
    case 2:
      return ((first & 0x3f) << 8) | buf[offset + 1]!;
    case 4:
      return (
        (first & 0x3f) * 0x100_0000 + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!)
      );
    default: {
      const hi =
        (first & 0x3f) * 0x100_0000 + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!);
      const lo =
        buf[offset + 4]! * 0x100_0000 +
        ((buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!);
      return hi * TWO_POW_32 + lo;
    }
  }
}

/** Exact reader for the full 62-bit range; `undefined` when `buf` ends before the varint does. */
export function readVarintBigInt(buf: Uint8Array, offset: number): bigint | undefined {
  if (offset >= buf.length) return undefined;
  const size = varintSize(buf[offset]!);
  if (offset + size > buf.length) return undefined;
  let value = BigInt(buf[offset]! & 0x3f);
  for (let i = 1; i < size; i++) value = (value << 8n) | BigInt(buf[offset + i]!);
  return value;
}

/**
 * Convenience reader returning value and length, or `undefined` when incomplete. Allocates one
 * small object: use {@link readVarint} + {@link varintSize} on per-packet paths.
 */
export function decodeVarint(buf: Uint8Array, offset: number): { value: number; length: number } | undefined {
  const value = readVarint(buf, offset);
  if (value === VARINT_INCOMPLETE) return undefined;
  return { value, length: varintSize(buf[offset]!) };
}

function checkValue(value: number | bigint): void {
  if (typeof value === 'bigint') {
    if (value < 0n || value > VARINT_MAX_BIG) throw internalError(`varint out of range: ${value}`);
  } else if (!Number.isSafeInteger(value) || value < 0) {
    // Numbers past 2^53-1 are already inexact: the caller must pass a bigint.
    throw internalError(`varint not a safe non-negative integer: ${value}`);
  }
}

/**
 * RFC 9000 §16: shortest encoded length of `value`. Throws H3Error (H3_INTERNAL_ERROR) for a
 * negative, fractional or unsafe number, or a bigint past 2^62-1.
 */
export function varintLength(value: number | bigint): 1 | 2 | 4 | 8 {
  checkValue(value);
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x4000_0000) return 4;
  return 8;
}

/**
 * Writes `value` in its shortest encoding at `offset` and returns the offset just past it. Throws
 * H3Error (H3_INTERNAL_ERROR) if the value is out of range or `buf` is too short.
 */
export function writeVarint(buf: Uint8Array, offset: number, value: number | bigint): number {
  const size = varintLength(value);
  if (offset < 0 || offset + size > buf.length) throw internalError('buffer too short for varint');
  if (typeof value === 'bigint') {
    let v = value;
    for (let i = size - 1; i >= 0; i--) {
      buf[offset + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    buf[offset] = buf[offset]! | ((size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3) << 6);
    return offset + size;
  }
  switch (size) {
    case 1:
      buf[offset] = value;
      break;
    case 2:
      buf[offset] = 0x40 | (value >> 8);
      buf[offset + 1] = value & 0xff;
      break;
    case 4:
      buf[offset] = 0x80 | (value >>> 24);
      buf[offset + 1] = (value >>> 16) & 0xff;
      buf[offset + 2] = (value >>> 8) & 0xff;
      buf[offset + 3] = value & 0xff;
      break;
    default: {
      const hi = Math.floor(value / TWO_POW_32);
      const lo = value >>> 0;
      buf[offset] = 0xc0 | (hi >>> 24);
      buf[offset + 1] = (hi >>> 16) & 0xff;
      buf[offset + 2] = (hi >>> 8) & 0xff;
      buf[offset + 3] = hi & 0xff;
      buf[offset + 4] = lo >>> 24;
      buf[offset + 5] = (lo >>> 16) & 0xff;
      buf[offset + 6] = (lo >>> 8) & 0xff;
      buf[offset + 7] = lo & 0xff;
    }
  }
  return offset + size;
}

/** A fresh buffer holding `value` as a varint (shortest form). */
export function encodeVarint(value: number | bigint): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/**
 * Reads one varint that may straddle chunk boundaries, buffering at most 8 bytes. Call
 * {@link take} with the current chunk and offset; it returns the offset after the bytes it used and
 * sets {@link value} to the varint (or -1 while more bytes are needed). Reused across varints.
 */
export class VarintAccumulator {
  /** The last completed varint, or -1 while one is incomplete. */
  value = VARINT_INCOMPLETE;
  private readonly buf = new Uint8Array(8);
  private have = 0;
  private need = 0;

  /** True while a varint has started but not completed. */
  get pending(): boolean {
    return this.have > 0;
  }

  /** Consumes bytes of `chunk` from `offset` (which must be < chunk.length). */
  take(chunk: Uint8Array, offset: number): number {
    if (this.have === 0) {
      const size = varintSize(chunk[offset]!);
      if (offset + size <= chunk.length) {
        this.value = readVarint(chunk, offset);
        return offset + size;
      }
      this.need = size;
    }
    const n = Math.min(this.need - this.have, chunk.length - offset);
    this.buf.set(chunk.subarray(offset, offset + n), this.have);
    this.have += n;
    if (this.have < this.need) {
      this.value = VARINT_INCOMPLETE;
    } else {
      this.value = readVarint(this.buf, 0);
      this.have = 0;
    }
    return offset + n;
  }
}
