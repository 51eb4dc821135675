import { expect } from 'chai';
import { ReplyCode, RequestError } from '../../../src/errors.js';
import { decodeFrame, encodeFrame, type FrameInit } from '../../../src/protocol/codec.js';
import { validateClientFrame, validationLimits } from '../../../src/protocol/validate.js';
import { defaultConfig } from '../../../src/config/schema.js';

const limits = validationLimits(defaultConfig().limits);
const check = (frame: FrameInit): void =>
  validateClientFrame(decodeFrame(encodeFrame(frame), Infinity), limits);
const code = (frame: FrameInit): number => {
  try {
    check(frame);
  } catch (err) {
    if (err instanceof RequestError) return err.replyCode;
    throw err;
  }
  return 0;
};

describe('ServiceRequest validation (docs/protocol.md §5.9, §5.12)', () => {
  it('accepts a typed request with a msg id', () => {
    expect(code({ serviceRequest: { type: 1, msgId: 'm', payload: new Uint8Array(3) } })).to.equal(0);
  });
  it('refuses type 0, a missing or oversized msg id, control characters and oversized payloads', () => {
    expect(code({ serviceRequest: { type: 0, msgId: 'm' } })).to.equal(ReplyCode.BAD_REQUEST);
    expect(code({ serviceRequest: { type: 1 } })).to.equal(ReplyCode.BAD_REQUEST);
    expect(code({ serviceRequest: { type: 1, msgId: 'x'.repeat(129) } })).to.equal(ReplyCode.BAD_REQUEST);
    expect(code({ serviceRequest: { type: 1, msgId: 'a\u0001' } })).to.equal(ReplyCode.BAD_REQUEST);
    const big = new Uint8Array(limits.maxPayloadBytes + 1);
    expect(code({ serviceRequest: { type: 1, msgId: 'm', payload: big } })).to.equal(
      ReplyCode.PAYLOAD_TOO_LARGE,
    );
  });
  it('treats ServiceAck from a client as a protocol violation', () => {
    expect(() => check({ serviceAck: { msgId: 'm' } })).to.throw(/server-to-client/);
  });
});
