import { expect } from 'chai';
import fc from 'fast-check';
import { defaultConfig } from '../../../src/config/schema.js';
import { DisconnectCode, ReplyCode, RequestError } from '../../../src/errors.js';
import { decodeFrame, encodeFrame, type Frame, type FrameInit } from '../../../src/protocol/codec.js';
import { PAYLOAD_HEADROOM_BYTES } from '../../../src/protocol/constants.js';
import { CLIENT_BODIES, validateClientFrame, validationLimits } from '../../../src/protocol/validate.js';
import { FRAME_FIXTURES } from '../../fixtures/frames.js';
import { BODY_NAMES, bodyArbitraries, expectProtocolError } from './support.js';

type QoS = NonNullable<NonNullable<FrameInit['send']>['qos']>;
/** An out-of-range QoS (open proto3 enum: any int32 can arrive on the wire). */
const qosValue = (n: number): QoS => n;

const LIMITS = { maxUserIdLength: 16, maxTopicLength: 20, maxPayloadBytes: 100 };

/** Validates a frame as the gateway sees it: encoded, then decoded. */
function check(frame: FrameInit): void {
  validateClientFrame(decodeFrame(encodeFrame(frame), Infinity), LIMITS);
}

function expectRequestError(frame: FrameInit, code: number, message: RegExp): void {
  try {
    check(frame);
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(RequestError);
    expect((err as RequestError).replyCode).to.equal(code);
    expect((err as RequestError).message).to.match(message);
    return;
  }
  expect.fail(`expected RequestError ${code} for ${JSON.stringify(frame)}`);
}

const bad = (frame: FrameInit, message: RegExp): void =>
  expectRequestError(frame, ReplyCode.BAD_REQUEST, message);

const SERVER_BODIES = BODY_NAMES.filter((b) => !CLIENT_BODIES.has(b));

