import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, StoreError } from '../../../src/errors.js';
import {
  MemoryMessageStore,
  SnapshotError,
  type MemoryMessageStoreOptions,
} from '../../../src/store/memory.js';
import { describeMessageStore, topicMsg, userMsg } from '../../conformance/describe-store.js';

describeMessageStore(
  'memory',
  async (s) => new MemoryMessageStore({ nodeId: 'n1', sweepIntervalMs: 0, ...s }),
);

const T0 = 1_700_000_000_000;

/** Options with a settable clock; sweepIntervalMs 0 so no timer outlives a test. */
function options(over: Partial<MemoryMessageStoreOptions> = {}) {
  const clock = { now: T0 };
  const opts: MemoryMessageStoreOptions = {
    nodeId: 'n1',
    maxMessagesPerLog: 100,
    retentionMs: 3600_000,
    dedupWindowMs: 600_000,
    maxBytes: 1 << 20,
    sweepIntervalMs: 0,
    now: () => clock.now,
    ...over,
  };
  return { opts, clock };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('MemoryMessageStore', () => {
  it('refuses limits out of range', () => {
    for (const bad of [
      { maxMessagesPerLog: 0 },
      { retentionMs: 0 },
      { dedupWindowMs: -1 },
      { maxBytes: 0 },
    ]) {
      expect(() => new MemoryMessageStore(options(bad).opts)).to.throw(ConfigError, /store\./);
    }
  });

  it('refuses QoS-0 messages, messages without a recipient and messages over maxBytes', async () => {
    const store = new MemoryMessageStore(options({ maxBytes: 1000 }).opts);
    expect(await rejection(store.appendToUser(userMsg({ qos: 0 })))).to.be.instanceOf(StoreError);
    expect(await rejection(store.appendToUser(userMsg({ toUser: '' })))).to.be.instanceOf(StoreError);
    expect(await rejection(store.appendToTopic(topicMsg('')))).to.be.instanceOf(StoreError);
    const big = userMsg({ payload: new Uint8Array(1000) });
    expect(String(await rejection(store.appendToUser(big)))).to.match(/maxBytes/);
    // Nothing was consumed by the refusals.
    expect((await store.appendToUser(userMsg())).seq).to.equal(1);
    expect(store.stats().messages).to.equal(1);
  });

  it('keeps its own copy of the payload and hands out frozen envelopes', async () => {
    const store = new MemoryMessageStore(options().opts);
    const payload = new Uint8Array([1, 2, 3]);
    const r = await store.appendToUser(userMsg({ payload }));
    payload[0] = 99;
    const [env] = await store.readUser('bob', 0, 1);
    expect([...env!.payload]).to.deep.equal([1, 2, 3]);
    expect(Object.isFrozen(env)).to.equal(true);
    expect(r.serverId.startsWith('n1-')).to.equal(true);
  });

  it('evicts in amortised O(1): 1e5 appends to one log capped at 1000 keep the newest 1000', async () => {
    const { opts, clock } = options({ maxMessagesPerLog: 1000, dedupWindowMs: 0 });
    const store = new MemoryMessageStore(opts);
    const m = userMsg({ clientMsgId: '' });
    for (let i = 0; i < 100_000; i++) await store.appendToUser(m);
    const read = await store.readUser('bob', 0, 5000);
    expect(read.length).to.equal(1000);
    expect(read[0]!.seq).to.equal(99_001);
    expect(read.at(-1)!.seq).to.equal(100_000);
    const { messages, bytes } = store.stats();
    expect(messages).to.equal(1000);
    const before = bytes;
    await store.appendToUser(m);
    expect(store.stats().bytes).to.equal(before); // one in, one out: the byte count stays exact
    // The global age queue was compacted along the way and must still hold every live entry.
    await store.appendToUser(m);
    clock.now += opts.retentionMs;
    expect(await store.readUser('bob', 0, 5000)).to.deep.equal([]);
    expect(store.stats()).to.include({ messages: 0, bytes: 0 });
  });

  it('still ages out a quiet log after a busy one churned (and compacted) the shared age queue', async () => {
    const { opts, clock } = options({ maxMessagesPerLog: 10, retentionMs: 1000 });
    const store = new MemoryMessageStore(opts);
    for (let i = 0; i < 10; i++) await store.appendToUser(userMsg({ toUser: 'quiet' }));
    clock.now += 500;
    for (let i = 0; i < 500; i++) await store.appendToUser(userMsg({ toUser: 'busy' }));
    clock.now += 500;
    expect(await store.readUser('quiet', 0, 100)).to.deep.equal([]);
    expect((await store.readUser('busy', 0, 100)).map((e) => e.seq)).to.deep.equal(range(491, 500));
    clock.now += 500;
    expect(await store.readUser('busy', 0, 100)).to.deep.equal([]);
    expect(store.stats()).to.include({ messages: 0, bytes: 0 });
  });

  it('counts logs, messages, bytes and dedup entries', async () => {
    const { opts, clock } = options({ retentionMs: 1000 });
    const store = new MemoryMessageStore(opts);
    await store.appendToUser(userMsg());
    await store.appendToUser(userMsg({ toUser: 'carol' }));
    await store.appendToTopic(topicMsg('room'));
    const s = store.stats();
    expect([s.users, s.topics, s.messages, s.dedupEntries]).to.deep.equal([2, 1, 3, 3]);
    expect(s.bytes).to.be.greaterThan(3 * 3);
    clock.now += 1000;
    store.sweep(); // the background sweep frees expired entries without any access
    expect(store.stats()).to.include({ users: 2, topics: 1, messages: 0, bytes: 0 });
  });

  it('forgets a client id exactly dedupWindowMs after it was first seen', async () => {
    const { opts, clock } = options({ dedupWindowMs: 1000 });
    const store = new MemoryMessageStore(opts);
    await store.appendToUser(userMsg({ clientMsgId: 'k' }));
    clock.now += 999;
    expect((await store.appendToUser(userMsg({ clientMsgId: 'k' }))).duplicate).to.equal(true);
    clock.now += 1;
    expect((await store.appendToUser(userMsg({ clientMsgId: 'k' }))).duplicate).to.equal(false);
  });

  it('keeps an entry for exactly retentionMs', async () => {
    const { opts, clock } = options({ retentionMs: 1000 });
    const store = new MemoryMessageStore(opts);
    await store.appendToUser(userMsg());
    clock.now += 999;
    expect(await store.readUser('bob', 0, 10)).to.have.length(1);
    clock.now += 1;
    expect(await store.readUser('bob', 0, 10)).to.have.length(0);
  });

  it('bounds the dedup table: past maxDedupEntries the oldest id is forgotten', async () => {
    const store = new MemoryMessageStore(options({ maxDedupEntries: 3 }).opts);
    for (const id of ['a', 'b', 'c', 'd']) await store.appendToUser(userMsg({ clientMsgId: id }));
    expect(store.stats().dedupEntries).to.equal(3);
    expect((await store.appendToUser(userMsg({ clientMsgId: 'd' }))).duplicate).to.equal(true);
    expect((await store.appendToUser(userMsg({ clientMsgId: 'a' }))).duplicate).to.equal(false);
  });

  it('does not dedup with dedupWindowMs 0 or an empty clientMsgId', async () => {
    const off = new MemoryMessageStore(options({ dedupWindowMs: 0 }).opts);
    await off.appendToUser(userMsg({ clientMsgId: 'x' }));
    expect((await off.appendToUser(userMsg({ clientMsgId: 'x' }))).seq).to.equal(2);
    const on = new MemoryMessageStore(options().opts);
    await on.appendToUser(userMsg({ clientMsgId: '' }));
    expect((await on.appendToUser(userMsg({ clientMsgId: '' }))).seq).to.equal(2);
  });

  it('rejects operations after close(), which is idempotent', async () => {
    const store = new MemoryMessageStore(options().opts);
    await store.close();
    await store.close();
    expect(await rejection(store.appendToUser(userMsg()))).to.be.instanceOf(StoreError);
    expect(await rejection(store.readUser('bob', 0, 1))).to.be.instanceOf(StoreError);
    expect(await rejection(store.ackUser('bob', 'phone', 1))).to.be.instanceOf(StoreError);
  });

  it('sweeps expired entries on its timer, and close() stops the timer', async () => {
    const { opts, clock } = options({ retentionMs: 1000, sweepIntervalMs: 5 });
    const store = new MemoryMessageStore(opts);
    await store.appendToUser(userMsg());
    // The timer calls sweep() through the instance: wrapping it there lets the test await the sweep.
    const sweep = store.sweep.bind(store);
    const swept = new Promise<void>((resolve) => {
      store.sweep = () => {
        sweep();
        resolve();
      };
    });
    clock.now += 1000;
    await swept;
    expect(store.stats().messages).to.equal(0);
    await store.close(); // the timer is unref'd anyway, but a closed store must not keep one
  });
});

describe('MemoryMessageStore snapshots', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips logs, seq counters, cursors and dedup entries', async () => {
    const { opts, clock } = options({ maxMessagesPerLog: 3, retentionMs: 60_000 });
    const store = new MemoryMessageStore(opts);
    await store.appendToUser(userMsg({ toUser: 'gone' })); // will expire: only its counter survives
    clock.now += 50_000;
    for (let i = 0; i < 5; i++) await store.appendToUser(userMsg({ payload: new Uint8Array([i]) }));
    const dup = await store.appendToUser(userMsg({ toUser: 'carol', clientMsgId: 'once', ephemeral: true }));
    await store.appendToTopic(topicMsg('room', { clientMsgId: 'once' }));
    await store.ackUser('bob', 'phone', 4);
    await store.ackUser('carol', 'laptop', 1);
    clock.now += 20_000;
    // Same millisecond as the appends after the restore: only the saved counter keeps serverIds apart.
    const last = await store.appendToUser(userMsg({ toUser: 'dave' }));
    const before = {
      bob: await store.readUser('bob', 0, 10),
      carol: await store.readUser('carol', 0, 10),
      room: await store.readTopic('room', 0, 10),
    };
    const path = join(dir, 'store.snapshot');
    await store.saveSnapshot(path);
    await store.close();

    const restored = await MemoryMessageStore.loadSnapshot(path, opts);
    expect(await restored.readUser('bob', 0, 10)).to.deep.equal(before.bob);
    expect(before.bob.map((e) => e.seq)).to.deep.equal([3, 4, 5]);
    expect(await restored.readUser('carol', 0, 10)).to.deep.equal(before.carol);
    expect(await restored.readTopic('room', 0, 10)).to.deep.equal(before.room);
    expect(await restored.readUser('gone', 0, 10)).to.deep.equal([]);
    expect(await restored.userCursor('bob', 'phone')).to.equal(4);
    expect(await restored.userCursor('carol', 'laptop')).to.equal(1);
    expect(await restored.appendToUser(userMsg({ toUser: 'carol', clientMsgId: 'once' }))).to.deep.equal({
      ...dup,
      duplicate: true,
    });
    // Seq counters continue, also for a log whose every message had expired.
    expect((await restored.appendToUser(userMsg())).seq).to.equal(6);
    expect((await restored.appendToUser(userMsg({ toUser: 'gone' }))).seq).to.equal(2);
    expect((await restored.appendToTopic(topicMsg('room'))).seq).to.equal(2);
    expect(restored.stats()).to.include({ users: 4, topics: 1, messages: 8 });
    const ids = [...before.bob, ...before.carol, ...before.room].map((e) => e.serverId).concat(last.serverId);
    for (let i = 0; i < 20; i++) ids.push((await restored.appendToUser(userMsg({ toUser: 'eve' }))).serverId);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(await readdir(dir)).to.deep.equal(['store.snapshot']); // no temporary file left behind
    await restored.close();
  });

  it('saves fromService only when set, and loads a snapshot written before it existed (12-field "M")', async () => {
    const { opts } = options();
    const store = new MemoryMessageStore(opts);
    await store.appendToUser(userMsg({ fromService: 'crm' }));
    await store.appendToUser(userMsg());
    const path = join(dir, 'snap');
    await store.saveSnapshot(path);
    const records = (await readFile(path, 'utf8')).split('\n').filter((l) => l.startsWith('["M"'));
    expect(records.map((l) => (JSON.parse(l) as unknown[]).length)).to.deep.equal([13, 12]);
    const restored = await MemoryMessageStore.loadSnapshot(path, opts);
    expect((await restored.readUser('bob', 0, 10)).map((e) => e.fromService)).to.deep.equal(['crm', '']);

    // Written by a version without fromService: the same record layout, never a 13th field.
    const old = join(dir, 'old');
    await writeFile(
      old,
      [
        '{"magic":"ferry-memory-store","version":1,"nodeId":"n0","savedAtMs":1,"counter":1}',
        '["L","u","bob",1]',
        '["M","u","n0-1",1,"system","crm","bob","",1700000000000,"",0,"aGk="]',
        '["E",2]',
        '',
      ].join('\n'),
    );
    const fromOld = await MemoryMessageStore.loadSnapshot(old, opts);
    const [env] = await fromOld.readUser('bob', 0, 10);
    expect(env).to.include({ serverId: 'n0-1', fromUser: 'system', fromDevice: 'crm', fromService: '' });
  });

  it('applies the new limits on load, dropping the globally oldest first', async () => {
    const { opts } = options();
    const store = new MemoryMessageStore(opts);
    for (let i = 0; i < 6; i++) await store.appendToUser(userMsg({ toUser: i % 2 ? 'bob' : 'carol' }));
    const path = join(dir, 'snap');
    await store.saveSnapshot(path);
    const perMessage = store.stats().bytes / 6;
    const restored = await MemoryMessageStore.loadSnapshot(path, {
      ...opts,
      maxBytes: Math.floor(perMessage * 2.5),
    });
    expect((await restored.readUser('carol', 0, 10)).map((e) => e.seq)).to.deep.equal([3]);
    expect((await restored.readUser('bob', 0, 10)).map((e) => e.seq)).to.deep.equal([3]);
  });

  it('round-trips payloads larger than its write chunk, byte for byte', async () => {
    const store = new MemoryMessageStore(options({ maxBytes: 16 << 20 }).opts);
    const payloads = [0, 1, 2].map((k) =>
      Uint8Array.from({ length: 700_000 }, (_, i) => (i * 31 + k) & 0xff),
    );
    for (const payload of payloads) await store.appendToUser(userMsg({ payload }));
    await store.appendToUser(userMsg({ payload: new Uint8Array(0) }));
    const path = join(dir, 'big');
    await store.saveSnapshot(path);
    const restored = await MemoryMessageStore.loadSnapshot(path, options({ maxBytes: 16 << 20 }).opts);
    const read = await restored.readUser('bob', 0, 10);
    expect(read.map((e) => e.payload)).to.deep.equal([...payloads, new Uint8Array(0)]);
  });

  it('overwrites an existing snapshot and gives an empty store for a missing one', async () => {
    const path = join(dir, 'nested', 'snap');
    const a = new MemoryMessageStore(options().opts);
    await a.appendToUser(userMsg());
    await a.saveSnapshot(path);
    await a.appendToUser(userMsg());
    await a.saveSnapshot(path);
    expect(await (await MemoryMessageStore.loadSnapshot(path, options().opts)).lastUserSeq('bob')).to.equal(
      2,
    );
    const empty = await MemoryMessageStore.loadSnapshot(join(dir, 'missing'), options().opts);
    expect(empty.stats()).to.include({ users: 0, messages: 0 });
  });

  it('reports a corrupt file as SnapshotError "corrupt", naming the file and line', async () => {
    const good = join(dir, 'good');
    const s = new MemoryMessageStore(options().opts);
    for (let i = 0; i < 3; i++) await s.appendToUser(userMsg());
    await s.saveSnapshot(good);
    const text = await readFile(good, 'utf8');
    const lines = text.trimEnd().split('\n');
    const cases: Record<string, string> = {
      garbage: 'hello\x00world',
      empty: '',
      truncated: lines.slice(0, -1).join('\n'),
      'cut mid-line': text.slice(0, text.length - 5),
      'wrong magic': text.replace('ferry-memory-store', 'something-else'),
      // Drop the middle message and fix the record count, so only the gap is wrong.
      'seq gap': lines
        .filter((_, i) => i !== 3)
        .map((l) => (l.startsWith('["E"') ? `["E",${lines.length - 3}]` : l))
        .join('\n'),
    };
    for (const [what, content] of Object.entries(cases)) {
      const path = join(dir, what.replace(/ /g, '-'));
      await writeFile(path, content);
      const err = await rejection(MemoryMessageStore.loadSnapshot(path, options().opts));
      expect(err, what).to.be.instanceOf(SnapshotError).and.instanceOf(StoreError);
      expect((err as SnapshotError).reason, what).to.equal('corrupt');
      expect((err as SnapshotError).path, what).to.equal(path);
      expect((err as Error).message, what).to.include(path);
    }
  });

  it('reports a write it cannot do as SnapshotError "io"', async () => {
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'not a directory');
    const err = await rejection(new MemoryMessageStore(options().opts).saveSnapshot(join(blocker, 'snap')));
    expect(err).to.be.instanceOf(SnapshotError);
    expect((err as SnapshotError).reason).to.equal('io');
  });
});
