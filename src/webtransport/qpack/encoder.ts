/**
 * QPACK field-section encoding (RFC 9204 §4.5) with the static table only: Required Insert Count 0,
 * no dynamic table, so nothing is ever sent on our encoder stream except its type byte and the
 * peer's decoder never blocks. Literals are Huffman-coded when that is shorter (RFC 7541 §5.2).
 */
import { huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { latin1ToBytes, prefixedIntLength, writePrefixedInt } from './primitives.js';
import { staticIndexOf, staticNameIndexOf } from './static-table.js';

/** A field to encode: name (lowercase), value and optionally "never index" (sets the N bit). */
export type EncodableField = readonly [name: string, value: string, neverIndex?: boolean];

/** A string literal planned for output: its bytes and whether Huffman is shorter. */
interface Literal {
  bytes: Uint8Array;
  huffman: boolean;
  /** Encoded length of the string (without the length prefix). */
  length: number;
}

function plan(s: string): Literal {
  const bytes = latin1ToBytes(s);
  const h = huffmanEncodedLength(bytes);
  return h < bytes.length
    ? { bytes, huffman: true, length: h }
    : { bytes, huffman: false, length: bytes.length };
}

/** Size of a string literal whose H flag sits above an N-bit length prefix. */
function literalSize(lit: Literal, prefixBits: number): number {
  return prefixedIntLength(lit.length, prefixBits) + lit.length;
}

/** Writes a string literal; `flags` are the bits above the H flag. */
function writeLiteral(out: Uint8Array, o: number, lit: Literal, prefixBits: number, flags: number): number {
  const h = lit.huffman ? 1 << prefixBits : 0;
  const start = writePrefixedInt(out, o, lit.length, prefixBits, flags | h);
  if (lit.huffman) return huffmanEncode(lit.bytes, out, start);
  out.set(lit.bytes, start);
  return start + lit.bytes.length;
}

type Line =
  | { kind: 'indexed'; index: number }
  | { kind: 'nameRef'; index: number; value: Literal; never: boolean }
  | { kind: 'literal'; name: Literal; value: Literal; never: boolean };

/**
 * Encodes fields into one field section (a HEADERS frame payload). Per field, RFC 9204 §4.5:
 * a full static match becomes an Indexed Field Line (§4.5.2; `:status 200` -> `d9`), a static name
 * match a Literal Field Line with Name Reference (§4.5.4), anything else a Literal Field Line with
 * Literal Name (§4.5.6). A field marked `neverIndex` is never sent as an indexed line and carries
 * the N bit. Names must already be lowercase (RFC 9114 §4.2); chars above U+00FF throw
 * H3Error (H3_INTERNAL_ERROR).
 */
export function encodeFieldSection(headers: Iterable<EncodableField>): Uint8Array {
  const lines: Line[] = [];
  let size = 2; // RFC 9204 §4.5.1: Required Insert Count 0 and Delta Base 0, one byte each
  for (const [name, value, neverIndex] of headers) {
    const never = neverIndex === true;
    const full = never ? -1 : staticIndexOf(name, value);
    if (full >= 0) {
      lines.push({ kind: 'indexed', index: full });
      size += prefixedIntLength(full, 6);
      continue;
    }
    const nameIndex = staticNameIndexOf(name);
    const v = plan(value);
    if (nameIndex >= 0) {
      lines.push({ kind: 'nameRef', index: nameIndex, value: v, never });
      size += prefixedIntLength(nameIndex, 4) + literalSize(v, 7);
    } else {
      const n = plan(name);
      lines.push({ kind: 'literal', name: n, value: v, never });
      size += literalSize(n, 3) + literalSize(v, 7);
    }
  }
  const out = new Uint8Array(size);
  let o = 2; // out[0] = out[1] = 0: the prefix
  for (const line of lines) {
    switch (line.kind) {
      case 'indexed':
        o = writePrefixedInt(out, o, line.index, 6, 0xc0); // 1 T=1 index(6)
        break;
      case 'nameRef':
        o = writePrefixedInt(out, o, line.index, 4, 0x50 | (line.never ? 0x20 : 0)); // 01 N T=1 index(4)
        o = writeLiteral(out, o, line.value, 7, 0);
        break;
      case 'literal':
        o = writeLiteral(out, o, line.name, 3, 0x20 | (line.never ? 0x10 : 0)); // 001 N H len(3)
        o = writeLiteral(out, o, line.value, 7, 0);
        break;
    }
  }
  return out;
}
