/**
 * QPACK field-section decoding (RFC 9204 §4.5) for a decoder that advertised dynamic table capacity
 * 0: every field section must have Required Insert Count 0, and only static-table references and
 * literals are valid. Hardened against "QPACK bombs": the decoded size is capped and checked
 * before each string is materialised, so a tiny input can't expand into large output or CPU.
 */
import { FIELD_LINE_OVERHEAD, QPACK_DECOMPRESSION_FAILED } from '../constants.js';
import { decompressionFailed, excessiveLoad } from '../errors.js';
import { HUFFMAN_TOO_LONG, huffmanDecode } from './huffman.js';
import { INT_INCOMPLETE, bytesToLatin1, readPrefixedInt, type Cursor } from './primitives.js';
import { STATIC_TABLE, STATIC_TABLE_SIZE } from './static-table.js';

/**
 * One decoded field line: name, value and — when the peer set the N ("never indexed") bit,
 * RFC 9204 §4.5.4 — `true`, which an intermediary must preserve when re-encoding.
 */
export type HeaderField = [name: string, value: string, neverIndex?: boolean];

/** Caps of {@link decodeFieldSection}. */
export interface FieldSectionLimits {
  /**
   * Largest decoded section, counted as RFC 9114 §4.2.2 does (name + value + 32 bytes per field),
   * i.e. our SETTINGS_MAX_FIELD_SECTION_SIZE. Default 16384.
   */
  maxHeaderBytes?: number;
  /** Most field lines accepted. Default 128. */
  maxHeaders?: number;
}

/** Scratch for decoded strings; grows up to the largest cap seen, shared (decoding is synchronous). */
let scratch = new Uint8Array(4096);

function fail(what: string): never {
  throw decompressionFailed(`QPACK: ${what}`);
}

function int(buf: Uint8Array, cur: Cursor, end: number, prefixBits: number): number {
  const v = readPrefixedInt(buf, cur, end, prefixBits, QPACK_DECOMPRESSION_FAILED);
  if (v === INT_INCOMPLETE) fail('field section truncated inside an integer');
  return v;
}

/**
 * Decodes an encoded field section (a HEADERS frame payload) into field lines, in order.
 *
 * Throws H3Error:
 * - QPACK_DECOMPRESSION_FAILED (connection error, RFC 9204 §2.2.3) for malformed input:
 *   truncation, integer overflow, invalid Huffman (RFC 7541 §5.2), a static index > 98, a
 *   non-zero Required Insert Count (RFC 9204 §4.5.1.1: our capacity is 0) or any dynamic-table
 *   or post-base reference (§4.5.2-§4.5.6);
 * - H3_EXCESSIVE_LOAD with scope 'stream' when the section exceeds `maxHeaderBytes` or
 *   `maxHeaders` (RFC 9114 §4.2.2: the request may be refused — reset the stream or answer 431 —
 *   without closing the connection). The check runs before each string is decoded.
 */
export function decodeFieldSection(buf: Uint8Array, limits: FieldSectionLimits = {}): HeaderField[] {
  const maxBytes = limits.maxHeaderBytes ?? 16384;
  const maxHeaders = limits.maxHeaders ?? 128;
  const end = buf.length;
  const cur: Cursor = { pos: 0 };

  // RFC 9204 §4.5.1: Required Insert Count (8-bit prefix), then Sign + Delta Base (7-bit prefix).
  const ric = int(buf, cur, end, 8);
  if (ric !== 0) fail('Required Insert Count is not 0 but our dynamic table capacity is 0');
  // RFC 9204 §4.5.1.2: Sign 1 needs Required Insert Count > Delta Base, impossible with RIC 0.
  if (cur.pos < end && (buf[cur.pos]! & 0x80) !== 0) fail('negative Base');
  int(buf, cur, end, 7); // Base only matters for dynamic references, all rejected below

  const fields: HeaderField[] = [];
  let budget = maxBytes;
  const spend = (bytes: number): void => {
    budget -= bytes;
    if (budget < 0) throw excessiveLoad(`field section exceeds ${maxBytes} bytes`, 'stream');
  };

  while (cur.pos < end) {
    if (fields.length >= maxHeaders) throw excessiveLoad(`more than ${maxHeaders} field lines`, 'stream');
    spend(FIELD_LINE_OVERHEAD);
    const b = buf[cur.pos]!;
    if (b & 0x80) {
      // RFC 9204 §4.5.2: Indexed Field Line, 1 T index(6).
      if ((b & 0x40) === 0) fail('dynamic table reference');
      const [name, value] = staticEntry(int(buf, cur, end, 6));
      spend(name.length + value.length);
      fields.push([name, value]);
    } else if (b & 0x40) {
      // RFC 9204 §4.5.4: Literal Field Line with Name Reference, 01 N T index(4), then the value.
      if ((b & 0x10) === 0) fail('dynamic table name reference');
      const neverIndex = (b & 0x20) !== 0;
      const name = staticEntry(int(buf, cur, end, 4))[0];
      spend(name.length);
      const value = readString(buf, cur, end, 7, budget, maxBytes);
      spend(value.length);
      fields.push(neverIndex ? [name, value, true] : [name, value]);
    } else if (b & 0x20) {
      // RFC 9204 §4.5.6: Literal Field Line with Literal Name, 001 N H len(3), name, then the value.
      const neverIndex = (b & 0x10) !== 0;
      const name = readString(buf, cur, end, 3, budget, maxBytes);
      spend(name.length);
      const value = readString(buf, cur, end, 7, budget, maxBytes);
      spend(value.length);
      fields.push(neverIndex ? [name, value, true] : [name, value]);
    } else {
      // RFC 9204 §4.5.3 / §4.5.5: post-base index / post-base name reference (dynamic only).
      fail('post-base (dynamic table) reference');
    }
  }
  return fields;
}

function staticEntry(index: number): readonly [string, string] {
  if (index >= STATIC_TABLE_SIZE) fail(`static table index ${index} out of range`);
  return STATIC_TABLE[index]!;
}

/**
 * RFC 9204 §4.1.2: a string literal with its H flag just above an N-bit length prefix. The
 * declared length is checked against the remaining input and, before decoding, against the
 * remaining budget: raw bytes can't shrink, and Huffman output is capped while decoding.
 */
function readString(
  buf: Uint8Array,
  cur: Cursor,
  end: number,
  prefixBits: number,
  budget: number,
  maxBytes: number,
): string {
  const huffman = (buf[cur.pos]! & (1 << prefixBits)) !== 0;
  const length = int(buf, cur, end, prefixBits);
  if (length > end - cur.pos) fail('string length exceeds the field section');
  const start = cur.pos;
  cur.pos += length;
  if (!huffman) {
    if (length > budget) throw excessiveLoad(`field section exceeds ${maxBytes} bytes`, 'stream');
    return bytesToLatin1(buf, start, start + length);
  }
  // Huffman output is at most length*8/5 bytes (shortest code: 5 bits); never more than the budget.
  const cap = Math.min(budget, Math.ceil((length * 8) / 5));
  if (scratch.length < cap) scratch = new Uint8Array(Math.max(cap, scratch.length * 2));
  const n = huffmanDecode(buf, start, start + length, scratch, 0, cap);
  if (n === HUFFMAN_TOO_LONG) throw excessiveLoad(`field section exceeds ${maxBytes} bytes`, 'stream');
  if (n < 0) fail('invalid Huffman string');
  return bytesToLatin1(scratch, 0, n);
}
