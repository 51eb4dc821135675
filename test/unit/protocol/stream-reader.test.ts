import { expect } from 'chai';
import fc from 'fast-check';
import { DisconnectCode, ProtocolError } from '../../../src/errors.js';
import { decodeFrame, encodeFrame, type Frame } from '../../../src/protocol/codec.js';
import { StreamFrameReader } from '../../../src/protocol/stream-reader.js';
import { FRAME_FIXTURES } from '../../fixtures/frames.js';
import {
  canonical,
  cutAt,
  DECODE_CODES,
  expectProtocolError,
  frameArbitrary,
  fromHex,
  streamOf,
  toHex,
} from './support.js';

const MAX = 64 * 1024;

/** Feeds chunks through a fresh reader and decodes every body. */
function readAll(chunks: Uint8Array[], max = MAX): Frame[] {
  const reader = new StreamFrameReader(max);
  const frames: Frame[] = [];
  for (const chunk of chunks) reader.push(chunk, (body) => frames.push(decodeFrame(body, max)));
  expect(reader.bufferedBytes).to.equal(0);
  return frames;
}

/** Collects raw bodies (copied, since they are only valid during the callback). */
function bodiesOf(reader: StreamFrameReader, chunks: Uint8Array[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) reader.push(chunk, (body) => out.push(toHex(body)));
  return out;
}

const fixtureBodies = FRAME_FIXTURES.map((f) => fromHex(f.hex));
const fixtureStream = streamOf(fixtureBodies);
const expected = FRAME_FIXTURES.map((f) => canonical(f.frame));

