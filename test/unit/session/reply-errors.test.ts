import { expect } from 'chai';
import type { Bus } from '../../../src/bus/bus.js';
import type { MemoryBus } from '../../../src/bus/memory.js';
import type { Presence } from '../../../src/bus/presence.js';
import {
  BusUnavailableError,
  PresenceUnavailableError,
  ReplyCode,
  RequestError,
  StoreError,
} from '../../../src/errors.js';
import { toReplyError, UNAVAILABLE_TEXT } from '../../../src/session/reply-errors.js';
import type { MessageStore } from '../../../src/store/message-store.js';
import { SessionHarness, bytes, settle } from '../../helpers/session-harness.js';

/** Wraps `real`, replacing one method while `failing()` says so. */
function failingMethod<T extends object>(real: T, method: string, failing: () => boolean, err: Error): T {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === method && failing()) return () => Promise.reject(err);
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('session: lower-layer errors are mapped at the edge (reply-errors.ts)', () => {
  describe('toReplyError', () => {
    it('passes a RequestError through unchanged', () => {
      const e = new RequestError(ReplyCode.BUSY, 'slow down', { retryable: true, retryAfterMs: 50 });
      expect(toReplyError(e)).to.equal(e);
    });

    it('maps store, bus and presence errors to 107 with the documented text, never their own', () => {
      const cases: [Error, string][] = [
        [
          new StoreError('redis message store unavailable: ECONNREFUSED 127.0.0.1:6379'),
          UNAVAILABLE_TEXT.store,
        ],
        [new BusUnavailableError('redis bus: the recipient node has no inbox'), UNAVAILABLE_TEXT.bus],
        [new PresenceUnavailableError('redis presence: reading presence failed'), UNAVAILABLE_TEXT.presence],
      ];
      for (const [err, text] of cases) {
        const r = toReplyError(err);
        expect(r, err.message).to.be.instanceOf(RequestError);
        expect(r).to.deep.include({ replyCode: ReplyCode.UNAVAILABLE, message: text, retryable: true });
        expect(r?.retryAfterMs).to.equal(1000);
      }
    });

    it('leaves anything else to the caller (100 INTERNAL)', () => {
      expect(toReplyError(new Error('boom'))).to.equal(undefined);
      expect(toReplyError('boom')).to.equal(undefined);
    });
  });

  describe('what a client sees', () => {
    let h: SessionHarness;
    afterEach(async () => {
      await h.close();
    });

    it('a QoS-0 Send whose forward fails is still acked (at most once) and the loss counted', async () => {
      let failing = false;
      const noInbox = new BusUnavailableError('redis bus: the recipient node has no inbox');
      h = await SessionHarness.create({
        bus: (real: MemoryBus): Bus => failingMethod<Bus>(real, 'publishToUser', () => failing, noInbox),
      });
      const alice = await h.login('alice');
      failing = true;
      alice.send({ id: 5, send: { toUser: 'bob', payload: bytes('hi'), qos: 0 } });
      await settle();
      const [answer] = alice.take();
      expect(answer?.id).to.equal(5);
      expect(answer?.sendAck).to.deep.include({ seq: 0, duplicate: false });
      expect(await h.metric('ferry_messages_dropped_total', { reason: 'forward_failed' })).to.equal(1);
      expect(alice.closed).to.equal(null);
    });

    it('a store failure is Error 107 "message store unavailable"', async () => {
      let failing = false;
      const down = new StoreError('redis message store unavailable: connection lost');
      h = await SessionHarness.create({
        store: (real): MessageStore => failingMethod<MessageStore>(real, 'appendToUser', () => failing, down),
      });
      const alice = await h.login('alice');
      failing = true;
      alice.send({ id: 6, send: { toUser: 'bob', payload: bytes('hi'), qos: 1, clientMsgId: 'm6' } });
      await settle();
      const [answer] = alice.take();
      expect(answer?.error).to.deep.include({
        code: ReplyCode.UNAVAILABLE,
        message: 'message store unavailable',
      });
    });

    it('a presence failure is Error 107 "presence unavailable"', async () => {
      let failing = false;
      const down = new PresenceUnavailableError('redis presence: reading presence failed');
      h = await SessionHarness.create({
        presence: (real): Presence => failingMethod<Presence>(real, 'query', () => failing, down),
      });
      const alice = await h.login('alice');
      failing = true;
      alice.send({ id: 7, presenceQuery: { userIds: ['bob'] } });
      await settle();
      const [answer] = alice.take();
      expect(answer?.error).to.deep.include({ code: ReplyCode.UNAVAILABLE, message: 'presence unavailable' });
    });
  });
});
