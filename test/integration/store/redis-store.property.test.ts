/**
 * Model-based property test for the shared Redis store: two instances ("nodes") on one real Redis
 * take random interleavings of appends (some racing each other), acks, reads and clock ticks, and
 * every answer is compared with a model made of plain arrays and maps. Racing appends may land in
 * either order; the model accepts whichever of the two orders explains both results.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { AppendResult } from '../../../src/store/message-store.js';
import { RedisMessageStore } from '../../../src/store/redis/redis-store.js';
import { topicMsg, userMsg } from '../../conformance/describe-store.js';
import { useRedis } from './store-fixture.js';

const CAP = 4;
const RETENTION = 100_000;
const WINDOW = 50_000;

type Kind = 'u' | 't';
interface Append {
  kind: Kind;
  to: string;
  from: string;
  id: string;
  byte: number;
}
type Op =
  | ({ op: 'append'; node: 0 | 1 } & Append)
  | { op: 'race'; a: Append; b: Append }
  | { op: 'ack'; node: 0 | 1; to: string; device: string; seq: number }
  | { op: 'read'; node: 0 | 1; kind: Kind; to: string; after: number; limit: number }
  | { op: 'tick'; ms: number };

const node = fc.constantFrom<0 | 1>(0, 1);
const name = fc.constantFrom('a', 'b');
const appendArb: fc.Arbitrary<Append> = fc.record({
  kind: fc.constantFrom<Kind>('u', 'u', 't'),
  to: name,
  from: fc.constantFrom('x', 'y'),
  id: fc.constantFrom('', '1', '2', '3'),
  byte: fc.integer({ min: 0, max: 255 }),
});
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('append' as const), node }).chain((o) => appendArb.map((a) => ({ ...o, ...a }))) }, // prettier-ignore
  { weight: 2, arbitrary: fc.record({ op: fc.constant('race' as const), a: appendArb, b: appendArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('ack' as const),
      node,
      to: name,
      device: fc.constantFrom('d1', 'd2'),
      seq: fc.integer({ min: -1, max: 20 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('read' as const),
      node,
      kind: fc.constantFrom<Kind>('u', 't'),
      to: name,
      after: fc.integer({ min: 0, max: 20 }),
      limit: fc.integer({ min: 0, max: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  },
);

interface Entry {
  seq: number;
  ts: number;
  serverId: string;
  from: string;
  id: string;
  byte: number;
}
/**
 * A log of the model. `base` is its first seq minus one: the store may start a new log anywhere
 * (the Redis store starts at its clock floor), so the operations name positions (1 = the first
 * message) and the model turns them into seqs.
 */
interface ModelLog {
  base: number;
  last: number;
  entries: Entry[];
}
interface ModelState {
  logs: Map<string, ModelLog>;
  /** Per log, as the Redis store dedups: `${kind}:${to}:${from}:${id}`. */
  dedup: Map<string, { serverId: string; seq: number; ts: number }>;
  cursors: Map<string, number>;
}

const emptyModel = (): ModelState => ({ logs: new Map(), dedup: new Map(), cursors: new Map() });

function log(m: ModelState, kind: Kind, to: string): ModelLog {
  let l = m.logs.get(`${kind}:${to}`);
  if (!l) m.logs.set(`${kind}:${to}`, (l = { base: 0, last: 0, entries: [] }));
  return l;
}

/** The seq at position `p` of a log (positions <= 0 pass through: they are below every seq). */
function seqAt(m: ModelState, kind: Kind, to: string, p: number): number {
  return p <= 0 ? p : (m.logs.get(`${kind}:${to}`)?.base ?? 0) + p;
}

function visible(m: ModelState, kind: Kind, to: string, now: number): Entry[] {
  return (m.logs.get(`${kind}:${to}`)?.entries ?? []).filter((e) => now - e.ts < RETENTION);
}

/**
 * Applies an append to the model if `r` is what a correct store could have answered; returns false
 * (model unchanged) otherwise. New serverIds are taken from `r`: the model cannot predict them.
 */
