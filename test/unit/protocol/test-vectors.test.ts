/**
 * docs/test-vectors/ against the codec, the stream reader and the error catalogue. The reactions of
 * a real node are checked by test/integration/gateway/test-vectors.test.ts.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { DisconnectCode, ProtocolError, ReplyCode, shouldReconnect } from '../../../src/errors.js';
import { decodeFrame, encodeFrame } from '../../../src/protocol/codec.js';
import { StreamFrameReader } from '../../../src/protocol/stream-reader.js';
import { FRAME_FIXTURES } from '../../fixtures/frames.js';
import {
  CODES,
  FRAMES,
  FRAMING,
  frameInit,
  jsonBody,
  jsonFrame,
  REACTIONS,
  vectorBytes,
} from '../../helpers/test-vectors.js';
import { BODY_NAMES, expectProtocolError, toHex } from './support.js';

const MAX = 64 * 1024;
const NODE_MAX_FRAME_BYTES = (REACTIONS.node_config.limits as { maxFrameBytes: number }).maxFrameBytes;
const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

describe('docs/test-vectors', () => {
  describe('frames.json', () => {
    for (const v of FRAMES.encode) {
      it(`encodes and decodes ${v.name}`, () => {
        expect(toHex(encodeFrame(frameInit(v.frame)))).to.equal(toHex(vectorBytes(v.hex)));
        expect(jsonFrame(decodeFrame(vectorBytes(v.hex), MAX))).to.deep.equal(v.frame);
      });
    }

    for (const v of FRAMES.decode_only) {
      it(`decodes ${v.name}`, () => {
        expect(jsonFrame(decodeFrame(vectorBytes(v.hex), MAX))).to.deep.equal(v.frame);
        expect(toHex(encodeFrame(frameInit(v.frame)))).to.not.equal(toHex(vectorBytes(v.hex)));
      });
    }

    it('covers every body of the schema', () => {
      const bodies = new Set(FRAMES.encode.map((v) => jsonBody(v.frame)));
      expect([...bodies].sort()).to.deep.equal(BODY_NAMES.map(snake).sort());
    });

    it('holds every frozen fixture of test/fixtures/frames.ts, byte for byte', () => {
      for (const fixture of FRAME_FIXTURES) {
        const v = FRAMES.encode.find((x) => x.name === fixture.name);
        expect(v, fixture.name).to.not.equal(undefined);
        expect(toHex(vectorBytes(v!.hex)), fixture.name).to.equal(fixture.hex);
      }
    });
  });

  describe('framing.json', () => {
    for (const v of FRAMING.vectors) {
      it(v.name, () => {
        const reader = new StreamFrameReader(FRAMING.max_frame_bytes);
        const frames: string[] = [];
        let error = 0;
        try {
          for (const read of v.reads) reader.push(vectorBytes(read), (body) => frames.push(toHex(body)));
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          error = err.disconnectCode;
        }
        expect(frames).to.deep.equal(v.frames.map((f) => toHex(vectorBytes(f))));
        expect(error).to.equal(v.error ?? 0);
        if (v.decode_error !== undefined) {
          for (const f of v.frames)
            expectProtocolError(
              () => decodeFrame(vectorBytes(f), FRAMING.max_frame_bytes),
              v.decode_error as DisconnectCode,
            );
        }
      });
    }
  });

  describe('codes.json', () => {
    it('lists every reply error code of src/errors.ts, with the retryable flag of §6.1', () => {
      expect(CODES.reply_errors.map((c) => [c.code, c.name])).to.deep.equal(
        Object.entries(ReplyCode).map(([n, c]) => [c, n]),
      );
      for (const c of CODES.reply_errors) {
        expect(c.symbolic).to.equal(`FERRY_ERR_REQUEST_${c.name}`);
        const row = new RegExp(
          `^\\| ${c.code} \\| ${c.name} \\| \`${c.symbolic}\` \\| (yes|no) \\|`,
          'm',
        ).exec(doc);
        expect(row?.[1], `${c.code} in §6.1`).to.equal(c.retryable ? 'yes' : 'no');
      }
    });

    it('lists every disconnect code of src/errors.ts, with its reconnect advice', () => {
      expect(CODES.disconnects.map((c) => [c.code, c.name])).to.deep.equal(
        Object.entries(DisconnectCode).map(([n, c]) => [c, n]),
      );
      for (const c of CODES.disconnects) {
        expect(c.symbolic).to.equal(`FERRY_ERR_PROTOCOL_${c.name}`);
        expect(c.reconnect, String(c.code)).to.equal(shouldReconnect(c.code));
        expect(doc).to.include(
          `| ${c.code} | ${c.name} | \`${c.symbolic}\` | ${c.reconnect ? 'yes' : 'no'} |`,
        );
      }
    });

    it('gives frames the codec encodes and decodes byte for byte', () => {
      for (const c of [...CODES.reply_errors, ...CODES.disconnects]) {
        expect(toHex(encodeFrame(frameInit(c.frame))), String(c.code)).to.equal(toHex(vectorBytes(c.hex)));
        expect(jsonFrame(decodeFrame(vectorBytes(c.hex), MAX))).to.deep.equal(c.frame);
      }
    });
  });

  describe('reactions.json (the decoder-level ones)', () => {
    // A vector whose only frame the node closes with 4500 or 4502 is a decoder verdict.
    const decoderVerdicts = REACTIONS.vectors.filter(
      (v) =>
        v.send.length === 1 &&
        'hex' in v.send[0]! &&
        (v.close?.code === DisconnectCode.BAD_FRAME || v.close?.code === DisconnectCode.UNKNOWN_FRAME_TYPE),
    );

    it('has some', () => {
      expect(decoderVerdicts.length).to.be.greaterThan(5);
    });

    for (const v of decoderVerdicts) {
      it(v.name, () => {
        const hex = (v.send[0] as { hex: string }).hex;
        const err = expectProtocolError(
          () => decodeFrame(vectorBytes(hex), NODE_MAX_FRAME_BYTES),
          v.close!.code as DisconnectCode,
        );
        if (v.close?.reason !== undefined) expect(err.message).to.equal(v.close.reason);
      });
    }

    it('encode every frame they send as the codec would (no accidental non-canonical bytes)', () => {
      for (const v of REACTIONS.vectors) {
        for (const item of v.send) {
          if (!('hex' in item) || item.hex === '') continue;
          let frame;
          try {
            frame = decodeFrame(vectorBytes(item.hex), MAX);
          } catch {
            continue; // deliberately malformed
          }
          // Hand-written ones (unknown fields, qos 2) differ on purpose; the rest are canonical.
          if (v.name.includes('unknown') || v.name.includes('qos 2') || v.name.includes('2^53')) continue;
          expect(toHex(encodeFrame(frame)), v.name).to.equal(toHex(vectorBytes(item.hex)));
        }
      }
    });
  });
});
