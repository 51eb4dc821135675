import { expect } from 'chai';
import {
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_SETTINGS,
  H3_EXCESSIVE_LOAD,
  H3_FRAME_ERROR,
  H3_FRAME_UNEXPECTED,
  H3_ID_ERROR,
  H3_MISSING_SETTINGS,
  STREAM_CONTROL,
  STREAM_QPACK_ENCODER,
  STREAM_WEBTRANSPORT_UNI,
} from '../../../src/webtransport/constants.js';
import {
  H3FrameReader,
  type H3FrameReaderOptions,
  decodeSingleVarintPayload,
  encodeControlStreamPreamble,
  encodeDataFrameHeader,
  encodeFrame,
  encodeGoawayFrame,
  encodeHeadersFrame,
  encodeSettingsFrame,
  encodeUniStreamType,
  encodeWebTransportBidiHeader,
  encodeWebTransportUniHeader,
  parseBidiStreamHeader,
  parseUniStreamHeader,
} from '../../../src/webtransport/h3-frames.js';
import { concat, expectH3Error, fromHex, splits, toHex } from './support.js';

/** Feeds chunks and records frames as hex; DATA slices are joined per run of DATA. */
function collect(chunks: Uint8Array[], options?: H3FrameReaderOptions): string[] {
  const out: string[] = [];
  let data = '';
  const reader = new H3FrameReader(
    {
      onFrame(type, payload) {
        if (data) out.push(`data:${data}`);
        data = '';
        out.push(`${type}:${toHex(payload)}`);
      },
      onData(chunk) {
        expect(chunk.length).to.be.greaterThan(0);
        data += toHex(chunk);
      },
    },
    options,
  );
  for (const c of chunks) reader.push(c);
  reader.finish();
  if (data) out.push(`data:${data}`);
  return out;
}

// SETTINGS, a GREASE frame (type 0x21, like Chromium's), HEADERS, DATA, an unknown 8-byte type, GOAWAY.
const STREAM = concat(
  encodeSettingsFrame([[0x06, 16384]]),
  encodeFrame(0x21, fromHex('deadbeef')),
  encodeHeadersFrame(fromHex('0000d9')),
  encodeDataFrameHeader(3),
  fromHex('616263'),
  encodeFrame(0x1f * 1000003 + 0x21, fromHex('00')),
  encodeGoawayFrame(8),
);
const EXPECTED = ['4:0680004000', '1:0000d9', 'data:616263', '7:08'];

