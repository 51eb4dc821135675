/**
 * The MessageStore contract as a mocha suite, run against every implementation (the memory store
 * now, the Redis store), like Centrifugo's shared broker tests. The factory is handed the
 * limits each test needs and the suite's clock; it must return an empty store on every call.
 */
import { expect } from 'chai';
import type { Envelope } from '../../src/bus/bus.js';
import type { MessageStore, NewMessage } from '../../src/store/message-store.js';

/** What the suite asks of a new store. */
export interface StoreFactorySettings {
  maxMessagesPerLog: number;
  retentionMs: number;
  dedupWindowMs: number;
  maxBytes: number;
  /** The suite's clock (ms). Honour it if you can; otherwise declare `clock: false`. */
  now: () => number;
}

/** What an implementation supports; tests that need a missing capability are not registered. */
export interface StoreSuiteOptions {
  /** The factory honours `settings.now` (age retention and dedup-window tests). Default true. */
  clock?: boolean;
  /** The store enforces `maxBytes` across logs, oldest first. Default true. */
  byteCap?: boolean;
  /**
   * A new log's first seq is 1. Default true. The contract only asks for a positive first seq and one
   * more per append after it (the Redis store starts a log at its clock floor, docs/cluster.md); the
   * suite checks positions relative to each log's first seq.
   */
  firstSeqIsOne?: boolean;
}

const T0 = 1_700_000_000_000;
const DEFAULTS = { maxMessagesPerLog: 100, retentionMs: 3600_000, dedupWindowMs: 600_000, maxBytes: 1 << 20 };

let nextClientId = 0;

/** A QoS-1 user message from alice/phone to bob, with a fresh clientMsgId unless given. */
export function userMsg(over: Partial<NewMessage> = {}): NewMessage {
  return {
    fromUser: 'alice',
    fromDevice: 'phone',
    toUser: 'bob',
    topic: '',
    payload: new Uint8Array([1, 2, 3]),
    qos: 1,
    clientMsgId: `c${++nextClientId}`,
    ephemeral: false,
    fromService: '',
    ...over,
  };
}

/** A QoS-1 publication by alice/phone to topic `room`. */
export function topicMsg(topic: string, over: Partial<NewMessage> = {}): NewMessage {
  return userMsg({ toUser: '', topic, ...over });
}

const seqs = (envs: Envelope[]): number[] => envs.map((e) => e.seq);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** `ns` shifted so that position 1 is `first`. */
const at = (first: number, ...ns: number[]): number[] => ns.map((n) => first + n - 1);

