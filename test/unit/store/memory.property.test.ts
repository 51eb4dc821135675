/**
 * Model-based property test: random appends, acks, reads, clock ticks and snapshot restarts against
 * the memory store, compared step by step with a model made of plain arrays and maps.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope } from '../../../src/bus/bus.js';
import {
  MemoryMessageStore,
  storedBytes,
  type MemoryMessageStoreOptions,
} from '../../../src/store/memory.js';
import { topicMsg, userMsg } from '../../conformance/describe-store.js';

const CAP = 4;
const RETENTION = 100_000;
const WINDOW = 50_000;

type Kind = 'u' | 't';
type Op =
  | { op: 'append'; kind: Kind; to: string; from: string; id: string; byte: number; len: number }
  | { op: 'ack'; to: string; device: string; seq: number }
  | { op: 'read'; kind: Kind; to: string; after: number; limit: number }
  | { op: 'tick'; ms: number }
  | { op: 'restart' };

const name = fc.constantFrom('a', 'b', 'c');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      kind: fc.constantFrom<Kind>('u', 'u', 't'),
      to: name,
      from: fc.constantFrom('x', 'y'),
      id: fc.constantFrom('', '1', '2', '3', '4', '5'),
      byte: fc.integer({ min: 0, max: 255 }),
      // Mixed sizes, so one large append can push out several small ones under the byte cap.
      len: fc.constantFrom(1, 1, 50, 400),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('ack' as const),
      to: name,
      device: fc.constantFrom('d1', 'd2'),
      seq: fc.integer({ min: -1, max: 30 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('read' as const),
      kind: fc.constantFrom<Kind>('u', 't'),
      to: name,
      after: fc.integer({ min: 0, max: 30 }),
      limit: fc.integer({ min: 0, max: 6 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'restart' as const }) },
);

/** The model: what a correct store holds, with no cleverness at all. */
interface ModelEntry {
  seq: number;
  ts: number;
  serverId: string;
  from: string;
  id: string;
  byte: number;
  bytes: number;
  /** Global append order, for the byte cap. */
  order: number;
}
class Model {
  logs = new Map<string, { last: number; entries: ModelEntry[] }>();
  dedup = new Map<string, { serverId: string; seq: number; ts: number }>();
  cursors = new Map<string, number>();
  appended = 0;
  constructor(readonly maxBytes: number) {}

  log(kind: Kind, to: string) {
    let log = this.logs.get(`${kind}:${to}`);
    if (!log) this.logs.set(`${kind}:${to}`, (log = { last: 0, entries: [] }));
    return log;
  }
  all(): ModelEntry[] {
    return [...this.logs.values()].flatMap((l) => l.entries);
  }
  bytes(): number {
    return this.all().reduce((n, e) => n + e.bytes, 0);
  }
  expire(now: number): void {
    for (const log of this.logs.values()) log.entries = log.entries.filter((e) => now - e.ts < RETENTION);
  }
  add(kind: Kind, to: string, e: Omit<ModelEntry, 'order'>): void {
    const log = this.log(kind, to);
    log.last = e.seq;
    log.entries.push({ ...e, order: this.appended++ });
    if (log.entries.length > CAP) log.entries.shift();
    while (this.bytes() > this.maxBytes) {
      const oldest = Math.min(...this.all().map((x) => x.order));
      for (const l of this.logs.values()) l.entries = l.entries.filter((x) => x.order !== oldest);
    }
  }
}

describe('MemoryMessageStore matches a model (fast-check)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-prop-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('agrees on seqs, dedup, reads, cursors and sizes for any sequence of operations', async () => {
    let run = 0;
    // 780-1180 bytes per message: a cap of 1200 or 3000 evicts across logs, 1 GiB never does.
    const maxBytesArb = fc.constantFrom(1200, 3000, 1 << 30);
    await fc.assert(
      fc.asyncProperty(maxBytesArb, fc.array(opArb, { maxLength: 200 }), async (maxBytes, ops) => {
        const clock = { now: 1_700_000_000_000 };
        const opts: MemoryMessageStoreOptions = {
          nodeId: 'n',
          maxMessagesPerLog: CAP,
          retentionMs: RETENTION,
          dedupWindowMs: WINDOW,
          maxBytes,
          sweepIntervalMs: 0,
          now: () => clock.now,
        };
        const path = join(dir, `snap-${run++}`);
        let store = new MemoryMessageStore(opts);
        const model = new Model(maxBytes);
        const sizesAgree = () => {
          expect(store.stats()).to.include({ messages: model.all().length, bytes: model.bytes() });
        };
        for (const o of ops) {
          const now = clock.now;
          switch (o.op) {
            case 'append': {
              const over = {
                fromUser: o.from,
                clientMsgId: o.id,
                payload: new Uint8Array(o.len).fill(o.byte),
              };
              const msg = o.kind === 'u' ? userMsg({ ...over, toUser: o.to }) : topicMsg(o.to, over);
              const r = o.kind === 'u' ? await store.appendToUser(msg) : await store.appendToTopic(msg);
              model.expire(now);
              const key = `${o.kind}:${o.from}:${o.id}`;
              const first = model.dedup.get(key);
              if (o.id !== '' && first !== undefined && now - first.ts < WINDOW) {
                expect(r).to.deep.equal({
                  serverId: first.serverId,
                  seq: first.seq,
                  timestampMs: first.ts,
                  duplicate: true,
                });
              } else {
                const seq = model.log(o.kind, o.to).last + 1;
                expect(r).to.include({ seq, timestampMs: now, duplicate: false });
                const bytes = storedBytes(msg);
                model.add(o.kind, o.to, {
                  seq,
                  ts: now,
                  serverId: r.serverId,
                  from: o.from,
                  id: o.id,
                  byte: o.byte,
                  bytes,
                });
                if (o.id !== '') {
                  model.dedup.delete(key); // re-insert: a fresh entry is the newest
                  model.dedup.set(key, { serverId: r.serverId, seq, ts: now });
                }
              }
              sizesAgree();
              break;
            }
            case 'ack': {
              await store.ackUser(o.to, o.device, o.seq);
              const k = `${o.to}:${o.device}`;
              const last = model.logs.get(`u:${o.to}`)?.last ?? 0;
              model.cursors.set(k, Math.max(model.cursors.get(k) ?? 0, Math.min(o.seq, last)));
              expect(await store.userCursor(o.to, o.device)).to.equal(model.cursors.get(k));
              break;
            }
            case 'read': {
              const got: Envelope[] =
                o.kind === 'u'
                  ? await store.readUser(o.to, o.after, o.limit)
                  : await store.readTopic(o.to, o.after, o.limit);
              model.expire(now);
              const want = model
                .log(o.kind, o.to)
                .entries.filter((e) => e.seq > o.after)
                .slice(0, o.limit);
              const seen = got.map((e) => [e.seq, e.serverId, e.fromUser, e.clientMsgId, e.payload[0]]);
              expect(seen).to.deep.equal(want.map((e) => [e.seq, e.serverId, e.from, e.id, e.byte]));
              const last = o.kind === 'u' ? await store.lastUserSeq(o.to) : await store.lastTopicSeq(o.to);
              expect(last).to.equal(model.log(o.kind, o.to).last);
              sizesAgree();
              break;
            }
            case 'tick':
              clock.now += o.ms;
              break;
            case 'restart':
              await store.saveSnapshot(path);
              await store.close();
              store = await MemoryMessageStore.loadSnapshot(path, opts);
              model.expire(now);
              sizesAgree();
              break;
          }
        }
        await store.close();
      }),
      { numRuns: 100 },
    );
  });
});