describe('webtransport/h3-frames', () => {
  describe('H3FrameReader', () => {
    it('parses a stream in one chunk, skipping GREASE and unknown types', () => {
      expect(collect([STREAM])).to.deep.equal(EXPECTED);
    });

    it('parses the same frames split at every offset and byte by byte', () => {
      for (const chunks of splits(STREAM)) expect(collect(chunks)).to.deep.equal(EXPECTED);
    });

    it('hands out views of the chunk for whole frames (no copy)', () => {
      const chunk = concat(encodeHeadersFrame(fromHex('0000d9')), encodeDataFrameHeader(2), fromHex('6869'));
      const seen: Uint8Array[] = [];
      const reader = new H3FrameReader({ onFrame: (_t, p) => seen.push(p), onData: (c) => seen.push(c) });
      reader.push(chunk);
      for (const v of seen) expect(v.buffer).to.equal(chunk.buffer);
    });

    it('streams a large DATA payload without buffering it whole', () => {
      const payload = new Uint8Array(100_000).fill(7);
      const frame = concat(encodeDataFrameHeader(payload.length), payload);
      const sizes: number[] = [];
      const reader = new H3FrameReader({ onFrame: () => expect.fail(), onData: (c) => sizes.push(c.length) });
      for (let i = 0; i < frame.length; i += 1200) reader.push(frame.subarray(i, i + 1200));
      reader.finish();
      expect(sizes.reduce((a, b) => a + b, 0)).to.equal(payload.length);
      expect(Math.max(...sizes)).to.be.at.most(1200);
    });

    it('delivers empty known frames and ignores empty DATA', () => {
      const bytes = concat(encodeFrame(FRAME_HEADERS, new Uint8Array(0)), encodeDataFrameHeader(0));
      expect(collect([bytes])).to.deep.equal(['1:']);
    });

    it('rejects non-DATA frames over maxFramePayload with H3_EXCESSIVE_LOAD before buffering', () => {
      const header = fromHex('01 80100000'); // HEADERS, length 1 MiB, no payload yet
      expectH3Error(() => collect([header], { maxFramePayload: 65536 }), H3_EXCESSIVE_LOAD);
    });

    it('skips unknown frames of any size without buffering', () => {
      const bytes = concat(
        fromHex('21 80100000'),
        new Uint8Array(0x100000),
        encodeHeadersFrame(fromHex('00')),
      );
      expect(collect([bytes], { maxFramePayload: 16 })).to.deep.equal(['1:00']);
    });

    it('rejects HTTP/2 frame types with H3_FRAME_UNEXPECTED', () => {
      for (const type of [0x02, 0x06, 0x08, 0x09]) {
        expectH3Error(() => collect([encodeFrame(type, fromHex('00'))]), H3_FRAME_UNEXPECTED);
      }
    });

    it('rejects the 0x41 signal inside a stream with H3_FRAME_ERROR', () => {
      expectH3Error(() => collect([fromHex('4041 00')]), H3_FRAME_ERROR);
    });

    it('throws H3_FRAME_ERROR when the stream ends mid-frame, at every cut', () => {
      const frame = encodeHeadersFrame(fromHex('0000d9'));
      for (let cut = 1; cut < frame.length; cut++) {
        expectH3Error(() => collect([frame.subarray(0, cut)]), H3_FRAME_ERROR);
      }
    });

    it('is dead after an error', () => {
      const reader = new H3FrameReader({ onFrame: () => {}, onData: () => {} });
      expectH3Error(() => reader.push(fromHex('0200')), H3_FRAME_UNEXPECTED);
      expectH3Error(() => reader.push(fromHex('00')), H3_FRAME_ERROR);
    });

    describe("kind 'control'", () => {
      it('requires SETTINGS first (H3_MISSING_SETTINGS), even before GREASE', () => {
        expectH3Error(
          () => collect([encodeFrame(0x21, fromHex(''))], { kind: 'control' }),
          H3_MISSING_SETTINGS,
        );
        expectH3Error(() => collect([encodeGoawayFrame(0)], { kind: 'control' }), H3_MISSING_SETTINGS);
      });

      it('rejects a second SETTINGS and DATA/HEADERS with H3_FRAME_UNEXPECTED', () => {
        const settings = encodeSettingsFrame([]);
        expectH3Error(() => collect([settings, settings], { kind: 'control' }), H3_FRAME_UNEXPECTED);
        expectH3Error(
          () => collect([settings, encodeDataFrameHeader(0)], { kind: 'control' }),
          H3_FRAME_UNEXPECTED,
        );
        expectH3Error(
          () => collect([settings, encodeHeadersFrame(fromHex('0000'))], { kind: 'control' }),
          H3_FRAME_UNEXPECTED,
        );
      });

      it('accepts SETTINGS, GREASE, GOAWAY', () => {
        const bytes = concat(encodeSettingsFrame([]), encodeFrame(0x21, fromHex('00')), encodeGoawayFrame(4));
        expect(collect([bytes], { kind: 'control' })).to.deep.equal(['4:', '7:04']);
      });
    });

    it("kind 'request' rejects control frames with H3_FRAME_UNEXPECTED", () => {
      expectH3Error(() => collect([encodeSettingsFrame([])], { kind: 'request' }), H3_FRAME_UNEXPECTED);
      expectH3Error(() => collect([encodeGoawayFrame(0)], { kind: 'request' }), H3_FRAME_UNEXPECTED);
      expect(collect([encodeHeadersFrame(fromHex('0000d9'))], { kind: 'request' })).to.deep.equal([
        '1:0000d9',
      ]);
    });
  });

  describe('writers', () => {
    it('encode frames with varint type and length', () => {
      expect(toHex(encodeHeadersFrame(fromHex('0000d9')))).to.equal('01030000d9');
      expect(toHex(encodeDataFrameHeader(1000))).to.equal('004' + '3e8');
      expect(toHex(encodeGoawayFrame(0))).to.equal('070100');
      expect(toHex(encodeSettingsFrame([[0x01, 0]]))).to.equal('04020100');
      expect(toHex(encodeFrame(FRAME_DATA, fromHex('ff')))).to.equal('0001ff');
    });

    it('encode the control stream preamble: type 0x00 then SETTINGS', () => {
      expect(toHex(encodeControlStreamPreamble([[0x08, 1]]))).to.equal('0004020801');
    });

    it('decodeSingleVarintPayload accepts exactly one varint', () => {
      expect(decodeSingleVarintPayload(fromHex('4004'))).to.equal(4);
      expectH3Error(() => decodeSingleVarintPayload(fromHex('')), H3_FRAME_ERROR);
      expectH3Error(() => decodeSingleVarintPayload(fromHex('0400')), H3_FRAME_ERROR);
      expectH3Error(() => decodeSingleVarintPayload(fromHex('40')), H3_FRAME_ERROR);
      expect(FRAME_GOAWAY).to.equal(7);
      expect(FRAME_SETTINGS).to.equal(4);
    });
  });

  describe('stream headers', () => {
    it('encode WebTransport preambles', () => {
      expect(toHex(encodeWebTransportUniHeader(0))).to.equal('405400');
      expect(toHex(encodeWebTransportBidiHeader(4))).to.equal('404104');
      expect(toHex(encodeUniStreamType(STREAM_QPACK_ENCODER))).to.equal('02');
    });

    it('parse uni stream types, WebTransport with its session id', () => {
      expect(parseUniStreamHeader(fromHex('00 0400'))).to.deep.equal({
        type: STREAM_CONTROL,
        sessionId: -1,
        length: 1,
      });
      expect(parseUniStreamHeader(fromHex('4054 4004 ff'))).to.deep.equal({
        type: STREAM_WEBTRANSPORT_UNI,
        sessionId: 4,
        length: 4,
      });
      // A GREASE stream type is returned for the engine to abort reading.
      expect(parseUniStreamHeader(fromHex('21'))?.type).to.equal(0x21);
    });

    it('parse bidi streams: 0x41 + session id, or a request stream', () => {
      expect(parseBidiStreamHeader(fromHex('4041 00 68'))).to.deep.equal({
        type: 0x41,
        sessionId: 0,
        length: 3,
      });
      expect(parseBidiStreamHeader(fromHex('01 03 0000d9'))).to.deep.equal({
        type: -1,
        sessionId: -1,
        length: 0,
      });
    });

    it('return undefined until the header is complete', () => {
      const uni = fromHex('4054 80000004');
      const bidi = fromHex('4041 80000004');
      for (let cut = 0; cut < uni.length; cut++) {
        expect(parseUniStreamHeader(uni.subarray(0, cut))).to.equal(undefined);
        expect(parseBidiStreamHeader(bidi.subarray(0, cut))).to.equal(undefined);
      }
      expect(parseUniStreamHeader(uni)?.sessionId).to.equal(4);
    });

    it('reject session ids that are not client bidi stream ids with H3_ID_ERROR', () => {
      expectH3Error(() => parseUniStreamHeader(fromHex('4054 01')), H3_ID_ERROR);
      expectH3Error(() => parseBidiStreamHeader(fromHex('4041 02')), H3_ID_ERROR);
      expectH3Error(() => parseBidiStreamHeader(fromHex('4041 ffffffffffffffff')), H3_ID_ERROR);
    });
  });
});
