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

  it('writes the version-1 layout byte for byte without fromService (old nodes read it), version 2 with it', () => {
    // The layout nodes before fromService wrote and read, built by hand from the file comment.
    const str16 = (s: string): Buffer => {
      const b = Buffer.from(s);
      return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
    };
    const v1 = (e: Envelope, version = 1, extra: string[] = []): Buffer => {
      const head = Buffer.alloc(18);
      head[0] = version;
      head[1] = (e.qos === 1 ? 1 : 0) | (e.ephemeral ? 2 : 0);
      head.writeDoubleBE(e.seq, 2);
      head.writeDoubleBE(e.timestampMs, 10);
      const strs = [e.serverId, e.fromUser, e.fromDevice, e.toUser, e.topic, e.clientMsgId, ...extra];
      const len = Buffer.alloc(4);
      len.writeUInt32BE(e.payload.length);
      const body = Buffer.concat([head, ...strs.map(str16), len, Buffer.from(e.payload)]);
      const item = Buffer.alloc(5);
      item[0] = ITEM_USER;
      item.writeUInt32BE(body.length, 1);
      return Buffer.concat([item, body]);
    };
    const env: Envelope = {
      serverId: 'n1-x',
      seq: 7,
      fromUser: 'system',
      fromDevice: 'crm',
      toUser: 'bob',
      topic: '',
      payload: new Uint8Array([1, 2]),
      timestampMs: 1_700_000_000_000,
      qos: 1,
      clientMsgId: 'm@bob',
      ephemeral: false,
      fromService: '',
    };
    expect(encodeItem(ITEM_USER, env).toString('hex')).to.equal(v1(env).toString('hex'));
    const pushed = { ...env, fromService: 'crm' };
    expect(encodeItem(ITEM_USER, pushed).toString('hex')).to.equal(v1(env, 2, ['crm']).toString('hex'));
    // A new node reads what old nodes wrote, and both versions in one batch.
    const both = decodeBatch(Buffer.concat([v1(env), encodeItem(ITEM_USER, pushed)]));
    expect(both.map((i) => (i.kind === ITEM_USER ? i.env.fromService : null))).to.deep.equal(['', 'crm']);
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
