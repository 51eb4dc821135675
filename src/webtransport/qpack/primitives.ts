/**
 * QPACK primitives: prefixed integers (RFC 7541 §5.1, used by RFC 9204 §4.1.1) and the byte <->
 * string mapping of field names and values.
 */
import { Buffer } from 'node:buffer';
import { H3Error, internalError } from '../errors.js';

/** Returned by {@link readPrefixedInt} when the input ends inside the integer. */
export const INT_INCOMPLETE = -1;

/**
 * RFC 9204 §4.1.1 requires decoding integers of up to 62 bits. 2^62 needs ceil((62-1)/7) = 9
 * continuation bytes at most after a 1-bit prefix; anything longer is an overflow attack.
 */
const MAX_CONTINUATION_BYTES = 9;
const TWO_POW_62 = 2 ** 62;

/** Reusable cursor so readers return a value and advance without allocating. */
export interface Cursor {
  pos: number;
}

/**
 * Reads a prefixed integer (RFC 7541 §5.1) whose `prefixBits` low bits start at `buf[cur.pos]`
 * (the high bits of that byte are the caller's flags). On success advances `cur.pos` and returns
 * the value (exact up to 2^53-1; larger values, up to 2^62, come back inexact but are only ever
 * compared against limits). Returns {@link INT_INCOMPLETE} (cursor unchanged) when `end` comes
 * first. Throws H3Error `errorCode` for more than 9 continuation bytes or a value >= 2^62.
 */
export function readPrefixedInt(
  buf: Uint8Array,
  cur: Cursor,
  end: number,
  prefixBits: number,
  errorCode: number,
): number {
  let pos = cur.pos;
  if (pos >= end) return INT_INCOMPLETE;
  const max = (1 << prefixBits) - 1;
  let value = buf[pos++]! & max;
  if (value < max) {
    cur.pos = pos;
    return value;
  }
  let scale = 1;
  for (let n = 0; ; n++) {
    if (pos >= end) return INT_INCOMPLETE;
    if (n >= MAX_CONTINUATION_BYTES) throw new H3Error(errorCode, 'QPACK integer too long');
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) break;
  }
  if (value >= TWO_POW_62) throw new H3Error(errorCode, 'QPACK integer exceeds 62 bits');
  cur.pos = pos;
  return value;
}

/** Bytes {@link writePrefixedInt} takes for `value` with an N-bit prefix. */
export function prefixedIntLength(value: number, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) return 1;
  let n = 2;
  for (let rest = value - max; rest >= 128; rest = Math.floor(rest / 128)) n++;
  return n;
}

/**
 * Writes `value` with an N-bit prefix at `offset`, OR-ing `flags` (the high bits) into the first
 * byte; returns the offset after it. `value` must be a safe non-negative integer.
 */
export function writePrefixedInt(
  out: Uint8Array,
  offset: number,
  value: number,
  prefixBits: number,
  flags: number,
): number {
  if (!Number.isSafeInteger(value) || value < 0) throw internalError(`bad QPACK integer ${value}`);
  const max = (1 << prefixBits) - 1;
  let o = offset;
  if (value < max) {
    out[o++] = flags | value;
    return o;
  }
  out[o++] = flags | max;
  let rest = value - max;
  while (rest >= 128) {
    out[o++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  out[o++] = rest;
  return o;
}

/**
 * Field bytes -> string, one char per byte (ISO-8859-1): lossless, so any octets a peer sends
 * survive, and ASCII (all a valid CONNECT needs) reads as itself.
 */
export function bytesToLatin1(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 16) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
    return s;
  }
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/**
 * String -> field bytes, one byte per char. Throws H3Error (H3_INTERNAL_ERROR) for chars above
 * U+00FF, which HTTP field values cannot carry: percent-encode or UTF-8-encode them first.
 */
export function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw internalError('field name/value has a character above U+00FF');
    out[i] = c;
  }
  return out;
}
