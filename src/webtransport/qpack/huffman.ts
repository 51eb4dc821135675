/**
 * The HPACK/QPACK Huffman code (RFC 7541 §5.2 and Appendix B; QPACK reuses it, RFC 9204 §4.1.2).
 *
 * Appendix B is a canonical Huffman code: within each code length, codes are consecutive in symbol
 * order, and lengths grow with the code value. So the whole table is fixed by the 257 code lengths
 * below; codes are rebuilt from them at load time (the unit test checks the result against codes
 * printed in Appendix B, that the code is complete, and that EOS is thirty 1-bits).
 */

/** RFC 7541 Appendix B: code length in bits of symbols 0..255 and EOS (256). */
// prettier-ignore
export const HUFFMAN_CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0x00
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 0x10
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //         0x20 ' '..'/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //              0x30 '0'..'?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                0x40 '@'..'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //             0x50 'P'..'_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                0x60 '`'..'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //            0x70 'p'..DEL
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 0x80
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 0x90
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 0xa0
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 0xb0
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 0xc0
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 0xd0
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 0xe0
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 0xf0
  30, //                                                              EOS
];

const EOS = 256;
const MAX_LEN = 30;

/** Code of each symbol, right-aligned (RFC 7541 Appendix B "code as hex"). */
export const HUFFMAN_CODES: Uint32Array = new Uint32Array(257);
/** Symbols sorted by (length, symbol): the canonical order. */
const SORTED = new Uint16Array(257);
/** Per length: first code, index of its first symbol in SORTED, and how many codes. */
const FIRST_CODE = new Int32Array(MAX_LEN + 2);
const FIRST_INDEX = new Int32Array(MAX_LEN + 2);
const COUNT = new Int32Array(MAX_LEN + 2);

(function buildCanonical(): void {
  const symbols = Array.from({ length: 257 }, (_, s) => s);
  symbols.sort((a, b) => HUFFMAN_CODE_LENGTHS[a]! - HUFFMAN_CODE_LENGTHS[b]! || a - b);
  let code = 0;
  let len = HUFFMAN_CODE_LENGTHS[symbols[0]!]!;
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i]!;
    const l = HUFFMAN_CODE_LENGTHS[s]!;
    if (l !== len) {
      code <<= l - len;
      len = l;
    }
    if (COUNT[l] === 0) {
      FIRST_CODE[l] = code;
      FIRST_INDEX[l] = i;
    }
    COUNT[l]!++;
    HUFFMAN_CODES[s] = code;
    SORTED[i] = s;
    code++;
  }
})();

const POW2: readonly number[] = Array.from({ length: 40 }, (_, i) => 2 ** i);

/** Bytes the Huffman encoding of `src` takes (RFC 7541 §5.2: padded to whole bytes). */
export function huffmanEncodedLength(src: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < src.length; i++) bits += HUFFMAN_CODE_LENGTHS[src[i]!]!;
  return Math.ceil(bits / 8);
}

/**
 * Huffman-encodes `src` into `out` at `offset` (room: {@link huffmanEncodedLength}); returns the
 * offset after it. The last byte is padded with the most significant bits of EOS, i.e. 1-bits
 * (RFC 7541 §5.2).
 */
export function huffmanEncode(src: Uint8Array, out: Uint8Array, offset: number): number {
  let acc = 0; // < 2^(7+30): exact in a double
  let bits = 0;
  let o = offset;
  for (let i = 0; i < src.length; i++) {
    const sym = src[i]!;
    const len = HUFFMAN_CODE_LENGTHS[sym]!;
    acc = acc * POW2[len]! + HUFFMAN_CODES[sym]!;
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      const byte = Math.floor(acc / POW2[bits]!);
      out[o++] = byte;
      acc -= byte * POW2[bits]!;
    }
  }
  if (bits > 0) out[o++] = acc * POW2[8 - bits]! + (POW2[8 - bits]! - 1);
  return o;
}

/** Result codes of {@link huffmanDecode} besides a non-negative end offset. */
export const HUFFMAN_INVALID = -1;
export const HUFFMAN_TOO_LONG = -2;

/**
 * Decodes `src[start, end)` into `out` from `outOffset`, writing at most up to `outLimit`
 * (exclusive). Returns the end offset in `out`, {@link HUFFMAN_TOO_LONG} when the output would
 * pass `outLimit` (a decoded-size cap; stops at once, so a bomb costs no more than the cap), or
 * {@link HUFFMAN_INVALID} when the string decodes EOS, ends with more than 7 bits of padding, or
 * with padding that is not all 1-bits (RFC 7541 §5.2: each is a decoding error). Never throws.
 */
export function huffmanDecode(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outOffset: number,
  outLimit: number,
): number {
  let code = 0;
  let len = 0;
  let o = outOffset;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      const idx = code - FIRST_CODE[len]!;
      if (idx >>> 0 < COUNT[len]!) {
        const sym = SORTED[FIRST_INDEX[len]! + idx]!;
        if (sym === EOS) return HUFFMAN_INVALID;
        if (o >= outLimit) return HUFFMAN_TOO_LONG;
        out[o++] = sym;
        code = 0;
        len = 0;
      } else if (len >= MAX_LEN) {
        return HUFFMAN_INVALID; // unreachable for a complete code; kept as a guard
      }
    }
  }
  // RFC 7541 §5.2: padding longer than 7 bits, or not the EOS prefix (all ones), is an error.
  if (len > 7 || code !== (1 << len) - 1) return HUFFMAN_INVALID;
  return o;
}
