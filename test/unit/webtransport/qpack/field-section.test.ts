import { expect } from 'chai';
import fc from 'fast-check';
import {
  H3_EXCESSIVE_LOAD,
  H3_INTERNAL_ERROR,
  QPACK_DECOMPRESSION_FAILED,
} from '../../../../src/webtransport/constants.js';
import { decodeFieldSection, type HeaderField } from '../../../../src/webtransport/qpack/decoder.js';
import { encodeFieldSection } from '../../../../src/webtransport/qpack/encoder.js';
import {
  STATIC_TABLE,
  staticIndexOf,
  staticNameIndexOf,
} from '../../../../src/webtransport/qpack/static-table.js';
import { TIME_FACTOR, concat, expectH3Error, fromHex, timeMs, toHex } from '../support.js';

/** A CONNECT like Chromium 156's (webtransport.md). */
const CONNECT: HeaderField[] = [
  [':method', 'CONNECT'],
  [':protocol', 'webtransport'],
  [':scheme', 'https'],
  [':authority', '127.0.0.1:4433'],
  [':path', '/wt?token=abc'],
  ['sec-webtransport-http3-draft02', '1'],
  ['origin', 'http://127.0.0.1:8080'],
];

/** Test-local RFC 7541 §5.1 integer writer, independent of the encoder under test. */
function prefixInt(value: number, bits: number, flags: number): number[] {
  const max = (1 << bits) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** RFC 9204 §4.5.6 by hand: Literal Field Line with Literal Name, no Huffman. */
function literalLine(name: string, value: string): number[] {
  return [
    ...prefixInt(name.length, 3, 0x20),
    ...Buffer.from(name, 'latin1'),
    ...prefixInt(value.length, 7, 0x00),
    ...Buffer.from(value, 'latin1'),
  ];
}

describe('webtransport/qpack field sections', () => {
  describe('static table (RFC 9204 Appendix A)', () => {
    it('has the 99 entries', () => {
      expect(STATIC_TABLE.length).to.equal(99);
      expect(STATIC_TABLE[0]).to.deep.equal([':authority', '']);
      expect(STATIC_TABLE[15]).to.deep.equal([':method', 'CONNECT']);
      expect(STATIC_TABLE[25]).to.deep.equal([':status', '200']);
      expect(STATIC_TABLE[85]![1]).to.equal("script-src 'none'; object-src 'none'; base-uri 'none'");
      expect(STATIC_TABLE[98]).to.deep.equal(['x-frame-options', 'sameorigin']);
      expect(staticIndexOf(':status', '200')).to.equal(25);
      expect(staticNameIndexOf(':status')).to.equal(24);
      expect(staticIndexOf('origin', 'x')).to.equal(-1);
    });
  });

  describe('decodeFieldSection', () => {
    it('decodes RFC 9204 B.1 (literal with name reference, :path=/index.html)', () => {
      expect(decodeFieldSection(fromHex('0000 510b 2f69 6e64 6578 2e68 746d 6c'))).to.deep.equal([
        [':path', '/index.html'],
      ]);
    });

    it('decodes the 200 response 00 00 d9', () => {
      expect(decodeFieldSection(fromHex('0000d9'))).to.deep.equal([[':status', '200']]);
    });

    it('decodes a hand-assembled CONNECT with literal names (no Huffman)', () => {
      const bytes = Uint8Array.from([0, 0, ...CONNECT.flatMap(([n, v]) => literalLine(n, v))]);
      expect(decodeFieldSection(bytes)).to.deep.equal(CONNECT);
    });

    it('decodes a Huffman literal name and value (RFC 7541 C.4.3 strings)', () => {
      // 001 N=0 H=1 len(3)=7+1 -> 2f 01; "custom-key" (8 bytes); 1 len=9 "custom-value"
      const bytes = fromHex('0000 2f01 25a849e95ba97d7f 89 25a849e95bb8e8b4bf');
      expect(decodeFieldSection(bytes)).to.deep.equal([['custom-key', 'custom-value']]);
    });

    it('honours the N bit (never indexed) on both literal forms', () => {
      const nameRef = fromHex('0000 710b 2f69 6e64 6578 2e68 746d 6c');
      expect(decodeFieldSection(nameRef)).to.deep.equal([[':path', '/index.html', true]]);
      const literal = Uint8Array.from([0, 0, ...literalLine('x-secret', 'k')]);
      literal[2] = literal[2]! | 0x10;
      expect(decodeFieldSection(literal)).to.deep.equal([['x-secret', 'k', true]]);
    });

    it('rejects dynamic-table references with QPACK_DECOMPRESSION_FAILED', () => {
      for (const hex of [
        '0381 10 11', // RFC 9204 B.2: Required Insert Count 2
        '0000 80', // indexed, dynamic (T=0)
        '0000 10', // indexed post-base
        '0000 4100', // literal with dynamic name reference
        '0000 0000', // literal with post-base name reference
        '0080 d9', // Sign 1 with Required Insert Count 0 (RFC 9204 §4.5.1.2)
      ]) {
        expectH3Error(() => decodeFieldSection(fromHex(hex)), QPACK_DECOMPRESSION_FAILED);
      }
    });

    it('rejects static indices past 98, truncation and bad Huffman', () => {
      for (const hex of [
        'ff24', // Required Insert Count 0x123
        '0000 ff24', // indexed static 63+0x24 = 99
        '0000 5f50 0541', // name reference 15+0x50 = 95 is fine, but the value is truncated
        '',
        '00',
        '0000 51',
        '0000 510b 2f69',
        '0000 51 84 ffffffff', // EOS inside the value
        '0000 51 82 1fff', // 11 bits of padding
        '0000 51 81 18', // padding not all ones
      ]) {
        expectH3Error(() => decodeFieldSection(fromHex(hex)), QPACK_DECOMPRESSION_FAILED);
      }
    });
  });

  describe('encodeFieldSection', () => {
    it('encodes :status 200 as 00 00 d9 (webtransport.md)', () => {
      expect(toHex(encodeFieldSection([[':status', '200']]))).to.equal('0000d9');
    });

    it('encodes RFC 9204 B.1 (:path=/index.html) as a name reference; Huffman only when shorter', () => {
      // "/index.html" is 11 bytes raw and 8 bytes Huffman-coded: the encoder picks Huffman.
      const bytes = encodeFieldSection([[':path', '/index.html']]);
      expect(toHex(bytes.subarray(0, 4))).to.equal('00005188');
      expect(decodeFieldSection(bytes)).to.deep.equal([[':path', '/index.html']]);
      // Bytes above 0x7f are long Huffman codes: sent raw.
      expect(toHex(encodeFieldSection([[':path', '\u00ff']]))).to.equal('00005101ff');
    });

    it("round-trips Chromium's CONNECT in Huffman form", () => {
      const bytes = encodeFieldSection(CONNECT);
      expect(bytes[2]).to.equal(0xc0 | 15); // :method CONNECT is static entry 15
      expect(decodeFieldSection(bytes)).to.deep.equal(CONNECT);
      expect(bytes.length).to.be.lessThan(CONNECT.reduce((n, [a, b]) => n + a.length + b.length, 0));
    });

    it('never indexes a field marked neverIndex and sets its N bit', () => {
      const bytes = encodeFieldSection([[':status', '200', true]]);
      expect(bytes[2]! & 0xf0).to.equal(0x70); // 01 N=1 T=1
      expect(decodeFieldSection(bytes)).to.deep.equal([[':status', '200', true]]);
      expect(decodeFieldSection(encodeFieldSection([['x-a', 'b', true]]))).to.deep.equal([
        ['x-a', 'b', true],
      ]);
    });

    it('rejects characters above U+00FF with H3_INTERNAL_ERROR', () => {
      expectH3Error(() => encodeFieldSection([['x', '✓']]), H3_INTERNAL_ERROR);
    });

    it('round-trips random fields (property)', () => {
      const name = fc.stringMatching(/^[a-z0-9:-]{1,40}$/);
      const value = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1'));
      const field = fc.oneof(
        fc.tuple(name, value),
        fc.constantFrom(...STATIC_TABLE.map(([n, v]): [string, string] => [n, v])),
        fc.tuple(fc.constantFrom(...STATIC_TABLE.map(([n]) => n)), value),
      );
      fc.assert(
        fc.property(fc.array(field, { maxLength: 30 }), (fields) => {
          expect(decodeFieldSection(encodeFieldSection(fields), { maxHeaderBytes: 1 << 20 })).to.deep.equal(
            fields,
          );
        }),
      );
    });
  });

  describe('limits and QPACK bombs', () => {
    it('rejects sections over maxHeaderBytes (name + value + 32 each) with H3_EXCESSIVE_LOAD', () => {
      const fields: HeaderField[] = [['x-a', 'v'.repeat(60)]]; // 3 + 60 + 32 = 95
      const bytes = encodeFieldSection(fields);
      expect(decodeFieldSection(bytes, { maxHeaderBytes: 95 })).to.deep.equal(fields);
      const err = expectH3Error(() => decodeFieldSection(bytes, { maxHeaderBytes: 94 }), H3_EXCESSIVE_LOAD);
      expect(err.scope).to.equal('stream');
    });

    it('rejects more than maxHeaders field lines', () => {
      const bytes = encodeFieldSection(Array.from({ length: 11 }, (): HeaderField => [':status', '200']));
      expect(decodeFieldSection(bytes, { maxHeaders: 11 }).length).to.equal(11);
      expectH3Error(() => decodeFieldSection(bytes, { maxHeaders: 10 }), H3_EXCESSIVE_LOAD);
    });

    it('fails fast on a declared Huffman length far beyond the input', () => {
      const bytes = fromHex('0000 51 ff ffffffff0f');
      expectH3Error(() => decodeFieldSection(bytes), QPACK_DECOMPRESSION_FAILED);
    });

    it('fails fast on prefixed-integer overflow (RFC 7541 §5.1, > 62 bits)', () => {
      expectH3Error(
        () => decodeFieldSection(fromHex('0000 51 7f ffffffffffffffffffff 01')),
        QPACK_DECOMPRESSION_FAILED,
      );
      expectH3Error(
        () => decodeFieldSection(fromHex('ff ffffffffffffffff7f 00')),
        QPACK_DECOMPRESSION_FAILED,
      );
    });

    it('stops a Huffman value that expands past the budget before decoding it all', () => {
      // 160 KB of '0' (5-bit code) Huffman-coded: 100 KB in, would be 160 KB out.
      const value = '0'.repeat(160_000);
      const bytes = encodeFieldSection([['x', value]]);
      const ms = timeMs(() => expectH3Error(() => decodeFieldSection(bytes), H3_EXCESSIVE_LOAD));
      expect(ms).to.be.lessThan(50 * TIME_FACTOR);
    });

    it('stops many tiny indexed lines quickly', () => {
      // Static entry 85 (content-security-policy) is the longest: 2 bytes in, 23+53+32 counted.
      const csp = concat(
        fromHex('0000'),
        Uint8Array.from({ length: 1_000_000 }, (_, i) => (i % 2 ? 22 : 0xff)),
      );
      const tiny = concat(fromHex('0000'), new Uint8Array(500_000).fill(0xd9));
      const ms = timeMs(() => {
        expectH3Error(
          () => decodeFieldSection(tiny, { maxHeaderBytes: 1 << 30, maxHeaders: 1000 }),
          H3_EXCESSIVE_LOAD,
        );
        expectH3Error(() => decodeFieldSection(tiny), H3_EXCESSIVE_LOAD);
        expectH3Error(() => decodeFieldSection(csp, { maxHeaders: 1 << 20 }), H3_EXCESSIVE_LOAD);
      });
      expect(ms).to.be.lessThan(50 * TIME_FACTOR);
    });
  });
});
