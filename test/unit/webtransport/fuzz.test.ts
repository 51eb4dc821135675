/**
 * Property tests of every decoder with random and mutated bytes (undici test/fuzzing style): the
 * only exception allowed out is H3Error, and what comes out is bounded by the configured caps.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  CapsuleReader,
  decodeCloseSession,
  encodeCloseSessionCapsule,
  readDatagramSessionId,
} from '../../../src/webtransport/capsules.js';
import {
  H3FrameReader,
  type H3StreamKind,
  encodeDataFrameHeader,
  encodeHeadersFrame,
  encodeSettingsFrame,
  parseBidiStreamHeader,
  parseUniStreamHeader,
} from '../../../src/webtransport/h3-frames.js';
import { decodeFieldSection } from '../../../src/webtransport/qpack/decoder.js';
import { encodeFieldSection } from '../../../src/webtransport/qpack/encoder.js';
import { huffmanDecode } from '../../../src/webtransport/qpack/huffman.js';
import {
  QpackDecoderStreamReader,
  QpackEncoderStreamReader,
} from '../../../src/webtransport/qpack/instructions.js';
import { decodeSettings, serverSettings } from '../../../src/webtransport/settings.js';
import { readVarint, readVarintBigInt } from '../../../src/webtransport/varint.js';
import { concat, onlyH3Errors } from './support.js';

const RUNS = { numRuns: 500 };
const bytes = fc.uint8Array({ maxLength: 512 });

/** Valid inputs with random bytes flipped, so fuzzing reaches past the first check. */
function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc
    .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    })
    .map((edits) => {
      const copy = valid.slice();
      for (const [i, b] of edits) copy[i] = b;
      return copy;
    });
}

/** Splits bytes at random points. */
const chunked = (input: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array[]> =>
  fc.tuple(input, fc.array(fc.nat(600), { maxLength: 6 })).map(([b, cuts]) => {
    const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
    const out: Uint8Array[] = [];
    let prev = 0;
    for (const p of points) {
      out.push(b.subarray(prev, p));
      prev = p;
    }
    out.push(b.subarray(prev));
    return out;
  });

const CONNECT = encodeFieldSection([
  [':method', 'CONNECT'],
  [':protocol', 'webtransport'],
  [':scheme', 'https'],
  [':authority', 'example.com:4433'],
  [':path', '/wt'],
  ['origin', 'https://example.com'],
]);

describe('webtransport decoders under random input (fast-check)', () => {
  it('varint readers never throw', () => {
    fc.assert(
      fc.property(bytes, fc.nat(20), (b, off) => {
        const v = readVarint(b, off);
        expect(v === -1 || v >= 0).to.equal(true);
        readVarintBigInt(b, off);
      }),
      RUNS,
    );
  });

  it('H3FrameReader throws only H3Error and bounds buffered frames', () => {
    const valid = concat(
      encodeSettingsFrame(serverSettings({ maxFieldSectionSize: 100, maxSessions: 1 })),
      encodeHeadersFrame(CONNECT),
      encodeDataFrameHeader(4),
      Uint8Array.of(1, 2, 3, 4),
    );
    const kinds: H3StreamKind[] = ['any', 'control', 'request'];
    fc.assert(
      fc.property(chunked(fc.oneof(bytes, mutated(valid))), fc.constantFrom(...kinds), (chunks, kind) => {
        const reader = new H3FrameReader(
          { onFrame: (_t, p) => expect(p.length).to.be.at.most(256), onData: () => {} },
          { maxFramePayload: 256, kind },
        );
        onlyH3Errors(() => {
          for (const c of chunks) reader.push(c);
          reader.finish();
        });
      }),
      RUNS,
    );
  });

  it('stream header parsers throw only H3Error', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        onlyH3Errors(() => parseUniStreamHeader(b));
        onlyH3Errors(() => parseBidiStreamHeader(b));
      }),
      RUNS,
    );
  });

  it('decodeSettings throws only H3Error', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        onlyH3Errors(() => decodeSettings(b));
      }),
      RUNS,
    );
  });

  it('CapsuleReader, close and datagram decoders throw only H3Error', () => {
    const valid = encodeCloseSessionCapsule(42, 'reason');
    fc.assert(
      fc.property(chunked(fc.oneof(bytes, mutated(valid))), (chunks) => {
        const reader = new CapsuleReader(
          { onCapsule: (_t, v) => onlyH3Errors(() => decodeCloseSession(v)) },
          { maxDatagramCapsule: 300 },
        );
        onlyH3Errors(() => {
          for (const c of chunks) reader.push(c);
          reader.finish();
        });
        onlyH3Errors(() => readDatagramSessionId(chunks[0] ?? new Uint8Array(0)));
      }),
      RUNS,
    );
  });

  it('decodeFieldSection throws only H3Error and never exceeds its caps', () => {
    fc.assert(
      fc.property(fc.oneof(bytes, mutated(CONNECT)), (b) => {
        onlyH3Errors(() => {
          const fields = decodeFieldSection(b, { maxHeaderBytes: 300, maxHeaders: 8 });
          expect(fields.length).to.be.at.most(8);
          expect(fields.reduce((n, [k, v]) => n + k.length + v.length + 32, 0)).to.be.at.most(300);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('huffmanDecode never throws and never writes past its limit', () => {
    fc.assert(
      fc.property(bytes, fc.nat(64), (b, limit) => {
        const out = new Uint8Array(limit + 8).fill(0xaa);
        const n = huffmanDecode(b, 0, b.length, out, 0, limit);
        expect(n).to.be.at.most(limit);
        for (let i = limit; i < out.length; i++) expect(out[i]).to.equal(0xaa);
      }),
      RUNS,
    );
  });

  it('QPACK instruction stream readers throw only H3Error', () => {
    fc.assert(
      fc.property(chunked(bytes), (chunks) => {
        const enc = new QpackEncoderStreamReader();
        const dec = new QpackDecoderStreamReader();
        onlyH3Errors(() => chunks.forEach((c) => enc.push(c)));
        onlyH3Errors(() => chunks.forEach((c) => dec.push(c)));
      }),
      RUNS,
    );
  });
});