describe('protocol/stream-reader', () => {
  it('reads every fixture from one chunk', () => {
    expect(readAll([fixtureStream]).map(canonical)).to.deep.equal(expected);
  });

  it('reads the same frames when the stream is split at every possible offset', () => {
    for (let at = 0; at <= fixtureStream.length; at++) {
      const frames = readAll(cutAt(fixtureStream, [at]));
      expect(frames.map(canonical), `split at ${at}`).to.deep.equal(expected);
    }
  });

  it('reads the same frames from 1-byte chunks', () => {
    const chunks = cutAt(
      fixtureStream,
      Array.from({ length: fixtureStream.length }, (_, i) => i),
    );
    expect(readAll(chunks).map(canonical)).to.deep.equal(expected);
  });

  it('reads the same frames under random chunkings (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(fixtureStream.length), { maxLength: 40 }), (cuts) => {
        expect(readAll(cutAt(fixtureStream, cuts)).map(canonical)).to.deep.equal(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('reads arbitrary frames under random chunkings (fast-check)', () => {
    const arb = fc.tuple(
      fc.array(frameArbitrary, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 20 }),
    );
    fc.assert(
      fc.property(arb, ([frames, cuts]) => {
        const stream = streamOf(frames.map((f) => encodeFrame(f)));
        const decoded = readAll(
          cutAt(
            stream,
            cuts.map((c) => c % (stream.length + 1)),
          ),
          Infinity,
        );
        expect(decoded.map(canonical)).to.deep.equal(frames.map(canonical));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts plain Uint8Array chunks as well as Buffers', () => {
    const chunks = cutAt(new Uint8Array(fixtureStream), [3, 50, 51]);
    expect(readAll(chunks).map(canonical)).to.deep.equal(expected);
  });

  it('reports the bytes it holds, prefix and body', () => {
    const reader = new StreamFrameReader(MAX);
    const stream = streamOf([fixtureBodies[0]!]); // 4 + 24 bytes
    const seen: string[] = [];
    reader.push(stream.subarray(0, 2), (b) => seen.push(toHex(b)));
    expect(reader.bufferedBytes).to.equal(2);
    reader.push(stream.subarray(2, 10), (b) => seen.push(toHex(b)));
    expect(reader.bufferedBytes).to.equal(10);
    reader.push(stream.subarray(10), (b) => seen.push(toHex(b)));
    expect(reader.bufferedBytes).to.equal(0);
    expect(seen).to.deep.equal([FRAME_FIXTURES[0]!.hex]);
  });

  it('fills a split body in one exact-size allocation, linear in its length', () => {
    const size = 256 * 1024;
    const body = Buffer.alloc(size, 0xab);
    const stream = streamOf([body]);
    const reader = new StreamFrameReader(size);
    let got: Uint8Array | null = null;
    const started = performance.now();
    // 1-byte chunks: the lead's first cut re-concatenated the pending bytes on every push (O(n^2)).
    for (let i = 0; i < stream.length; i++) reader.push(stream.subarray(i, i + 1), (b) => (got = b));
    const elapsed = performance.now() - started;
    expect(got).to.not.equal(null);
    const frame = got as unknown as Uint8Array;
    expect(frame.length).to.equal(size);
    expect(frame.byteOffset).to.equal(0);
    expect(frame.buffer.byteLength).to.equal(size);
    expect(Buffer.from(frame).equals(body)).to.equal(true);
    expect(elapsed, 'quadratic copying would take minutes').to.be.below(5000);
  });

  it('hands out a frame that lies inside one chunk as a view, without copying', () => {
    const reader = new StreamFrameReader(MAX);
    let view: Uint8Array | null = null;
    reader.push(fixtureStream, (b) => (view ??= b));
    expect((view as unknown as Uint8Array).buffer).to.equal(fixtureStream.buffer);
  });

  it('passes a zero-length frame on as an empty body, which decodeFrame rejects', () => {
    const reader = new StreamFrameReader(MAX);
    expect(bodiesOf(reader, [fromHex('00000000 00000000')])).to.deep.equal(['', '']);
    expectProtocolError(() => readAll([fromHex('00000000')]), DisconnectCode.BAD_FRAME);
  });

  describe('oversized frames', () => {
    it('throws FRAME_TOO_LARGE once the prefix is in, before any body byte arrives', () => {
      const reader = new StreamFrameReader(100);
      const err = expectProtocolError(
        () => reader.push(fromHex('00000065'), () => expect.fail('no frame expected')),
        DisconnectCode.FRAME_TOO_LARGE,
      );
      expect(err.message).to.contain('101');
      expect(reader.bufferedBytes).to.be.at.most(4);
    });

    it('throws FRAME_TOO_LARGE for a prefix split across chunks', () => {
      const reader = new StreamFrameReader(100);
      reader.push(fromHex('ffff'), () => expect.fail('no frame expected'));
      expectProtocolError(() => reader.push(fromHex('ffff'), () => {}), DisconnectCode.FRAME_TOO_LARGE);
    });

    it('accepts a frame exactly at the limit', () => {
      const reader = new StreamFrameReader(3);
      expect(bodiesOf(reader, [fromHex('00000003 616263')])).to.deep.equal(['616263']);
    });

    it('reads frames before the oversized one, then stops', () => {
      const reader = new StreamFrameReader(MAX);
      const stream = Buffer.concat([streamOf([fixtureBodies[0]!]), fromHex('00 01 00 01')]);
      const seen: string[] = [];
      expectProtocolError(
        () => reader.push(stream, (b) => seen.push(toHex(b))),
        DisconnectCode.FRAME_TOO_LARGE,
      );
      expect(seen).to.deep.equal([FRAME_FIXTURES[0]!.hex]);
    });

    it('accepts Infinity as the limit ("any length a u32 can declare")', () => {
      const reader = new StreamFrameReader(Infinity);
      expect(bodiesOf(reader, [fixtureStream]).length).to.equal(FRAME_FIXTURES.length);
    });

    it('refuses a negative or NaN limit at construction', () => {
      expect(() => new StreamFrameReader(-1)).to.throw(RangeError);
      expect(() => new StreamFrameReader(Number.NaN)).to.throw(RangeError);
    });
  });

  describe('holding (a session over its rate limit stops mid-chunk)', () => {
    it('keeps the held frame and the rest of the chunk, queues later chunks, and resumes in order', () => {
      const reader = new StreamFrameReader(MAX);
      const seen: string[] = [];
      let budget = 2;
      const take = (body: Uint8Array): void => {
        if (budget === 0) return reader.hold();
        budget--;
        seen.push(toHex(body));
      };
      reader.push(fixtureStream.subarray(0, fixtureStream.length - 5), take);
      expect(reader.holding).to.equal(true);
      expect(seen).to.have.length(2);
      reader.push(fixtureStream.subarray(fixtureStream.length - 5), () =>
        expect.fail('nothing is handed out while holding'),
      );
      budget = 1;
      reader.resume(take); // the held frame, then it holds on the next
      expect(seen).to.have.length(3);
      expect(reader.holding).to.equal(true);
      budget = Infinity;
      reader.resume(take);
      expect(reader.holding).to.equal(false);
      expect(seen).to.deep.equal(fixtureBodies.map(toHex));
      expect(reader.bufferedBytes).to.equal(0);
    });

    it('gives the same frames under random chunkings and random holds (fast-check)', () => {
      const arb = fc.tuple(fc.array(fc.nat(fixtureStream.length), { maxLength: 8 }), fc.array(fc.boolean()));
      fc.assert(
        fc.property(arb, ([cuts, holds]) => {
          const reader = new StreamFrameReader(MAX);
          const seen: string[] = [];
          let i = 0;
          const take = (body: Uint8Array): void => {
            if (holds[i++ % Math.max(1, holds.length)] === true) return reader.hold();
            seen.push(toHex(body));
          };
          for (const chunk of cutAt(fixtureStream, cuts)) reader.push(chunk, take);
          for (let n = 0; reader.holding && n < 10_000; n++) reader.resume(take);
          while (reader.holding) reader.resume((body) => seen.push(toHex(body)));
          expect(seen).to.deep.equal(fixtureBodies.map(toHex));
        }),
      );
    });
  });

  describe('failure is final', () => {
    it('throws a ProtocolError on every push after a failure', () => {
      const reader = new StreamFrameReader(10);
      expectProtocolError(() => reader.push(fromHex('000000ff'), () => {}), DisconnectCode.FRAME_TOO_LARGE);
      expectProtocolError(
        () => reader.push(fromHex('00000001 00'), () => expect.fail('poisoned reader must not deliver')),
        DisconnectCode.FRAME_TOO_LARGE,
      );
    });

    it('propagates an error from onFrame unchanged and is poisoned afterwards', () => {
      const reader = new StreamFrameReader(MAX);
      const boom = new Error('handler failed');
      expect(() =>
        reader.push(fixtureStream, () => {
          throw boom;
        }),
      ).to.throw(boom);
      expectProtocolError(() => reader.push(fixtureStream, () => {}), DisconnectCode.BAD_FRAME);
    });
  });

  it('arbitrary bytes in arbitrary chunks only ever give frames or ProtocolError', () => {
    const arb = fc.tuple(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(400), { maxLength: 10 }));
    fc.assert(
      fc.property(arb, ([bytes, cuts]) => {
        const reader = new StreamFrameReader(256);
        try {
          for (const chunk of cutAt(bytes, cuts)) {
            reader.push(chunk, (body) => expect(decodeFrame(body, 256).body).to.be.a('string'));
          }
          expect(reader.bufferedBytes).to.be.at.most(4 + 256);
        } catch (err) {
          expect(err).to.be.instanceOf(ProtocolError);
          expect(DECODE_CODES.has((err as ProtocolError).disconnectCode)).to.equal(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary bytes with plausible small length prefixes give frames or ProtocolError', () => {
    // Random bytes rarely form a small prefix; build streams of (small length, random body) records so
    // that the decoder, not just the length check, sees the garbage.
    const record = fc.uint8Array({ maxLength: 40 }).map((b) => streamOf([b]));
    const arb = fc.tuple(
      fc.array(record, { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(300), { maxLength: 8 }),
    );
    fc.assert(
      fc.property(arb, ([records, cuts]) => {
        const reader = new StreamFrameReader(MAX);
        try {
          for (const chunk of cutAt(Buffer.concat(records), cuts)) {
            reader.push(chunk, (body) => expect(decodeFrame(body, MAX).body).to.be.a('string'));
          }
        } catch (err) {
          expect(err).to.be.instanceOf(ProtocolError);
          expect(DECODE_CODES.has((err as ProtocolError).disconnectCode)).to.equal(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
