import { expect } from 'chai';
import fc from 'fast-check';
import {
  HUFFMAN_CODES,
  HUFFMAN_CODE_LENGTHS,
  HUFFMAN_INVALID,
  HUFFMAN_TOO_LONG,
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
} from '../../../../src/webtransport/qpack/huffman.js';
import { fromHex, toHex } from '../support.js';

const latin1 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

function encode(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(bytes));
  expect(huffmanEncode(bytes, out, 0)).to.equal(out.length);
  return out;
}

function decode(bytes: Uint8Array, limit = 1 << 16): Uint8Array | number {
  const out = new Uint8Array(limit);
  const n = huffmanDecode(bytes, 0, bytes.length, out, 0, limit);
  return n < 0 ? n : out.subarray(0, n);
}

/** RFC 7541 Appendix C.4 and C.6 (Huffman-coded request and response strings). */
const EXAMPLES: Array<[string, string]> = [
  ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
  ['no-cache', 'a8eb 1064 9cbf'],
  ['custom-key', '25a8 49e9 5ba9 7d7f'],
  ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
  ['302', '6402'],
  ['307', '640e ff'],
  ['private', 'aec3 771a 4b'],
  ['gzip', '9bd9 ab'],
  ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
  ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
  [
    'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
    '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
  ],
];

describe('webtransport/qpack/huffman', () => {
  it('rebuilds a complete canonical code (Kraft sum 1) with the codes printed in RFC 7541 Appendix B', () => {
    expect(HUFFMAN_CODE_LENGTHS.length).to.equal(257);
    // Sum of 2^-len over all symbols, scaled by 2^30 (the longest length) to stay exact.
    const kraft = HUFFMAN_CODE_LENGTHS.reduce((sum, len) => sum + 2 ** (30 - len), 0);
    expect(kraft).to.equal(2 ** 30);
    const printed: Array<[number, number]> = [
      [0, 0x1ff8],
      [1, 0x7fffd8],
      [9, 0xffffea],
      [10, 0x3ffffffc],
      [32, 0x14],
      [48, 0x0],
      [60, 0x7ffc],
      [92, 0x7fff0],
      [127, 0xffffffc],
      [128, 0xfffe6],
      [153, 0x1fffdc],
      [199, 0x1ffffec],
      [203, 0x7ffffde],
      [220, 0xffffffd],
      [249, 0xffffffe],
      [254, 0x7fffff0],
      [255, 0x3ffffee],
      [256, 0x3fffffff], // EOS: thirty 1-bits
    ];
    for (const [sym, code] of printed) expect(HUFFMAN_CODES[sym], `symbol ${sym}`).to.equal(code);
  });

  for (const [text, hex] of EXAMPLES) {
    it(`encodes and decodes "${text.slice(0, 24)}"`, () => {
      expect(toHex(encode(latin1(text)))).to.equal(hex.replace(/ /g, ''));
      expect(Buffer.from(decode(fromHex(hex)) as Uint8Array).toString('latin1')).to.equal(text);
    });
  }

  it('decodes the empty string', () => {
    expect(decode(new Uint8Array(0))).to.deep.equal(new Uint8Array(0));
    expect(huffmanEncodedLength(new Uint8Array(0))).to.equal(0);
  });

  it('round-trips any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(decode(encode(bytes))).to.deep.equal(bytes);
      }),
    );
  });

  describe('RFC 7541 §5.2 decoding errors', () => {
    it('rejects EOS inside the string', () => {
      expect(decode(fromHex('ffffffff'))).to.equal(HUFFMAN_INVALID);
      // 'a' (00011) then EOS (30 ones) then 5 bits of padding: 00011 + 1*35 = 40 bits.
      expect(decode(fromHex('1fffffffff'))).to.equal(HUFFMAN_INVALID);
    });

    it('rejects padding longer than 7 bits', () => {
      expect(decode(fromHex('1f'))).to.deep.equal(latin1('a')); // 00011 + 111
      expect(decode(fromHex('1fff'))).to.equal(HUFFMAN_INVALID); // 11 bits of ones
      expect(decode(fromHex('ff'))).to.equal(HUFFMAN_INVALID); // 8 bits of padding, no symbol
    });

    it('rejects padding that is not all ones', () => {
      expect(decode(fromHex('18'))).to.equal(HUFFMAN_INVALID); // 00011 + 000
      expect(decode(fromHex('1e'))).to.equal(HUFFMAN_INVALID); // 00011 + 110
    });

    it('stops at the output limit with HUFFMAN_TOO_LONG', () => {
      const bytes = encode(latin1('0'.repeat(1000)));
      expect(decode(bytes, 999)).to.equal(HUFFMAN_TOO_LONG);
      expect((decode(bytes, 1000) as Uint8Array).length).to.equal(1000);
    });
  });
});
