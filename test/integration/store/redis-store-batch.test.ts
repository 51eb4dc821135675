/**
 * The store's group commit (append-batcher.ts) against a real redis-server: the appends of one turn
 * share one script call, a group has one call in flight, and inside a call each append is as
 * independent as its own call would be (order, dedup, its own failure).
 */
import { expect } from 'chai';
import { createClient } from 'redis';
import { StoreError } from '../../../src/errors.js';
import { RedisMessageStore, type RedisScriptClient } from '../../../src/store/redis/redis-store.js';
import { userMsg } from '../../conformance/describe-store.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';

const LIMITS = { maxMessagesPerLog: 1000, retentionMs: 3600_000, dedupWindowMs: 600_000, maxBytes: 1 << 20 };

let prefixes = 0;
const freshPrefix = (): string => `ferry-batch-${process.pid}-${++prefixes}`;

/**
 * The client's script calls counted, each with the number of appends it carried (ARGV[1]); while
 * `hold` is set, replies are kept back until it resolves, so a test decides when a call is in flight.
 */
class CountingClient {
  calls: number[] = [];
  hold: Promise<void> | null = null;
  constructor(private readonly inner: RedisScriptClient) {}

  asClient(): RedisScriptClient {
    const run =
      (op: 'eval' | 'evalSha') =>
      async (s: string, o: { keys: string[]; arguments: (string | Buffer)[] }): Promise<unknown> => {
        this.calls.push(Number(String(o.arguments[0])));
        const reply = this.inner[op](s, o);
        if (this.hold !== null) await this.hold;
        return reply;
      };
    const wrap = (inner: RedisScriptClient): RedisScriptClient => ({
      withCommandOptions: (options) => wrap(inner.withCommandOptions(options) as RedisScriptClient),
      eval: run('eval'),
      evalSha: run('evalSha'),
      get: (k) => inner.get(k),
      hGet: (k, f) => inner.hGet(k, f),
    });
    return wrap(this.inner);
  }
}

describe('RedisMessageStore: appends grouped into script calls', function () {
  this.timeout(30_000);
  let server: RedisServer;
  let client: ReturnType<typeof createClient>;

  before(async () => {
    server = await startRedisServer();
    client = createClient({ url: server.url });
    client.on('error', () => {});
    await client.connect();
  });
  after(async () => {
    await client?.close();
    await server?.stop();
  });

  const store = (counting: CountingClient, over: { maxAppendBatch?: number } = {}) =>
    new RedisMessageStore({
      client: counting.asClient(),
      nodeId: 'n',
      keyPrefix: freshPrefix(),
      appendGroup: () => 0,
      ...LIMITS,
      ...over,
    });

  it('sends the appends of one turn to many logs in one call, each log numbered in call order', async () => {
    const counting = new CountingClient(client as unknown as RedisScriptClient);
    const s = store(counting);
    const users = ['u0', 'u1', 'u2', 'u3', 'u4'];
    const sent = Array.from({ length: 50 }, (_, i) => ({ toUser: users[i % 5]!, n: i }));
    const results = await Promise.all(
      sent.map((m) => s.appendToUser(userMsg({ toUser: m.toUser, payload: new Uint8Array([m.n]) }))),
    );
    expect(counting.calls).to.deep.equal([50]);
    for (const u of users) {
      const mine = sent.map((m, i) => ({ ...m, seq: results[i]!.seq })).filter((m) => m.toUser === u);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.seq).to.equal(mine[i - 1]!.seq + 1);
      const log = await s.readUser(u, 0, 100);
      expect(log.map((e) => e.payload[0])).to.deep.equal(mine.map((m) => m.n));
      expect(log.map((e) => e.seq)).to.deep.equal(mine.map((m) => m.seq));
    }
  });

  it('dedups a repeat inside the same call against the first', async () => {
    const counting = new CountingClient(client as unknown as RedisScriptClient);
    const s = store(counting);
    const m = userMsg({ clientMsgId: 'twice' });
    const [a, b] = await Promise.all([s.appendToUser(m), s.appendToUser(m)]);
    expect(counting.calls).to.deep.equal([2]);
    expect(a!.duplicate).to.equal(false);
    expect(b).to.deep.equal({ ...a, duplicate: true });
    expect(await s.readUser('bob', 0, 10)).to.have.length(1);
  });

  it('fails only the append whose log Redis refuses; the others of the call are stored', async () => {
    const counting = new CountingClient(client as unknown as RedisScriptClient);
    const s = store(counting);
    // A non-stream value where carol's log should be: her XADD answers WRONGTYPE.
    const prefix = (s as unknown as { prefix: string }).prefix;
    await client.set(`${prefix}:{u:carol}:log`, 'not a stream');
    const outcomes = await Promise.allSettled([
      s.appendToUser(userMsg({ toUser: 'bob' })),
      s.appendToUser(userMsg({ toUser: 'carol' })),
      s.appendToUser(userMsg({ toUser: 'dave' })),
    ]);
    expect(counting.calls).to.deep.equal([3]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    const err = (outcomes[1] as PromiseRejectedResult).reason as Error;
    expect(err).to.be.instanceOf(StoreError);
    expect(err.message).to.match(/WRONGTYPE/);
    expect(await s.readUser('bob', 0, 10)).to.have.length(1);
    expect(await s.readUser('dave', 0, 10)).to.have.length(1);
  });

  it('keeps one call in flight per group: what comes meanwhile goes in the next call', async () => {
    const counting = new CountingClient(client as unknown as RedisScriptClient);
    const s = store(counting);
    let release!: () => void;
    counting.hold = new Promise((r) => (release = r));
    const first = s.appendToUser(userMsg({ payload: new Uint8Array([0]) }));
    // The first call is sent at the end of this turn; the next appends come in later turns.
    await new Promise((r) => setImmediate(r));
    expect(counting.calls).to.deep.equal([1]);
    const later = [1, 2, 3].map((n) => s.appendToUser(userMsg({ payload: new Uint8Array([n]) })));
    await new Promise((r) => setImmediate(r));
    expect(counting.calls).to.deep.equal([1]);
    counting.hold = null;
    release();
    const results = await Promise.all([first, ...later]);
    expect(counting.calls).to.deep.equal([1, 3]);
    expect(results.map((r) => r.seq - results[0]!.seq)).to.deep.equal([0, 1, 2, 3]);
    expect((await s.readUser('bob', 0, 10)).map((e) => e.payload[0])).to.deep.equal([0, 1, 2, 3]);
  });

  it('splits a turn into calls of at most maxAppendBatch, in order', async () => {
    const counting = new CountingClient(client as unknown as RedisScriptClient);
    const s = store(counting, { maxAppendBatch: 3 });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, n) => s.appendToUser(userMsg({ payload: new Uint8Array([n]) }))),
    );
    expect(counting.calls).to.deep.equal([3, 3, 3, 1]);
    expect(results.map((r) => r.seq - results[0]!.seq)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('groups by appendGroup: logs of different groups never share a call', async () => {
    const counting = new CountingClient(client as unknown as RedisScriptClient);
    const s = new RedisMessageStore({
      client: counting.asClient(),
      nodeId: 'n',
      keyPrefix: freshPrefix(),
      appendGroup: (key) => (key.includes('{u:a') ? 'a' : 'b'),
      ...LIMITS,
    });
    await Promise.all(
      ['ann', 'abe', 'bob', 'ann', 'ben'].map((toUser) => s.appendToUser(userMsg({ toUser }))),
    );
    expect(counting.calls.sort()).to.deep.equal([2, 3]);
  });
});
