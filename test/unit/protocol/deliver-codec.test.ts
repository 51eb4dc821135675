import { expect } from 'chai';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, encodeFramePrefixed } from '../../../src/protocol/codec.js';
import { encodeDeliverFrame, type DeliverFields } from '../../../src/protocol/deliver-codec.js';
import { toHex } from './support.js';

const text = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
);
const deliverArbitrary: fc.Arbitrary<DeliverFields> = fc.record({
  serverId: text,
  seq: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 }), fc.maxSafeNat()),
  fromUser: text,
  fromDevice: text,
  topic: text,
  payload: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 120, maxLength: 70_000 })),
  timestampMs: fc.oneof(fc.constant(0), fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 })),
  qos: fc.constantFrom(0, 1),
  clientMsgId: text,
  ephemeral: fc.boolean(),
  fromService: text,
});

describe('protocol/deliver-codec', () => {
  it('writes exactly the bytes protobufjs writes for Frame{deliver}, with and without the length prefix', () => {
    fc.assert(
      fc.property(deliverArbitrary, (d) => {
        expect(toHex(encodeDeliverFrame(d, false))).to.equal(toHex(encodeFrame({ deliver: d })));
        expect(toHex(encodeDeliverFrame(d, true))).to.equal(toHex(encodeFramePrefixed({ deliver: d })));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips through decodeFrame', () => {
    fc.assert(
      fc.property(deliverArbitrary, (d) => {
        const frame = decodeFrame(encodeDeliverFrame(d, false), 1 << 20);
        expect(frame.deliver?.seq).to.equal(d.seq);
        expect(frame.deliver?.fromUser).to.equal(d.fromUser);
        expect(Buffer.from(frame.deliver!.payload!)).to.deep.equal(Buffer.from(d.payload));
      }),
      { numRuns: 200 },
    );
  });

  it('leaves values it does not size to protobufjs (negative or unsafe numbers)', () => {
    const d: DeliverFields = {
      serverId: 's',
      seq: 0,
      fromUser: 'a',
      fromDevice: 'p',
      topic: '',
      payload: new Uint8Array([1]),
      timestampMs: -5,
      qos: 1,
      clientMsgId: '',
      ephemeral: false,
      fromService: '',
    };
    expect(toHex(encodeDeliverFrame(d, false))).to.equal(toHex(encodeFrame({ deliver: d })));
    expect(toHex(encodeDeliverFrame(d, true))).to.equal(toHex(encodeFramePrefixed({ deliver: d })));
  });
});