describe('protocol/validate', () => {
  it('classifies the eleven client bodies and seven server bodies', () => {
    expect(CLIENT_BODIES.size).to.equal(11);
    expect(SERVER_BODIES.sort()).to.deep.equal(
      ['authResult', 'deliver', 'error', 'presenceResult', 'reply', 'sendAck', 'serviceAck'].sort(),
    );
  });

  it('accepts every client-to-server fixture', () => {
    for (const { frame, name } of FRAME_FIXTURES) {
      const decoded = decodeFrame(encodeFrame(frame), Infinity);
      if (!CLIENT_BODIES.has(decoded.body!)) continue;
      expect(() => validateClientFrame(decoded, LIMITS), name).to.not.throw();
    }
  });

  for (const body of ['authResult', 'sendAck', 'deliver', 'presenceResult', 'reply', 'error']) {
    it(`ends the connection with PROTOCOL_VIOLATION (4503) for a client-sent ${body}`, () => {
      const err = expectProtocolError(() => check({ [body]: {} }), DisconnectCode.PROTOCOL_VIOLATION);
      expect(err.message).to.contain(body);
    });
  }

  it('throws BAD_FRAME for a frame without a body (not reachable through decodeFrame)', () => {
    expectProtocolError(
      () => validateClientFrame(new (class {})() as Frame, LIMITS),
      DisconnectCode.BAD_FRAME,
    );
  });

  describe('authenticate', () => {
    it('needs a token of at most 8 KiB', () => {
      bad({ authenticate: {} }, /authenticate\.token is empty/);
      bad({ authenticate: { token: 'x'.repeat(8193) } }, /authenticate\.token is longer than 8192/);
      expect(() => check({ authenticate: { token: 'x'.repeat(8192) } })).to.not.throw();
    });

    it('allows an empty device_id and checks a given one like a user id', () => {
      expect(() => check({ authenticate: { token: 't', deviceId: '' } })).to.not.throw();
      bad({ authenticate: { token: 't', deviceId: 'd'.repeat(17) } }, /device_id is longer than 16/);
      bad(
        { authenticate: { token: 't', deviceId: 'a\u0000b' } },
        /device_id contains U\+0000 \(a control character\)/,
      );
    });

    it('limits the client name and refuses control characters in it', () => {
      bad({ authenticate: { token: 't', client: 'x'.repeat(257) } }, /authenticate\.client is longer/);
      bad({ authenticate: { token: 't', client: 'app\n1.0' } }, /authenticate\.client contains a control/);
    });

    it('refuses a last_seq beyond 2^53 - 1', () => {
      bad(
        { authenticate: { token: 't', lastSeq: 2 ** 60 } },
        /authenticate\.last_seq .* not an integer in 0\.\.2\^53-1/,
      );
    });
  });

  describe('send and publish', () => {
    it('needs a recipient user id that is non-empty, short enough (UTF-8 bytes) and printable', () => {
      bad({ send: {} }, /send\.to_user is empty/);
      bad({ send: { toUser: 'u'.repeat(17) } }, /send\.to_user is longer than 16 bytes/);
      // 8 characters, 16 bytes: fits; 9 two-byte characters (18 bytes) do not.
      expect(() => check({ send: { toUser: 'ü'.repeat(8) } })).to.not.throw();
      bad({ send: { toUser: 'ü'.repeat(9) } }, /send\.to_user is longer than 16 bytes/);
      bad({ send: { toUser: 'bob\u007f' } }, /send\.to_user contains U\+007F \(a control character\)/);
      bad({ send: { toUser: 'bob\u0085' } }, /U\+0085/);
    });

    it('refuses format characters and separators in user ids, naming the code point', () => {
      bad({ send: { toUser: 'bob\u202Eevil' } }, /^send\.to_user contains U\+202E \(a format character\)$/);
      bad({ send: { toUser: '\u200Bbob' } }, /U\+200B \(a format character\)/);
      bad({ send: { toUser: 'bob\u00AD' } }, /U\+00AD/);
      bad({ send: { toUser: 'a\u2029b' } }, /U\+2029 \(a line or paragraph separator\)/);
      bad({ presenceQuery: { userIds: ['ok', 'x\uFEFF'] } }, /presence_query\.user_ids\[\] contains U\+FEFF/);
    });

    it('allows spaces and non-ASCII in user ids', () => {
      expect(() => check({ send: { toUser: 'Zoë Smith' } })).to.not.throw();
    });

    it('refuses a payload over maxPayloadBytes with PAYLOAD_TOO_LARGE (105)', () => {
      expect(() => check({ send: { toUser: 'b', payload: new Uint8Array(100) } })).to.not.throw();
      expectRequestError(
        { send: { toUser: 'b', payload: new Uint8Array(101) } },
        ReplyCode.PAYLOAD_TOO_LARGE,
        /send\.payload is 101 bytes; the limit is 100/,
      );
      expectRequestError(
        { publish: { topic: 't', payload: new Uint8Array(101) } },
        ReplyCode.PAYLOAD_TOO_LARGE,
        /publish\.payload/,
      );
    });

    it('accepts only QoS 0 and 1', () => {
      bad({ send: { toUser: 'b', qos: qosValue(2) } }, /send\.qos 2 is not 0 \(at most once\) or 1/);
      bad({ publish: { topic: 't', qos: qosValue(-1) } }, /publish\.qos -1/);
    });

    it('needs a client_msg_id with QoS 1, of at most 128 bytes, without control characters', () => {
      bad({ send: { toUser: 'b', qos: 1 } }, /send\.client_msg_id is required with qos 1/);
      bad({ publish: { topic: 't', qos: 1 } }, /publish\.client_msg_id is required with qos 1/);
      bad(
        { send: { toUser: 'b', qos: 1, clientMsgId: 'm'.repeat(129) } },
        /client_msg_id is longer than 128/,
      );
      bad({ send: { toUser: 'b', clientMsgId: 'm\t1' } }, /client_msg_id contains a control character/);
      expect(() => check({ send: { toUser: 'b', qos: 1, clientMsgId: 'm'.repeat(128) } })).to.not.throw();
      expect(() => check({ send: { toUser: 'b', clientMsgId: 'optional with qos 0' } })).to.not.throw();
    });

    it('refuses ephemeral together with QoS 1', () => {
      bad(
        { send: { toUser: 'b', qos: 1, clientMsgId: 'm', ephemeral: true } },
        /ephemeral cannot be combined/,
      );
      expect(() => check({ send: { toUser: 'b', ephemeral: true } })).to.not.throw();
    });
  });

  describe('topics (publish, subscribe, unsubscribe)', () => {
    for (const body of ['publish', 'subscribe', 'unsubscribe'] as const) {
      const field = `${body}.topic`.replace('.', '\\.');
      it(`${body}: non-empty, at most maxTopicLength bytes, no whitespace or control characters`, () => {
        bad({ [body]: {} }, new RegExp(`${field} is empty`));
        bad({ [body]: { topic: 't'.repeat(21) } }, new RegExp(`${field} is longer than 20 bytes`));
        bad({ [body]: { topic: 'room 1' } }, /whitespace or a control character \(U\+0020\)/);
        bad({ [body]: { topic: 'room\u00a01' } }, /U\+00A0/);
        bad({ [body]: { topic: 'room\u20281' } }, /U\+2028/);
        bad({ [body]: { topic: 'room\u00001' } }, /U\+0000/);
        expect(() => check({ [body]: { topic: 't'.repeat(20) } })).to.not.throw();
        expect(() => check({ [body]: { topic: 'chat/room-1.ünï:42' } })).to.not.throw();
      });
    }

    it('refuses a since_seq beyond 2^53 - 1', () => {
      bad({ subscribe: { topic: 't', sinceSeq: 2 ** 54 } }, /subscribe\.since_seq/);
    });
  });

  describe('ack, ping, pong', () => {
    it('accepts any safe ack seq, 0 included (a no-op), and refuses larger ones', () => {
      expect(() => check({ ack: {} })).to.not.throw();
      expect(() => check({ ack: { seq: 2 ** 53 - 1 } })).to.not.throw();
      bad({ ack: { seq: 2 ** 53 } }, /ack\.seq/);
    });

    it('accepts any ping or pong timestamp (echoed, never interpreted)', () => {
      expect(() => check({ ping: { timestampMs: -5 } })).to.not.throw();
      expect(() => check({ pong: { timestampMs: 2 ** 62 } })).to.not.throw();
    });
  });

  describe('presence query', () => {
    it('needs 1 to 100 distinct, valid user ids', () => {
      bad({ presenceQuery: {} }, /presence_query\.user_ids is empty/);
      const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `u${i}`);
      expect(() => check({ presenceQuery: { userIds: ids(100) } })).to.not.throw();
      bad({ presenceQuery: { userIds: ids(101) } }, /has 101 entries; the limit is 100/);
      bad({ presenceQuery: { userIds: ['a', ''] } }, /presence_query\.user_ids\[\] is empty/);
      bad({ presenceQuery: { userIds: ['a', 'b', 'a'] } }, /lists "a" twice/);
    });
  });

  describe('disconnect from the client', () => {
    it('accepts code 0 or 4000-4999 and a reason that fits a WebSocket close frame', () => {
      expect(() => check({ disconnect: {} })).to.not.throw();
      expect(() => check({ disconnect: { code: 4000, reason: 'r'.repeat(123) } })).to.not.throw();
      bad({ disconnect: { code: 1000 } }, /disconnect\.code 1000 is not 0 or in 4000-4999/);
      bad({ disconnect: { code: 5000 } }, /disconnect\.code 5000/);
      bad({ disconnect: { reason: 'r'.repeat(124) } }, /disconnect\.reason is longer than 123/);
    });
  });

  describe('properties', () => {
    const clientBodies = [...CLIENT_BODIES];
    const anyClientFrame = fc.oneof(
      ...clientBodies.map((name) => bodyArbitraries[name].map((body) => ({ [name]: body }) as FrameInit)),
    );

    it('an arbitrary client frame is accepted or refused with a RequestError, never anything else', () => {
      fc.assert(
        fc.property(anyClientFrame, (frame) => {
          try {
            check(frame);
          } catch (err) {
            expect(err).to.be.instanceOf(RequestError);
            expect([ReplyCode.BAD_REQUEST, ReplyCode.PAYLOAD_TOO_LARGE]).to.include(
              (err as RequestError).replyCode,
            );
          }
        }),
        { numRuns: 1000 },
      );
    });

    it('an arbitrary server-only frame always ends the connection with 4503', () => {
      const anyServerFrame = fc.oneof(
        ...SERVER_BODIES.map((name) => bodyArbitraries[name].map((body) => ({ [name]: body }) as FrameInit)),
      );
      fc.assert(
        fc.property(anyServerFrame, (frame) => {
          expectProtocolError(() => check(frame), DisconnectCode.PROTOCOL_VIOLATION);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('validationLimits', () => {
    it('derives the payload limit from the frame limit, leaving room for the Deliver envelope', () => {
      const limits = validationLimits(defaultConfig().limits);
      expect(limits).to.deep.equal({
        maxUserIdLength: 128,
        maxTopicLength: 256,
        maxPayloadBytes: 64 * 1024 - PAYLOAD_HEADROOM_BYTES,
      });
      expect(
        validationLimits({ maxFrameBytes: 10, maxTopicLength: 1, maxUserIdLength: 1 }).maxPayloadBytes,
      ).to.equal(0);
    });
  });
});
