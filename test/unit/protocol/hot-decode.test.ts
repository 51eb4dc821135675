import { expect } from 'chai';
import fc from 'fast-check';
import {
  Frame,
  decodeFrame,
  decodeFrameGenerated,
  encodeFrame,
  type FrameInit,
} from '../../../src/protocol/codec.js';
import { decodeHotFrame } from '../../../src/protocol/hot-decode.js';

/** What the generated decoder builds for `bytes` (the fast path bypassed). */
function generated(bytes: Buffer): Frame {
  return decodeFrameGenerated(bytes);
}

/** Own enumerable fields, recursively, with Buffers as arrays: what two decodes must agree on. */
function shape(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = shape((v as Record<string, unknown>)[k]);
  return out;
}

const text = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const sendFrame = fc.record({
  id: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff })),
  send: fc.record({
    toUser: text,
    payload: fc.uint8Array({ maxLength: 300 }),
    qos: fc.constantFrom(0, 1, 2, 200),
    clientMsgId: text,
    ephemeral: fc.boolean(),
  }),
});
const ackFrame = fc.record({
  id: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
  ack: fc.record({ seq: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 }), fc.maxSafeNat()) }),
});

describe('protocol/hot-decode', () => {
  it('decodes Send and Ack frames exactly as the generated decoder does (or leaves them to it)', () => {
    let fast = 0;
    fc.assert(
      fc.property(fc.oneof(sendFrame, ackFrame), (init) => {
        const bytes = Buffer.from(encodeFrame(init as FrameInit));
        const hot = decodeHotFrame(bytes);
        const full = generated(bytes);
        if (hot !== null) {
          fast++;
          expect(hot).to.be.instanceOf(Frame);
          expect(hot.body).to.equal(full.body);
          expect(shape(hot)).to.deep.equal(shape(full));
        }
        expect(shape(decodeFrame(bytes, 1 << 20))).to.deep.equal(shape(full));
      }),
      { numRuns: 1000 },
    );
    expect(fast).to.be.greaterThan(500); // ASCII strings and short varints are the common case
  });

  it('a payload owns its memory', () => {
    const bytes = Buffer.from(encodeFrame({ id: 3, send: { toUser: 'bob', payload: Buffer.from('hi') } }));
    const frame = decodeHotFrame(bytes)!;
    bytes.fill(0);
    expect(Buffer.from(frame.send!.payload!).toString()).to.equal('hi');
  });

  it('leaves anything outside the canonical layout to the generated decoder', () => {
    const cases: [string, number[]][] = [
      ['non-ASCII string', [0x62, 4, 0x0a, 2, 0xc3, 0xa9]],
      ['fields out of order', [0x62, 6, 0x12, 1, 0x41, 0x0a, 1, 0x62]],
      ['a repeated field', [0x62, 6, 0x0a, 1, 0x61, 0x0a, 1, 0x62]],
      ['an unknown field', [0x62, 2, 0x30, 1]],
      ['a field after the body', [0x62, 0, 0x08, 1]],
      ['a truncated body', [0x62, 5, 0x0a, 3, 0x61]],
      ['a body of another kind', [0x82, 0x01, 0]],
      ['an empty frame', []],
      ['an over-long ack seq', [0x7a, 9, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ];
    for (const [why, b] of cases) expect(decodeHotFrame(Buffer.from(b)), why).to.equal(null);
  });

  it('never throws on random bytes, and agrees with decodeFrame whenever it answers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const bytes = Buffer.from(b);
        const hot = decodeHotFrame(bytes);
        // The fast path only answers for bytes the generated decoder takes, with the same frame.
        if (hot !== null) expect(shape(hot)).to.deep.equal(shape(generated(bytes)));
      }),
      { numRuns: 5000 },
    );
  });
});
