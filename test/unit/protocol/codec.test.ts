import { expect } from 'chai';
import fc from 'fast-check';
import { DisconnectCode, ProtocolError } from '../../../src/errors.js';
import {
  decodeFrame,
  encodeFrame,
  encodeFramePrefixed,
  LENGTH_PREFIX_BYTES,
  prefixLength,
} from '../../../src/protocol/codec.js';
import { ferry } from '../../../src/protocol/generated/frame.js';
import { FIXTURE_BODIES, FRAME_FIXTURES } from '../../fixtures/frames.js';
import { BODY_NAMES, canonical, expectProtocolError, frameArbitrary, fromHex, toHex } from './support.js';

const MAX = 64 * 1024;

describe('protocol/codec', () => {
  describe('hex fixtures (frozen wire contract)', () => {
    it('cover every body type of the schema', () => {
      expect([...FIXTURE_BODIES].sort()).to.deep.equal([...BODY_NAMES].sort());
    });

    for (const fixture of FRAME_FIXTURES) {
      it(`encodes ${fixture.name}`, () => {
        expect(toHex(encodeFrame(fixture.frame))).to.equal(fixture.hex);
      });

      it(`decodes ${fixture.name}`, () => {
        const frame = decodeFrame(fromHex(fixture.hex), MAX);
        expect(canonical(frame)).to.deep.equal(canonical(fixture.frame));
      });
    }

    it('decodes the request id and the body of a fixture field by field', () => {
      const frame = decodeFrame(fromHex(FRAME_FIXTURES[0]!.hex), MAX);
      expect(frame.id).to.equal(1);
      expect(frame.body).to.equal('authenticate');
      expect(frame.authenticate?.token).to.equal('tok');
      expect(frame.authenticate?.deviceId).to.equal('phone');
      expect(frame.authenticate?.lastSeq).to.equal(300);
    });
  });

  describe('length prefix', () => {
    it('encodeFramePrefixed = u32 BE length + encodeFrame, for every fixture', () => {
      for (const { frame } of FRAME_FIXTURES) {
        const body = encodeFrame(frame);
        const prefixed = encodeFramePrefixed(frame);
        expect(prefixed.length).to.equal(LENGTH_PREFIX_BYTES + body.length);
        expect(Buffer.from(prefixed).readUInt32BE(0)).to.equal(body.length);
        expect(toHex(prefixed.subarray(LENGTH_PREFIX_BYTES))).to.equal(toHex(body));
        expect(toHex(prefixLength(body))).to.equal(toHex(prefixed));
      }
    });

    it('writes lengths above 2^24 big-endian', () => {
      const out = prefixLength(new Uint8Array(0x01_02_03));
      expect(toHex(out.subarray(0, 4))).to.equal('00010203');
    });
  });

  describe('64-bit fields and bytes (protobufjs quirks)', () => {
    it('decodes absent 64-bit fields as the number 0, not Long(0)', () => {
      const frame = decodeFrame(encodeFrame({ ack: {} }), MAX);
      expect(frame.ack?.seq).to.equal(0);
      expect(new ferry.v1.Deliver().timestampMs).to.equal(0);
    });

    it('decodes present uint64 / int64 fields as numbers, negative ones included', () => {
      expect(decodeFrame(encodeFrame({ ack: { seq: 2 ** 53 - 1 } }), MAX).ack?.seq).to.equal(2 ** 53 - 1);
      expect(
        decodeFrame(encodeFrame({ pong: { timestampMs: -(2 ** 53 - 1) } }), MAX).pong?.timestampMs,
      ).to.equal(-(2 ** 53 - 1));
      expect(decodeFrame(fromHex('8a010b08ffffffffffffffffff01'), MAX).pong?.timestampMs).to.equal(-1);
    });

    it('decodes a uint64 above 2^53 as an unsafe number (validation refuses it)', () => {
      // ack.seq = 2^64 - 1: ten bytes, all bits set.
      const seq = decodeFrame(fromHex('7a0b08ffffffffffffffffff01'), MAX).ack?.seq ?? 0;
      expect(Number.isSafeInteger(seq)).to.equal(false);
      expect(seq).to.equal(2 ** 64);
    });

    it('returns payloads that own their memory, not views into the input', () => {
      const encoded = encodeFrame({ send: { toUser: 'b', payload: Uint8Array.from([7, 8, 9]) } });
      // An unpooled input, so that "not the same ArrayBuffer" means "not a view into the input".
      const input = Buffer.allocUnsafeSlow(encoded.length);
      input.set(encoded);
      const frame = decodeFrame(input, MAX);
      input.fill(0);
      const payload = frame.send?.payload ?? new Uint8Array();
      expect([...payload]).to.deep.equal([7, 8, 9]);
      expect(payload.buffer).to.not.equal(input.buffer);
    });

    it('accepts a plain Uint8Array as well as a Buffer', () => {
      const bytes = new Uint8Array(fromHex(FRAME_FIXTURES[2]!.hex));
      expect(decodeFrame(bytes, MAX).send?.toUser).to.equal('bob');
    });
  });

  describe('malformed input: only ProtocolError, with the right code', () => {
    const badFrame: [string, string][] = [
      ['an empty frame', ''],
      ['an id without a body', '08 05'],
      ['a truncated varint', '08 ff'],
      ['a varint longer than 10 bytes', '08 ff ff ff ff ff ff ff ff ff ff 01'],
      ['a body length past the end', '52 05 0a 05 61 62'],
      ['a nested length past its parent', '52 03 0a 05 61'],
      ['a length varint over 2^31', '52 ff ff ff ff 0f'],
      ['invalid UTF-8 (bad continuation)', '52 04 0a 02 c3 28'],
      ['invalid UTF-8 (overlong "/")', '52 04 0a 02 c0 af'],
      ['invalid UTF-8 (UTF-16 surrogate)', '52 05 0a 03 ed a0 80'],
      ['invalid UTF-8 (truncated sequence)', '52 05 0a 03 f0 9f 91'],
      ['invalid UTF-8 in a long string (TextDecoder path)', '52 42 0a 40' + '61'.repeat(62) + 'c3 28'],
      ['invalid UTF-8 deep inside presence_result', 'b2 01 07 0a 05 1a 03 0a 01 ff'],
      ['field number 0', '00 00'],
      ['wire type 6', '0e'],
      ['wire type 7', '0f'],
      ['a stray end-group tag', '0c'],
      ['an unterminated group', '0b'],
      ['a mismatched end-group tag', '0b 14'],
      ['groups nested 200 deep', '0b'.repeat(200) + '0c'.repeat(200)],
      ['a known body with the wrong wire type (varint)', '60 01'],
      ['a known body as fixed64', '61 00 00 00 00 00 00 00 00'],
    ];
    for (const [what, hex] of badFrame) {
      it(`BAD_FRAME (4500) for ${what}`, () => {
        expectProtocolError(() => decodeFrame(fromHex(hex), MAX), DisconnectCode.BAD_FRAME);
      });
    }

    it('BAD_FRAME for every proper prefix of every fixture', () => {
      for (const { hex } of FRAME_FIXTURES) {
        const bytes = fromHex(hex);
        for (let n = 0; n < bytes.length; n++) {
          expectProtocolError(() => decodeFrame(bytes.subarray(0, n), MAX), DisconnectCode.BAD_FRAME);
        }
      }
    });

    it('keeps the underlying protobufjs error as the cause', () => {
      const err = expectProtocolError(() => decodeFrame(fromHex('08 ff'), MAX), DisconnectCode.BAD_FRAME);
      expect(err.cause).to.be.instanceOf(Error);
      expect(err.code).to.equal('FERRY_ERR_PROTOCOL_BAD_FRAME');
    });

    const unknown: [string, string][] = [
      ['an unknown body field (40)', 'c2 02 00'],
      ['an unknown body field (1000) after an id', '08 01 c2 3e 01 00'],
      ['an unknown varint field', '10 01'],
    ];
    for (const [what, hex] of unknown) {
      it(`UNKNOWN_FRAME_TYPE (4502) for ${what}`, () => {
        const err = expectProtocolError(
          () => decodeFrame(fromHex(hex), MAX),
          DisconnectCode.UNKNOWN_FRAME_TYPE,
        );
        expect(err.message).to.match(/unknown frame type \(field \d+\)/);
      });
    }

    it('FRAME_TOO_LARGE (4501) past maxFrameBytes, and exactly at it decodes', () => {
      const bytes = encodeFrame({ send: { toUser: 'b', payload: new Uint8Array(100) } });
      expect(decodeFrame(bytes, bytes.length).body).to.equal('send');
      expectProtocolError(() => decodeFrame(bytes, bytes.length - 1), DisconnectCode.FRAME_TOO_LARGE);
    });
  });

  describe('forward compatibility and oneof rules', () => {
    it('ignores unknown fields beside a known body, at the top level and inside it', () => {
      // ping {} + unknown field 40 at top level; ack with an unknown field 9 (varint) inside.
      expect(decodeFrame(fromHex('82 01 00 c2 02 00'), MAX).body).to.equal('ping');
      const ack = decodeFrame(fromHex('7a 04 48 01 08 05'), MAX);
      expect(ack.ack?.seq).to.equal(5);
      expect(Object.keys(ack.ack ?? {})).to.deep.equal(['seq']);
    });

    it('skips a known nested field sent with the wrong wire type, as protobuf parsers do', () => {
      // send.to_user (field 1) as a varint: skipped, so to_user is empty (validation then refuses it).
      const frame = decodeFrame(fromHex('62 02 08 05'), MAX);
      expect(frame.send?.toUser).to.equal('');
    });

    it('keeps the last body when a frame carries two (proto3 oneof: last one wins)', () => {
      const frame = decodeFrame(fromHex('82 01 00 7a 02 08 05'), MAX);
      expect(frame.body).to.equal('ack');
      expect(frame.ping ?? undefined).to.equal(undefined);
    });
  });

  describe('properties', () => {
    it('decode(encode(frame)) equals the frame, for arbitrary well-formed frames', () => {
      fc.assert(
        fc.property(frameArbitrary, (frame) => {
          const bytes = encodeFrame(frame);
          const decoded = decodeFrame(bytes, Infinity);
          expect(canonical(decoded)).to.deep.equal(canonical(frame));
          // Re-encoding a decoded frame gives the same bytes: the encoding is canonical.
          expect(toHex(encodeFrame(decoded))).to.equal(toHex(bytes));
        }),
        { numRuns: 500 },
      );
    });

    it('decodeFrame on arbitrary bytes returns a frame with a body or throws ProtocolError', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
          try {
            expect(decodeFrame(bytes, MAX).body).to.be.a('string');
          } catch (err) {
            expect(err).to.be.instanceOf(ProtocolError);
          }
        }),
        { numRuns: 2000 },
      );
    });

    it('single-byte corruptions of valid frames decode or throw ProtocolError', () => {
      const arb = fc.tuple(frameArbitrary, fc.nat(), fc.nat(255));
      fc.assert(
        fc.property(arb, ([frame, at, value]) => {
          const bytes = Buffer.from(encodeFrame(frame));
          if (bytes.length === 0) return;
          bytes[at % bytes.length] = value;
          try {
            expect(decodeFrame(bytes, MAX).body).to.be.a('string');
          } catch (err) {
            expect(err).to.be.instanceOf(ProtocolError);
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
});
