import { expect } from 'chai';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, encodeFramePrefixed } from '../../../src/protocol/codec.js';
import { encodeSendAckFrame, type SendAckFields } from '../../../src/protocol/send-ack-codec.js';
import { toHex } from './support.js';

const text = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
);
const ackArbitrary: fc.Arbitrary<SendAckFields> = fc.record({
  clientMsgId: text,
  serverId: text,
  seq: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 }), fc.maxSafeNat()),
  timestampMs: fc.oneof(fc.constant(0), fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 })),
  duplicate: fc.boolean(),
});
const idArbitrary = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 200 }),
  fc.integer({ min: 0, max: 0xffffffff }),
);

describe('protocol/send-ack-codec', () => {
  it('writes exactly the bytes protobufjs writes for Frame{id, send_ack}, with and without the length prefix', () => {
    fc.assert(
      fc.property(idArbitrary, ackArbitrary, (id, a) => {
        expect(toHex(encodeSendAckFrame(id, a, false))).to.equal(toHex(encodeFrame({ id, sendAck: a })));
        expect(toHex(encodeSendAckFrame(id, a, true))).to.equal(
          toHex(encodeFramePrefixed({ id, sendAck: a })),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips through decodeFrame', () => {
    fc.assert(
      fc.property(idArbitrary, ackArbitrary, (id, a) => {
        const frame = decodeFrame(encodeSendAckFrame(id, a, false), 1 << 20);
        expect(frame.id).to.equal(id);
        expect(frame.body).to.equal('sendAck');
        expect(frame.sendAck).to.deep.include({
          clientMsgId: a.clientMsgId,
          serverId: a.serverId,
          seq: a.seq,
        });
      }),
      { numRuns: 200 },
    );
  });

  it('leaves values it does not size to protobufjs (negative or unsafe numbers)', () => {
    const a: SendAckFields = { clientMsgId: 'c', serverId: 's', seq: 0, timestampMs: -5, duplicate: true };
    expect(toHex(encodeSendAckFrame(7, a, false))).to.equal(toHex(encodeFrame({ id: 7, sendAck: a })));
    expect(toHex(encodeSendAckFrame(7, a, true))).to.equal(toHex(encodeFramePrefixed({ id: 7, sendAck: a })));
  });
});
