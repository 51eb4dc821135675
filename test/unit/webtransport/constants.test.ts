import { expect } from 'chai';
import fc from 'fast-check';
import * as C from '../../../src/webtransport/constants.js';

describe('webtransport/constants', () => {
  it('has the RFC 9114 / RFC 9204 codepoints', () => {
    expect([C.FRAME_DATA, C.FRAME_HEADERS, C.FRAME_CANCEL_PUSH, C.FRAME_SETTINGS]).to.deep.equal([
      0, 1, 3, 4,
    ]);
    expect([
      C.FRAME_PUSH_PROMISE,
      C.FRAME_GOAWAY,
      C.FRAME_MAX_PUSH_ID,
      C.FRAME_WEBTRANSPORT_STREAM,
    ]).to.deep.equal([5, 7, 0x0d, 0x41]);
    expect([C.STREAM_CONTROL, C.STREAM_PUSH, C.STREAM_QPACK_ENCODER, C.STREAM_QPACK_DECODER]).to.deep.equal([
      0, 1, 2, 3,
    ]);
    expect(C.STREAM_WEBTRANSPORT_UNI).to.equal(0x54);
    expect([C.H3_NO_ERROR, C.H3_MESSAGE_ERROR, C.H3_CONNECT_ERROR, C.H3_VERSION_FALLBACK]).to.deep.equal([
      0x100, 0x10e, 0x10f, 0x110,
    ]);
    expect([
      C.QPACK_DECOMPRESSION_FAILED,
      C.QPACK_ENCODER_STREAM_ERROR,
      C.QPACK_DECODER_STREAM_ERROR,
    ]).to.deep.equal([0x200, 0x201, 0x202]);
    expect([C.CAPSULE_CLOSE_WEBTRANSPORT_SESSION, C.CAPSULE_DRAIN_WEBTRANSPORT_SESSION]).to.deep.equal([
      0x2843, 0x78ae,
    ]);
  });

  it('detects reserved GREASE values 0x1f*N+0x21', () => {
    expect(C.isReservedGrease(0x21)).to.equal(true);
    expect(C.isReservedGrease(0x40)).to.equal(true);
    expect(C.isReservedGrease(0x41)).to.equal(false);
    expect(C.isReservedGrease(0x20)).to.equal(false);
    expect(C.isReservedGrease(0)).to.equal(false);
    fc.assert(fc.property(fc.nat(), (n) => C.isReservedGrease(C.greaseValue(n))));
  });

  describe('WebTransport application error mapping (draft-ietf-webtrans-http3)', () => {
    it('matches the known values', () => {
      expect(C.webTransportCodeToHttp3(0)).to.equal(0x52e4a40fa8db);
      expect(C.webTransportCodeToHttp3(0x1c)).to.equal(0x52e4a40fa8f7);
      expect(C.webTransportCodeToHttp3(0x1d)).to.equal(0x52e4a40fa8f8);
      expect(C.webTransportCodeToHttp3(0x1e)).to.equal(0x52e4a40fa8fa); // skips GREASE ...a8f9
      expect(C.webTransportCodeToHttp3(0xff)).to.equal(0x52e4a40fa9e2);
      expect(C.webTransportCodeToHttp3(0xffffffff)).to.equal(0x52e5ac983162);
      expect(C.isReservedGrease(0x52e4a40fa8f9)).to.equal(true);
    });

    it('never maps to a GREASE code and inverts exactly (property)', () => {
      fc.assert(
        fc.property(fc.nat({ max: 0xffffffff }), (n) => {
          const h3 = C.webTransportCodeToHttp3(n);
          expect(C.isReservedGrease(h3)).to.equal(false);
          expect(C.http3CodeToWebTransport(h3)).to.equal(n);
        }),
      );
    });

    it('rejects codes outside the range or reserved', () => {
      expect(C.http3CodeToWebTransport(C.H3_NO_ERROR)).to.equal(undefined);
      expect(C.http3CodeToWebTransport(0x52e4a40fa8f9)).to.equal(undefined);
      expect(C.http3CodeToWebTransport(0x52e5ac983163)).to.equal(undefined);
    });
  });
});
