import { expect } from 'chai';
import fc from 'fast-check';
import type { ControlMessage, Envelope } from '../../../src/bus/bus.js';
import {
  decodeBatch,
  encodeItem,
  EnvelopeDecodeError,
  ITEM_CONTROL,
  ITEM_TOPIC,
  ITEM_USER,
} from '../../../src/cluster/envelope-codec.js';

const envArb: fc.Arbitrary<Envelope> = fc.record({
  serverId: fc.string({ maxLength: 40 }),
  seq: fc.maxSafeNat(),
  fromUser: fc.string({ maxLength: 40 }),
  fromDevice: fc.string({ maxLength: 20 }),
  toUser: fc.string({ maxLength: 40 }),
  topic: fc.string({ maxLength: 40 }),
  payload: fc.uint8Array({ maxLength: 300 }),
  timestampMs: fc.integer({ min: 0, max: 2 ** 45 }),
  qos: fc.constantFrom(0 as const, 1 as const),
  clientMsgId: fc.string({ maxLength: 40 }),
  ephemeral: fc.boolean(),
  // Mostly '' (the version-1 layout), sometimes set (version 2).
  fromService: fc.oneof(fc.constant(''), fc.string({ maxLength: 20 })),
});

const controlArb: fc.Arbitrary<ControlMessage> = fc.oneof(
  fc.record({
    type: fc.constant('kick' as const),
    userId: fc.string(),
    code: fc.integer({ min: 4000, max: 4999 }),
    reason: fc.string(),
  }),
  fc.record({
    type: fc.constant('replace' as const),
    userId: fc.string(),
    deviceId: fc.string(),
    keepSessionId: fc.string(),
  }),
);

const plain = (e: Envelope) => ({ ...e, payload: [...e.payload] });

describe('cluster envelope codec', () => {
  it('round-trips batches of user, topic and control items in order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            envArb.map((e) => [ITEM_USER, e] as const),
            envArb.map((e) => [ITEM_TOPIC, e] as const),
            controlArb.map((m) => [ITEM_CONTROL, m] as const),
          ),
          { maxLength: 8 },
        ),
        (items) => {
          const batch = Buffer.concat(items.map(([k, v]) => encodeItem(k, v)));
          const back = decodeBatch(batch);
          expect(back.map((b) => b.kind)).to.deep.equal(items.map(([k]) => k));
          back.forEach((b, i) => {
            const v = items[i]![1];
            if (b.kind === ITEM_CONTROL) expect(b.msg).to.deep.equal(v);
            else expect(plain(b.env)).to.deep.equal(plain(v as Envelope));
          });
        },
      ),
    );
  });

  it('never throws anything but EnvelopeDecodeError on arbitrary or truncated bytes', () => {
    const check = (bytes: Uint8Array): void => {
      try {
        decodeBatch(Buffer.from(bytes));
      } catch (err) {
        expect(err).to.be.instanceOf(EnvelopeDecodeError);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 2000 });
    fc.assert(
      fc.property(envArb, fc.nat(), (env, cut) => {
        const full = encodeItem(ITEM_USER, env);
        check(full.subarray(0, cut % full.length));
      }),
    );
  });

  it('refuses unknown kinds, versions and control messages with a clear error', () => {
    expect(() => decodeBatch(Buffer.from([9, 0, 0, 0, 0]))).to.throw(
      EnvelopeDecodeError,
      /unknown item kind 9/,
    );
    const env = encodeItem(ITEM_USER, {
      serverId: 's',
      seq: 1,
      fromUser: 'a',
      fromDevice: 'd',
      toUser: 'b',
      topic: '',
      payload: new Uint8Array([1]),
      timestampMs: 1,
      qos: 1,
      clientMsgId: '',
      ephemeral: false,
      fromService: '',
    });
    env[5] = 7;
    expect(() => decodeBatch(env)).to.throw(EnvelopeDecodeError, /version 7/);
    const ctl = Buffer.from('{"type":"nuke"}');
    const item = Buffer.concat([Buffer.from([ITEM_CONTROL, 0, 0, 0, ctl.length]), ctl]);
    expect(() => decodeBatch(item)).to.throw(EnvelopeDecodeError, /unknown control/);
  });

  it('copies payloads out of the entry buffer', () => {
    const buf = encodeItem(ITEM_USER, {
      serverId: 's',
      seq: 0,
      fromUser: 'a',
      fromDevice: 'd',
      toUser: 'b',
      topic: '',
      payload: new Uint8Array([5, 6]),
      timestampMs: 1,
      qos: 0,
      clientMsgId: '',
      ephemeral: true,
      fromService: '',
    });
    const item = decodeBatch(buf)[0]!;
    buf.fill(0);
    expect(item.kind === ITEM_USER && [...item.env.payload]).to.deep.equal([5, 6]);
  });
});
