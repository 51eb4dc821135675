/**
 * RedisMessageStore as the cluster wires it (RedisLink's client without an offline queue): scripts
 * by EVALSHA once an EVAL ran on the connection, EVAL again on a new connection or after a SCRIPT
 * FLUSH (never a silent retry that could reorder appends), and the recipient's hash read inside each
 * user append.
 */
import { expect } from 'chai';
import { RedisLink } from '../../../src/cluster/redis-link.js';
import { StoreError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { RedisMessageStore, type RedisScriptClient } from '../../../src/store/redis/redis-store.js';
import { describeMessageStore, topicMsg, userMsg } from '../../conformance/describe-store.js';
import { linkReady } from '../../helpers/redis-events.js';
import { freshPrefix, LIMITS } from './store-fixture.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';

/** Calls of EVAL and EVALSHA since the last CONFIG RESETSTAT, from INFO commandstats. */
async function scriptCalls(link: RedisLink): Promise<{ eval: number; evalsha: number }> {
  const info = await link.call<string>(undefined, ['INFO', 'commandstats']);
  const calls = (cmd: string): number =>
    Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { eval: calls('eval'), evalsha: calls('evalsha') };
}

describe('RedisMessageStore on a RedisLink (EVALSHA, hash read in the append)', function () {
  this.timeout(30_000);
  let server: RedisServer;
  let link: RedisLink;

  const storeOn = (l: RedisLink, over: Partial<ConstructorParameters<typeof RedisMessageStore>[0]> = {}) =>
    new RedisMessageStore({
      client: l.native as unknown as RedisScriptClient,
      connectionEpoch: l.connectionEpoch!,
      nodeId: 'n1',
      keyPrefix: freshPrefix('wiring'),
      commandTimeoutMs: Infinity,
      ...LIMITS,
      ...over,
    });

  before(async () => {
    server = await startRedisServer({ appendonly: true });
    link = await RedisLink.connect({ url: server.url, cluster: [], name: 'wiring', logger: silentLogger() });
  });
  after(async () => {
    await link?.close();
    await server?.stop();
  });

  describeMessageStore('redis (standalone, EVALSHA)', async (s) => storeOn(link, s), {
    byteCap: false,
    firstSeqIsOne: false,
  });

  it('calls a script by EVALSHA once an EVAL of it ran on the connection', async () => {
    const store = storeOn(link);
    await link.call(undefined, ['CONFIG', 'RESETSTAT']);
    for (let i = 0; i < 10; i++) await store.appendToUser(userMsg({ toUser: 'bob' }));
    expect(await scriptCalls(link)).to.deep.equal({ eval: 1, evalsha: 9 });
  });

  it('goes back to EVAL after Redis restarts (a new connection), then to EVALSHA', async () => {
    const store = storeOn(link);
    const f = (await store.appendToUser(userMsg({ toUser: 'bob' }))).seq;
    for (let i = 1; i < 3; i++) await store.appendToUser(userMsg({ toUser: 'bob' }));
    await server.restart();
    await linkReady(link);
    await link.call(undefined, ['CONFIG', 'RESETSTAT']);
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) seqs.push((await store.appendToUser(userMsg({ toUser: 'bob' }))).seq);
    expect(seqs).to.deep.equal([f + 3, f + 4, f + 5, f + 6]);
    expect(await scriptCalls(link)).to.deep.equal({ eval: 1, evalsha: 3 });
  });

  it('after SCRIPT FLUSH: one retryable StoreError (NOSCRIPT), then EVAL, with no seq out of order', async () => {
    const store = storeOn(link);
    const f = (await store.appendToUser(userMsg({ toUser: 'bob' }))).seq;
    await store.appendToUser(userMsg({ toUser: 'bob' }));
    await link.call(undefined, ['SCRIPT', 'FLUSH']);
    const lost = userMsg({ toUser: 'bob', clientMsgId: 'flushed' });
    const err = await store.appendToUser(lost).then(
      () => expect.fail('expected NOSCRIPT'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StoreError);
    expect((err as Error).message).to.match(/NOSCRIPT/);
    // The client's retry (same clientMsgId) and later messages: stored once each, in send order.
    expect((await store.appendToUser(lost)).seq).to.equal(f + 2);
    expect((await store.appendToUser(userMsg({ toUser: 'bob' }))).seq).to.equal(f + 3);
    expect((await store.readUser('bob', 0, 10)).map((e) => e.clientMsgId)[2]).to.equal('flushed');
  });

  it('keeps pipelined appends of one sender in send order across a restart', async () => {
    const store = storeOn(link);
    const f = (await store.appendToUser(userMsg({ toUser: 'carol' }))).seq;
    await server.restart();
    await linkReady(link);
    // Sent back to back: the first goes by EVAL (new connection), the rest must not overtake it.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.appendToUser(userMsg({ toUser: 'carol', clientMsgId: `p${i}` })),
      ),
    );
    const stored = await store.readUser('carol', f, 100);
    expect(stored.map((e) => e.clientMsgId)).to.deep.equal(results.map((_, i) => `p${i}`));
    expect(results.map((r) => r.seq)).to.deep.equal(stored.map((e) => e.seq));
  });

  it('hands the recipient hash, read inside the append, to appendReadsHash before resolving', async () => {
    const reads: Array<[string, number, string[]]> = [];
    const keyPrefix = freshPrefix();
    const hashKey = (u: string): string => `${keyPrefix}:{u:${u}}:presence`;
    const store = storeOn(link, {
      keyPrefix,
      appendReadsHash: {
        key: hashKey,
        onRead: (userId, seq, hash) => reads.push([userId, seq, hash.map((b) => b.toString())]),
      },
    });
    const first = await store.appendToUser(userMsg({ toUser: 'bob', clientMsgId: 'x' }));
    expect(reads).to.deep.equal([['bob', first.seq, []]]);
    await link.call(hashKey('bob'), ['HSET', hashKey('bob'), 'phone', 'on-n2']);
    const dup = await store.appendToUser(userMsg({ toUser: 'bob', clientMsgId: 'x' }));
    expect(dup.duplicate).to.equal(true);
    const next = await store.appendToUser(userMsg({ toUser: 'bob' }));
    expect(reads.slice(1)).to.deep.equal([
      ['bob', first.seq, ['phone', 'on-n2']],
      ['bob', next.seq, ['phone', 'on-n2']],
    ]);
    await store.appendToTopic(topicMsg('room'));
    expect(reads).to.have.length(3); // topics have no recipient hash
    // A read that fails (here: not a hash) must not fail the append, whose writes Lua would not undo:
    // the message is stored once, and the bus is left to read presence itself.
    await link.call(hashKey('carol'), ['SET', hashKey('carol'), 'not a hash']);
    const stored = await store.appendToUser(userMsg({ toUser: 'carol', clientMsgId: 'y' }));
    expect(stored).to.include({ duplicate: false });
    expect(reads).to.have.length(3);
    expect((await store.readUser('carol', 0, 10)).map((e) => e.clientMsgId)).to.deep.equal(['y']);
  });
});
