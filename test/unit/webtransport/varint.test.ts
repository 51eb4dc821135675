import { expect } from 'chai';
import fc from 'fast-check';
import { H3_INTERNAL_ERROR } from '../../../src/webtransport/constants.js';
import {
  VARINT_INCOMPLETE,
  VarintAccumulator,
  decodeVarint,
  encodeVarint,
  readVarint,
  readVarintBigInt,
  varintLength,
  varintSize,
  writeVarint,
} from '../../../src/webtransport/varint.js';
import { expectH3Error, fromHex, toHex } from './support.js';

describe('webtransport/varint', () => {
  describe('RFC 9000 Appendix A.1 examples', () => {
    it('decodes the 8-byte example exactly as bigint and inexactly (> 2^53) as number', () => {
      const buf = fromHex('c2197c5eff14e88c');
      expect(readVarintBigInt(buf, 0)).to.equal(151288809941952652n);
      const n = readVarint(buf, 0);
      expect(n).to.be.greaterThan(Number.MAX_SAFE_INTEGER);
      expect(n).to.equal(Number(151288809941952652n));
      expect(varintSize(buf[0]!)).to.equal(8);
    });

    it('encodes the 8-byte example from a bigint', () => {
      expect(toHex(encodeVarint(151288809941952652n))).to.equal('c2197c5eff14e88c');
    });

    for (const [hex, value] of [
      ['9d7f3e7d', 494878333],
      ['7bbd', 15293],
      ['25', 37],
      ['4025', 37],
    ] as const) {
      it(`decodes ${hex} = ${value}`, () => {
        const buf = fromHex(hex);
        expect(readVarint(buf, 0)).to.equal(value);
        expect(decodeVarint(buf, 0)).to.deep.equal({ value, length: buf.length });
        expect(readVarintBigInt(buf, 0)).to.equal(BigInt(value));
      });
    }

    it('encodes in the shortest form (37 -> 25, not 4025)', () => {
      expect(toHex(encodeVarint(37))).to.equal('25');
      expect(toHex(encodeVarint(15293))).to.equal('7bbd');
      expect(toHex(encodeVarint(494878333))).to.equal('9d7f3e7d');
    });
  });

  it('reports incomplete input with -1 at every truncation', () => {
    const buf = fromHex('c2197c5eff14e88c');
    for (let i = 0; i < buf.length; i++) {
      expect(readVarint(buf.subarray(0, i), 0)).to.equal(VARINT_INCOMPLETE);
      expect(readVarintBigInt(buf.subarray(0, i), 0)).to.equal(undefined);
      expect(decodeVarint(buf.subarray(0, i), 0)).to.equal(undefined);
    }
  });

  it('reads at an offset without copying', () => {
    const buf = fromHex('ff ff 4025 ff');
    expect(readVarint(buf, 2)).to.equal(37);
  });

  it('has the boundaries of each length', () => {
    for (const [v, len] of [
      [0, 1],
      [63, 1],
      [64, 2],
      [16383, 2],
      [16384, 4],
      [2 ** 30 - 1, 4],
      [2 ** 30, 8],
      [Number.MAX_SAFE_INTEGER, 8],
    ] as const) {
      expect(varintLength(v), String(v)).to.equal(len);
      const out = encodeVarint(v);
      expect(out.length).to.equal(len);
      expect(readVarint(out, 0)).to.equal(v);
    }
    expect(toHex(encodeVarint((1n << 62n) - 1n))).to.equal('ffffffffffffffff');
  });

  it('rejects values that are not varints with H3_INTERNAL_ERROR', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, Infinity]) {
      expectH3Error(() => encodeVarint(bad), H3_INTERNAL_ERROR);
    }
    expectH3Error(() => encodeVarint(1n << 62n), H3_INTERNAL_ERROR);
    expectH3Error(() => encodeVarint(-1n), H3_INTERNAL_ERROR);
    expectH3Error(() => writeVarint(new Uint8Array(1), 0, 64), H3_INTERNAL_ERROR);
  });

  it('round-trips every safe integer (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.nat(4), (v, pad) => {
        const buf = new Uint8Array(pad + 8);
        const end = writeVarint(buf, pad, v);
        expect(end - pad).to.equal(varintLength(v));
        expect(readVarint(buf, pad)).to.equal(v);
      }),
    );
  });

  it('round-trips every 62-bit bigint (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }), (v) => {
        expect(readVarintBigInt(encodeVarint(v), 0)).to.equal(v);
      }),
    );
  });

  it('VarintAccumulator reads varints split at every byte', () => {
    const bytes = fromHex('c2197c5eff14e88c 9d7f3e7d 7bbd 25');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const acc = new VarintAccumulator();
      const values: number[] = [];
      for (const chunk of [bytes.subarray(0, cut), bytes.subarray(cut)]) {
        let off = 0;
        while (off < chunk.length) {
          off = acc.take(chunk, off);
          if (acc.value >= 0) values.push(acc.value);
        }
      }
      expect(values).to.deep.equal([Number(151288809941952652n), 494878333, 15293, 37]);
      expect(acc.pending).to.equal(false);
    }
  });
});
