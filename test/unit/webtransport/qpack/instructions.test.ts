import { expect } from 'chai';
import {
  H3_CLOSED_CRITICAL_STREAM,
  QPACK_DECODER_STREAM_ERROR,
  QPACK_ENCODER_STREAM_ERROR,
} from '../../../../src/webtransport/constants.js';
import {
  QpackDecoderStreamReader,
  QpackEncoderStreamReader,
} from '../../../../src/webtransport/qpack/instructions.js';
import { expectH3Error, fromHex, splits } from '../support.js';

describe('webtransport/qpack instruction streams', () => {
  describe('QpackEncoderStreamReader (peer encoder stream, our capacity 0)', () => {
    it("accepts Chromium's single byte 0x20 (Set Dynamic Table Capacity 0), repeatedly", () => {
      const reader = new QpackEncoderStreamReader();
      reader.push(fromHex('20'));
      reader.push(fromHex('2020'));
      expect(reader.capacity).to.equal(0);
    });

    it('rejects a capacity above ours with QPACK_ENCODER_STREAM_ERROR', () => {
      expectH3Error(() => new QpackEncoderStreamReader().push(fromHex('21')), QPACK_ENCODER_STREAM_ERROR);
      // RFC 9204 B.2: Set Dynamic Table Capacity=220.
      expectH3Error(() => new QpackEncoderStreamReader().push(fromHex('3fbd01')), QPACK_ENCODER_STREAM_ERROR);
    });

    it('parses a capacity split across chunks', () => {
      for (const chunks of splits(fromHex('3fbd01 20'))) {
        const reader = new QpackEncoderStreamReader(220);
        for (const c of chunks) reader.push(c);
        expect(reader.capacity).to.equal(0);
      }
    });

    it('rejects insertions and Duplicate (RFC 9204 B.2 encoder stream bytes)', () => {
      for (const hex of ['c00f7777772e6578616d706c652e636f6d', '4a637573746f6d2d6b6579', '02']) {
        expectH3Error(() => new QpackEncoderStreamReader().push(fromHex(hex)), QPACK_ENCODER_STREAM_ERROR);
      }
    });

    it('rejects an endless integer and closing the stream', () => {
      const reader = new QpackEncoderStreamReader();
      expectH3Error(() => reader.push(fromHex('3f ffffffffffffffffffffff')), QPACK_ENCODER_STREAM_ERROR);
      expectH3Error(() => new QpackEncoderStreamReader().finish(), H3_CLOSED_CRITICAL_STREAM);
    });
  });

  describe('QpackDecoderStreamReader (peer decoder stream, we never insert)', () => {
    it('accepts Stream Cancellation, also split', () => {
      const reader = new QpackDecoderStreamReader();
      reader.push(fromHex('44'));
      reader.push(fromHex('7f'));
      reader.push(fromHex('ff01'));
    });

    it('rejects Section Acknowledgment and Insert Count Increment', () => {
      expectH3Error(() => new QpackDecoderStreamReader().push(fromHex('84')), QPACK_DECODER_STREAM_ERROR);
      expectH3Error(() => new QpackDecoderStreamReader().push(fromHex('01')), QPACK_DECODER_STREAM_ERROR);
      expectH3Error(() => new QpackDecoderStreamReader().push(fromHex('00')), QPACK_DECODER_STREAM_ERROR);
    });

    it('is dead after an error', () => {
      const reader = new QpackDecoderStreamReader();
      expectH3Error(() => reader.push(fromHex('84')), QPACK_DECODER_STREAM_ERROR);
      expectH3Error(() => reader.push(fromHex('44')), QPACK_DECODER_STREAM_ERROR);
    });
  });
});
