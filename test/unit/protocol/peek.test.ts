import { expect } from 'chai';
import fc from 'fast-check';
import { decodeFrame, encodeFrame } from '../../../src/protocol/codec.js';
import { isControlFrame } from '../../../src/protocol/peek.js';
import { FRAME_FIXTURES } from '../../fixtures/frames.js';
import { frameArbitrary, fromHex } from './support.js';

const CONTROL = new Set(['ping', 'pong', 'ack']);

describe('protocol/peek: isControlFrame', () => {
  it('is true for Ping, Pong and Ack, with or without an id', () => {
    expect(isControlFrame(encodeFrame({ id: 3, ping: { timestampMs: 5 } }))).to.equal(true);
    expect(isControlFrame(encodeFrame({ pong: { timestampMs: 2 ** 40 } }))).to.equal(true);
    expect(isControlFrame(encodeFrame({ ack: { seq: 9 } }))).to.equal(true);
    expect(isControlFrame(encodeFrame({ id: 2 ** 31, ping: {} }))).to.equal(true);
  });

  it('is false for requests, and for anything it cannot read as a control frame', () => {
    expect(isControlFrame(encodeFrame({ id: 1, send: { toUser: 'b' } }))).to.equal(false);
    expect(isControlFrame(encodeFrame({ id: 1, authenticate: { token: 't' } }))).to.equal(false);
    expect(isControlFrame(new Uint8Array(0))).to.equal(false); // no body
    expect(isControlFrame(fromHex('0805'))).to.equal(false); // only an id
    expect(isControlFrame(fromHex('8201'))).to.equal(false); // a Ping tag without its length
    expect(isControlFrame(fromHex('820105'))).to.equal(false); // a length past the end
    expect(isControlFrame(fromHex('ffffffffffffffffffff'))).to.equal(false);
  });

  it('prices a frame with another body or an unknown field beside a control body as a request', () => {
    const ping = encodeFrame({ ping: {} });
    const send = encodeFrame({ send: { toUser: 'b' } });
    // proto3: the last of several bodies wins, and protobufjs may pick either: never the cheap price.
    expect(isControlFrame(Buffer.concat([ping, send]))).to.equal(false);
    expect(isControlFrame(Buffer.concat([send, ping]))).to.equal(false);
    expect(isControlFrame(Buffer.concat([ping, fromHex('d00101')]))).to.equal(false); // field 26 varint
  });

  it('never calls a frame control unless it decodes to a Ping, Pong or Ack (fixtures and fast-check)', () => {
    for (const f of FRAME_FIXTURES) {
      const bytes = fromHex(f.hex);
      if (isControlFrame(bytes)) expect(CONTROL.has(decodeFrame(bytes, Infinity).body ?? '')).to.equal(true);
    }
    fc.assert(
      fc.property(frameArbitrary, (frame) => {
        const bytes = encodeFrame(frame);
        const body = decodeFrame(bytes, Infinity).body ?? '';
        // A control frame as an encoder writes it is recognised; nothing else is.
        expect(isControlFrame(bytes)).to.equal(CONTROL.has(body));
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        if (!isControlFrame(bytes)) return;
        let body: string;
        try {
          body = decodeFrame(bytes, Infinity).body ?? '';
        } catch {
          return; // refused by the decoder: priced as control, but it never gets further
        }
        expect(CONTROL.has(body)).to.equal(true);
      }),
    );
  });
});
