import { expect } from 'chai';
import fc from 'fast-check';
import { ClientFrameReader, type FrameReadError } from '../../../client/src/frame-reader.js';
import { encodeFrame, encodeFramePrefixed, type Frame } from '../../../src/protocol/codec.js';

function collect(mode: 'stream' | 'message') {
  const frames: Frame[] = [];
  const errors: FrameReadError[] = [];
  const reader = new ClientFrameReader(mode, {
    onFrame: (f) => frames.push(f),
    onProtocolError: (e) => errors.push(e),
  });
  return { reader, frames, errors };
}

describe('client frame reader', function () {
  it('reassembles stream frames split at every byte', function () {
    const bytes = Buffer.concat([
      encodeFramePrefixed({ id: 1, pong: { timestampMs: 5 } }),
      encodeFramePrefixed({ deliver: { seq: 3, payload: Buffer.from('hi'), qos: 1 } }),
    ]);
    const { reader, frames, errors } = collect('stream');
    for (const b of bytes) reader.push(Uint8Array.of(b));
    expect(errors).to.deep.equal([]);
    expect(frames.map((f) => f.body)).to.deep.equal(['pong', 'deliver']);
    expect(frames[1]!.deliver!.seq).to.equal(3);
  });

  it('skips a frame body it does not know (a newer server) and keeps reading', function () {
    const { reader, frames, errors } = collect('stream');
    // Field 99, LEN, 0 bytes: an unknown body.
    reader.push(Uint8Array.of(0, 0, 0, 3, 0x9a, 0x06, 0x00));
    reader.push(encodeFramePrefixed({ ping: {} }));
    expect(errors).to.deep.equal([]);
    expect(frames.map((f) => f.body)).to.deep.equal(['ping']);
  });

  it('reports garbage once with 4500, and an oversized frame with 4501, then ignores the rest', function () {
    const bad = collect('message');
    bad.reader.push(Uint8Array.of(0xff, 0xff, 0xff));
    bad.reader.push(encodeFrame({ ping: {} }));
    expect(bad.errors.map((e) => e.code)).to.deep.equal([4500]);
    expect(bad.frames).to.deep.equal([]);
    expect(bad.reader.broken).to.equal(true);

    const big = collect('stream');
    big.reader.push(Uint8Array.of(0x7f, 0, 0, 0));
    expect(big.errors.map((e) => e.code)).to.deep.equal([4501]);
    const limited = collect('message');
    limited.reader.setMaxFrameBytes(8);
    limited.reader.push(encodeFrame({ deliver: { payload: new Uint8Array(32) } }));
    expect(limited.errors.map((e) => e.code)).to.deep.equal([4501]);
  });

  it('never throws on arbitrary bytes, in either mode, however they are chunked', function () {
    fc.assert(
      fc.property(
        fc.constantFrom('stream' as const, 'message' as const),
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        (mode, chunks) => {
          const { reader, errors } = collect(mode);
          for (const c of chunks) reader.push(c);
          expect(errors.length).to.be.at.most(1);
          if (errors.length === 1) expect([4500, 4501]).to.include(errors[0]!.code);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on valid frames with corrupted bytes', function () {
    fc.assert(
      fc.property(fc.string(), fc.nat({ max: 200 }), fc.integer({ min: 0, max: 255 }), (text, at, value) => {
        const bytes = Uint8Array.from(
          encodeFramePrefixed({ id: 7, deliver: { fromUser: text, payload: Buffer.from(text), seq: 9 } }),
        );
        bytes[at % bytes.length] = value;
        const { reader, frames, errors } = collect('stream');
        reader.push(bytes);
        expect(frames.length + errors.length).to.be.at.most(1);
      }),
      { numRuns: 2000 },
    );
  });
});