/** Registers the MessageStore conformance suite for one implementation. */
export function describeMessageStore(
  name: string,
  factory: (settings: StoreFactorySettings) => Promise<MessageStore>,
  opts: StoreSuiteOptions = {},
): void {
  const clock = opts.clock ?? true;
  const byteCap = opts.byteCap ?? true;
  const firstSeqIsOne = opts.firstSeqIsOne ?? true;
  /** Checks a new log's first seq and returns it: the base of the log's later positions. */
  const firstSeq = (seq: number): number => {
    if (firstSeqIsOne) expect(seq, 'first seq of a new log').to.equal(1);
    else expect(Number.isSafeInteger(seq) && seq >= 1, `first seq ${seq}`).to.equal(true);
    return seq;
  };

  describe(`MessageStore conformance: ${name}`, () => {
    let now = T0;
    let open: MessageStore[] = [];
    const make = async (over: Partial<typeof DEFAULTS> = {}): Promise<MessageStore> => {
      const store = await factory({ ...DEFAULTS, ...over, now: () => now });
      open.push(store);
      return store;
    };

    beforeEach(() => {
      now = T0;
    });
    afterEach(async () => {
      await Promise.all(open.map((s) => s.close()));
      open = [];
    });

    describe('user logs', () => {
      it('numbers each recipient log one by one from its first seq, independently of the others', async () => {
        const store = await make();
        const got: Array<[string, number]> = [];
        for (const to of ['bob', 'carol', 'bob', 'bob', 'carol']) {
          got.push([to, (await store.appendToUser(userMsg({ toUser: to }))).seq]);
        }
        const [b, c] = [firstSeq(got[0]![1]), firstSeq(got[1]![1])];
        expect(got).to.deep.equal([['bob', b], ['carol', c], ['bob', b + 1], ['bob', b + 2], ['carol', c + 1]]); // prettier-ignore
        expect(await store.lastUserSeq('bob')).to.equal(b + 2);
        expect(await store.lastUserSeq('carol')).to.equal(c + 1);
        expect(await store.lastUserSeq('nobody')).to.equal(0);
      });

      it('assigns unique serverIds and reports fresh appends as not duplicate', async () => {
        const store = await make();
        const results = [];
        for (let i = 0; i < 50; i++) results.push(await store.appendToUser(userMsg({ toUser: `u${i % 3}` })));
        expect(new Set(results.map((r) => r.serverId)).size).to.equal(50);
        expect(results.every((r) => r.duplicate === false && r.serverId.length > 0)).to.equal(true);
      });

      it('reads back exactly what was stored, with the ids the append returned', async () => {
        const store = await make();
        const m = userMsg({ payload: new Uint8Array([0, 255, 7]), fromDevice: 'tablet', ephemeral: false });
        const r = await store.appendToUser(m);
        const [env, ...rest] = await store.readUser('bob', 0, 10);
        expect(rest).to.deep.equal([]);
        expect({ ...env, payload: [...env!.payload] }).to.deep.equal({
          ...m,
          payload: [0, 255, 7],
          serverId: r.serverId,
          seq: firstSeq(r.seq),
          timestampMs: r.timestampMs,
        });
        if (clock) expect(r.timestampMs).to.equal(T0);
      });

      it('keeps fromService of a server-originated message, and "" for a client one', async () => {
        const store = await make();
        await store.appendToUser(userMsg({ fromUser: 'system', fromDevice: 'crm', fromService: 'crm' }));
        await store.appendToUser(userMsg({ fromUser: 'system', fromDevice: 'crm' }));
        await store.appendToTopic(topicMsg('news', { fromService: 'billing' }));
        expect((await store.readUser('bob', 0, 10)).map((e) => e.fromService)).to.deep.equal(['crm', '']);
        expect((await store.readTopic('news', 0, 10)).map((e) => e.fromService)).to.deep.equal(['billing']);
      });

      it('reads seq > afterSeq, oldest first, at most limit', async () => {
        const store = await make();
        const f = firstSeq((await store.appendToUser(userMsg())).seq);
        for (let i = 1; i < 10; i++) await store.appendToUser(userMsg());
        const [p4, p8, p10, p50] = at(f, 4, 8, 10, 50);
        expect(seqs(await store.readUser('bob', 0, 100))).to.deep.equal(at(f, ...range(1, 10)));
        expect(seqs(await store.readUser('bob', p4!, 3))).to.deep.equal(at(f, 5, 6, 7));
        expect(seqs(await store.readUser('bob', p8!, 100))).to.deep.equal(at(f, 9, 10));
        expect(seqs(await store.readUser('bob', p10!, 100))).to.deep.equal([]);
        expect(seqs(await store.readUser('bob', p50!, 100))).to.deep.equal([]);
        expect(seqs(await store.readUser('bob', 0, 0))).to.deep.equal([]);
        expect(await store.readUser('nobody', 0, 10)).to.deep.equal([]);
      });
    });

    describe('dedup', () => {
      it('stores a repeated (sender, clientMsgId) once and returns the first result', async () => {
        const store = await make();
        const first = await store.appendToUser(userMsg({ clientMsgId: 'x1' }));
        const again = await store.appendToUser(userMsg({ clientMsgId: 'x1', payload: new Uint8Array([9]) }));
        expect(again).to.deep.equal({ ...first, duplicate: true });
        expect(await store.lastUserSeq('bob')).to.equal(firstSeq(first.seq));
        expect((await store.readUser('bob', 0, 10)).map((e) => [...e.payload])).to.deep.equal([[1, 2, 3]]);
      });

      it('keys on the sender: the same clientMsgId from two senders is two messages', async () => {
        const store = await make();
        const a = await store.appendToUser(userMsg({ fromUser: 'alice', clientMsgId: 'same' }));
        const b = await store.appendToUser(userMsg({ fromUser: 'dave', clientMsgId: 'same' }));
        expect([a.duplicate, b.duplicate, b.seq]).to.deep.equal([false, false, firstSeq(a.seq) + 1]);
        expect(a.serverId).to.not.equal(b.serverId);
      });

      it('keys server messages on their service too: a client named like the sender cannot claim the id', async () => {
        const store = await make();
        const squat = await store.appendToUser(userMsg({ fromUser: 'bot', clientMsgId: 'p1@bob' }));
        const push = await store.appendToUser(
          userMsg({ fromUser: 'bot', fromService: 'crm', clientMsgId: 'p1@bob' }),
        );
        expect(push.duplicate).to.equal(false);
        expect(push.seq).to.equal(squat.seq + 1);
        const retry = await store.appendToUser(
          userMsg({ fromUser: 'bot', fromService: 'crm', clientMsgId: 'p1@bob' }),
        );
        expect(retry).to.include({ duplicate: true, seq: push.seq });
      });

      it('keeps user and topic dedup apart', async () => {
        const store = await make();
        const u = await store.appendToUser(userMsg({ clientMsgId: 'both' }));
        const t = await store.appendToTopic(topicMsg('room', { clientMsgId: 'both' }));
        expect([u.duplicate, t.duplicate]).to.deep.equal([false, false]);
        expect(await store.lastTopicSeq('room')).to.equal(firstSeq(t.seq));
        const t2 = await store.appendToTopic(topicMsg('room', { clientMsgId: 'both' }));
        expect(t2).to.deep.equal({ ...t, duplicate: true });
      });

      if (clock) {
        it('remembers an id for the window, then treats it as new', async () => {
          const store = await make({ dedupWindowMs: 10_000 });
          const first = await store.appendToUser(userMsg({ clientMsgId: 'w' }));
          now += 9_000;
          expect((await store.appendToUser(userMsg({ clientMsgId: 'w' }))).duplicate).to.equal(true);
          now += 2_000;
          const later = await store.appendToUser(userMsg({ clientMsgId: 'w' }));
          expect(later.duplicate).to.equal(false);
          expect(later.seq).to.equal(first.seq + 1);
          expect(later.serverId).to.not.equal(first.serverId);
        });
      }
    });

    describe('device cursors', () => {
      it('start at 0 and only move forward, per device', async () => {
        const store = await make();
        const f = firstSeq((await store.appendToUser(userMsg())).seq);
        for (let i = 1; i < 5; i++) await store.appendToUser(userMsg());
        const [p1, p2, p3] = at(f, 1, 2, 3) as [number, number, number];
        expect(await store.userCursor('bob', 'phone')).to.equal(0);
        await store.ackUser('bob', 'phone', p3);
        expect(await store.userCursor('bob', 'phone')).to.equal(p3);
        await store.ackUser('bob', 'phone', p2);
        expect(await store.userCursor('bob', 'phone')).to.equal(p3);
        await store.ackUser('bob', 'laptop', p1);
        expect(await store.userCursor('bob', 'laptop')).to.equal(p1);
        expect(await store.userCursor('bob', 'phone')).to.equal(p3);
      });

      it('clamp an ack beyond the last seq to it', async () => {
        const store = await make();
        const f = firstSeq((await store.appendToUser(userMsg())).seq);
        for (let i = 1; i < 4; i++) await store.appendToUser(userMsg());
        await store.ackUser('bob', 'phone', f + 1000);
        expect(await store.userCursor('bob', 'phone')).to.equal(f + 3);
        await store.ackUser('nobody', 'phone', 7);
        expect(await store.userCursor('nobody', 'phone')).to.equal(0);
        // Later messages are not acked by the clamped ack.
        await store.appendToUser(userMsg());
        expect(await store.userCursor('bob', 'phone')).to.equal(f + 3);
      });
    });

    describe('topic logs', () => {
      it('number each topic on its own, apart from user logs of the same name', async () => {
        const store = await make();
        const u = firstSeq((await store.appendToUser(userMsg({ toUser: 'lobby' }))).seq);
        const got = [];
        for (const t of ['lobby', 'lobby', 'news', 'lobby'])
          got.push((await store.appendToTopic(topicMsg(t))).seq);
        const [l, n] = [firstSeq(got[0]!), firstSeq(got[2]!)];
        expect(got).to.deep.equal([l, l + 1, n, l + 2]);
        expect(await store.lastTopicSeq('lobby')).to.equal(l + 2);
        expect(await store.lastTopicSeq('none')).to.equal(0);
        expect(await store.lastUserSeq('lobby')).to.equal(u);
        const read = await store.readTopic('lobby', l, 10);
        expect(seqs(read)).to.deep.equal([l + 1, l + 2]);
        expect(read.every((e) => e.topic === 'lobby' && e.toUser === '')).to.equal(true);
        expect(await store.readTopic('none', 0, 10)).to.deep.equal([]);
      });
    });

    describe('retention', () => {
      it('keeps the newest maxMessagesPerLog per log and never reuses a seq', async () => {
        const store = await make({ maxMessagesPerLog: 5 });
        const b = firstSeq((await store.appendToUser(userMsg())).seq);
        for (let i = 1; i < 12; i++) await store.appendToUser(userMsg());
        const c = firstSeq((await store.appendToUser(userMsg({ toUser: 'carol' }))).seq);
        for (let i = 1; i < 3; i++) await store.appendToUser(userMsg({ toUser: 'carol' }));
        const t = firstSeq((await store.appendToTopic(topicMsg('room'))).seq);
        for (let i = 1; i < 7; i++) await store.appendToTopic(topicMsg('room'));
        expect(seqs(await store.readUser('bob', 0, 100))).to.deep.equal(at(b, ...range(8, 12)));
        expect(seqs(await store.readUser('bob', b + 8, 100))).to.deep.equal(at(b, 10, 11, 12));
        expect(seqs(await store.readUser('bob', 0, 2))).to.deep.equal(at(b, 8, 9));
        expect(seqs(await store.readUser('carol', 0, 100))).to.deep.equal(at(c, 1, 2, 3));
        expect(seqs(await store.readTopic('room', 0, 100))).to.deep.equal(at(t, ...range(3, 7)));
        expect((await store.appendToUser(userMsg())).seq).to.equal(b + 12);
      });

      if (clock) {
        it('drops entries older than retentionMs; seqs continue', async () => {
          const store = await make({ retentionMs: 60_000 });
          const b = firstSeq((await store.appendToUser(userMsg())).seq);
          for (let i = 1; i < 3; i++) await store.appendToUser(userMsg());
          now += 30_000;
          for (let i = 0; i < 2; i++) await store.appendToUser(userMsg());
          const t = firstSeq((await store.appendToTopic(topicMsg('room'))).seq);
          now += 31_000;
          expect(seqs(await store.readUser('bob', 0, 100))).to.deep.equal(at(b, 4, 5));
          expect(seqs(await store.readTopic('room', 0, 100))).to.deep.equal([t]);
          now += 60_000;
          expect(await store.readUser('bob', 0, 100)).to.deep.equal([]);
          expect(await store.readTopic('room', 0, 100)).to.deep.equal([]);
          expect(await store.lastUserSeq('bob')).to.equal(b + 4);
          expect((await store.appendToUser(userMsg())).seq).to.equal(b + 5);
          expect((await store.appendToTopic(topicMsg('room'))).seq).to.equal(t + 1);
        });
      }

      if (byteCap) {
        it('keeps total bytes under maxBytes by dropping the oldest messages across logs', async () => {
          const maxBytes = 20_000;
          const store = await make({ maxBytes });
          const order: Array<[string, number]> = []; // global append order: [log, seq]
          const logs = ['u:bob', 'u:carol', 't:room', 'u:dave'];
          for (let i = 0; i < 60; i++) {
            const log = logs[i % logs.length]!;
            const [kind, key] = log.split(':') as [string, string];
            const payload = new Uint8Array(1000).fill(i);
            const r =
              kind === 'u'
                ? await store.appendToUser(userMsg({ toUser: key, payload }))
                : await store.appendToTopic(topicMsg(key, { payload }));
            order.push([log, r.seq]);
          }
          const kept: Array<[string, number]> = [];
          for (const log of logs) {
            const [kind, key] = log.split(':') as [string, string];
            const envs =
              kind === 'u' ? await store.readUser(key, 0, 100) : await store.readTopic(key, 0, 100);
            for (const e of envs) kept.push([log, e.seq]);
          }
          // Survivors are exactly the newest appends, whatever per-entry overhead an implementation counts.
          expect(kept.length).to.be.within(1, 20);
          const newest = order.slice(order.length - kept.length);
          const key = (x: [string, number]) => `${x[0]}#${x[1]}`;
          expect(kept.map(key).sort()).to.deep.equal(newest.map(key).sort());
          expect(store.stats().bytes).to.be.at.most(maxBytes);
          // bob had 15 appends (every fourth): the next is one more, whatever retention dropped.
          expect((await store.appendToUser(userMsg({ toUser: 'bob' }))).seq).to.equal(order[0]![1] + 15);
        });
      }
    });

    it('reports sizes through stats()', async () => {
      const store = await make();
      await store.appendToUser(userMsg());
      await store.appendToTopic(topicMsg('room'));
      const s = store.stats();
      for (const k of ['users', 'topics', 'messages', 'bytes'] as const) {
        expect(s[k], k).to.be.a('number').and.to.be.at.least(0);
      }
    });
  });
}
