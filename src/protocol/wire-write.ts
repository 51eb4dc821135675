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

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

export function writeVarint(out: Buffer, at: number, n: number): number {
  while (n >= 128) {
    out[at++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
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
