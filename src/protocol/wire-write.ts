/**
 * Protobuf writing primitives for the hand-written encoders of the hot frames (deliver-codec.ts,
 * send-ack-codec.ts): sizes first, then one buffer. Numbers are written as plain varints only when
 * they are non-negative safe integers; callers leave anything else to protobufjs.
 */
import { Buffer } from 'node:buffer';

/** A number written as a plain varint: a non-negative safe integer. */
export function isVarintNumber(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Bytes of a length-delimited field of `n` bytes, 0 when it is empty (proto3 leaves it out). */
export function lenField(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n) + n;
}

/** Bytes of the varint of `n` (a non-negative safe integer). */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  if (n < 0x800000000) return 5;
  if (n < 0x40000000000) return 6;
  if (n < 0x2000000000000) return 7;
  return 8; // up to 2^56, past every safe integer
}

/**
 * Writes the varint of `n` (a non-negative safe integer). The low 28 bits go with 32-bit integer
 * operations; only what is above them (timestamps, large seqs) needs a float division, once.
 */
export function writeVarint(out: Buffer, at: number, n: number): number {
  if (n < 0x10000000) {
    let v = n;
    while (v >= 0x80) {
      out[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[at++] = v;
    return at;
  }
  const low = n % 0x10000000;
  let high = (n - low) / 0x10000000;
  out[at++] = (low & 0x7f) | 0x80;
  out[at++] = ((low >>> 7) & 0x7f) | 0x80;
  out[at++] = ((low >>> 14) & 0x7f) | 0x80;
  out[at++] = ((low >>> 21) & 0x7f) | 0x80;
  while (high >= 0x80) {
    out[at++] = (high & 0x7f) | 0x80;
    high >>>= 7;
  }
  out[at++] = high;
  return at;
}

/** Strings up to this length are scanned in JavaScript: cheaper than a call into C++ for ids. */
const SHORT_STRING = 64;

/** UTF-8 bytes of `s`. Ids are short and ASCII: counted without leaving JavaScript. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > SHORT_STRING) return Buffer.byteLength(s);
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s);
  return n;
}

export function writeString(out: Buffer, at: number, key: number, s: string, len: number): number {
  if (len === 0) return at;
  out[at++] = key;
  at = writeVarint(out, at, len);
  // utf8Length returned s.length only for an ASCII string: one byte per character.
  if (len === s.length && len <= SHORT_STRING) {
    for (let i = 0; i < len; i++) out[at + i] = s.charCodeAt(i);
    return at + len;
  }
  return at + out.write(s, at, len, 'utf8');
}