function applyAppend(m: ModelState, a: Append, r: AppendResult, now: number): boolean {
  const key = `${a.kind}:${a.to}:${a.from}:${a.id}`;
  const first = m.dedup.get(key);
  if (a.id !== '' && first !== undefined && now - first.ts < WINDOW) {
    return r.duplicate && r.serverId === first.serverId && r.seq === first.seq && r.timestampMs === first.ts;
  }
  const l = log(m, a.kind, a.to);
  // A new log starts at any positive seq; after that, one more per append.
  if (l.last === 0 && !r.duplicate && Number.isSafeInteger(r.seq) && r.seq >= 1) l.base = l.last = r.seq - 1;
  if (r.duplicate || r.seq !== l.last + 1 || r.timestampMs !== now) return false;
  l.last = r.seq;
  l.entries.push({ seq: r.seq, ts: now, serverId: r.serverId, from: a.from, id: a.id, byte: a.byte });
  if (l.entries.length > CAP) l.entries.shift();
  if (a.id !== '') m.dedup.set(key, { serverId: r.serverId, seq: r.seq, ts: now });
  return true;
}

function clone(m: ModelState): ModelState {
  return {
    logs: new Map([...m.logs].map(([k, l]) => [k, { base: l.base, last: l.last, entries: [...l.entries] }])),
    dedup: new Map(m.dedup),
    cursors: new Map(m.cursors),
  };
}

describe('RedisMessageStore: two nodes on one Redis match a model (fast-check)', function () {
  this.timeout(120_000);
  const fx = useRedis();
  let run = 0;

  it('agrees on seqs, dedup, reads and cursors for any interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), async (ops) => {
        const clock = { now: 1_700_000_000_000 };
        const opts = {
          client: fx.client,
          keyPrefix: `prop-${process.pid}-${run++}`,
          maxMessagesPerLog: CAP,
          retentionMs: RETENTION,
          dedupWindowMs: WINDOW,
          maxBytes: 1 << 20,
          now: () => clock.now,
        };
        const nodes = [
          new RedisMessageStore({ ...opts, nodeId: 'n0' }),
          new RedisMessageStore({ ...opts, nodeId: 'n1' }),
        ] as const;
        let model = emptyModel();
        const append = (n: 0 | 1, a: Append) => {
          const over = { fromUser: a.from, clientMsgId: a.id, payload: new Uint8Array([a.byte, n]) };
          const s = nodes[n];
          return a.kind === 'u'
            ? s.appendToUser(userMsg({ ...over, toUser: a.to }))
            : s.appendToTopic(topicMsg(a.to, over));
        };
        for (const o of ops) {
          const now = clock.now;
          switch (o.op) {
            case 'append': {
              const r = await append(o.node, o);
              expect(applyAppend(model, o, r, now), `append ${JSON.stringify([o, r])}`).to.equal(true);
              break;
            }
            case 'race': {
              const [ra, rb] = await Promise.all([append(0, o.a), append(1, o.b)]);
              const ab = clone(model);
              const ba = clone(model);
              if (applyAppend(ab, o.a, ra, now) && applyAppend(ab, o.b, rb, now)) model = ab;
              else if (applyAppend(ba, o.b, rb, now) && applyAppend(ba, o.a, ra, now)) model = ba;
              else expect.fail(`no order explains ${JSON.stringify([o, ra, rb])}`);
              break;
            }
            case 'ack': {
              const seq = seqAt(model, 'u', o.to, o.seq);
              await nodes[o.node].ackUser(o.to, o.device, seq);
              const k = `${o.to}:${o.device}`;
              const last = model.logs.get(`u:${o.to}`)?.last ?? 0;
              model.cursors.set(k, Math.max(model.cursors.get(k) ?? 0, Math.min(seq, last)));
              // Read back through the other node: cursors are shared.
              expect(await nodes[1 - o.node]!.userCursor(o.to, o.device)).to.equal(model.cursors.get(k));
              break;
            }
            case 'read': {
              const s = nodes[o.node];
              const after = seqAt(model, o.kind, o.to, o.after);
              const got =
                o.kind === 'u'
                  ? await s.readUser(o.to, after, o.limit)
                  : await s.readTopic(o.to, after, o.limit);
              const want = visible(model, o.kind, o.to, now)
                .filter((e) => e.seq > after)
                .slice(0, o.limit);
              expect(
                got.map((e) => [e.seq, e.serverId, e.fromUser, e.clientMsgId, e.payload[0], e.timestampMs]),
              ).to.deep.equal(want.map((e) => [e.seq, e.serverId, e.from, e.id, e.byte, e.ts]));
              const last = model.logs.get(`${o.kind}:${o.to}`)?.last ?? 0;
              const seqOf = o.kind === 'u' ? s.lastUserSeq(o.to) : s.lastTopicSeq(o.to);
              expect(await seqOf).to.equal(last);
              break;
            }
            case 'tick':
              clock.now += o.ms;
              break;
          }
        }
        await Promise.all(nodes.map((s) => s.close()));
      }),
      { numRuns: 40 },
    );
  });
});
