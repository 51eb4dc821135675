import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { RedisSessionTokenStore } from '../../../src/access/redis-session-token-store.js';
import { MemorySessionTokenStore } from '../../../src/access/session-token-store.js';
import { RedisLink } from '../../../src/cluster/redis-link.js';
import { StoreError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { describeSessionTokenStore } from '../../conformance/describe-session-token-store.js';
import {
  startRedisCluster,
  startRedisServer,
  type RedisCluster,
  type RedisServer,
} from '../../helpers/redis-server.js';

interface Target {
  url?: string;
  cluster?: string[];
}

function connect(target: Target): Promise<RedisLink> {
  return RedisLink.connect({
    url: target.url ?? '',
    cluster: target.cluster ?? [],
    name: 'session-store-test',
    logger: silentLogger(),
  });
}

/** `count` stores (one per "node", each with its own connection) under one fresh key prefix. */
async function redisStores(target: Target, count: number) {
  const keyPrefix = `t${randomBytes(4).toString('hex')}`;
  const links: RedisLink[] = [];
  for (let i = 0; i < count; i++) links.push(await connect(target));
  const nodes = links.map((link) => new RedisSessionTokenStore({ link, keyPrefix, logger: silentLogger() }));
  return { keyPrefix, links, nodes, close: () => Promise.all(links.map((l) => l.close())).then(() => {}) };
}

describeSessionTokenStore('memory', async () => ({ nodes: [new MemorySessionTokenStore()] }));

describe('RedisSessionTokenStore on a standalone redis-server', function () {
  this.timeout(20_000);
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await redis.stop();
  });

  describeSessionTokenStore('redis (standalone, 2 nodes)', () => redisStores({ url: redis.url }, 2));

  it('keeps every key only as long as the session could be used (PEXPIREAT at expiry)', async () => {
    const { keyPrefix, nodes, close } = await redisStores({ url: redis.url }, 1);
    const store = nodes[0]!;
    const expiresAtMs = Date.now() + 600_000;
    const base = { userId: 'kim', deviceId: 'd', createdAtMs: 1, lastSeenMs: 1, createdBy: 'k', labels: {} };
    const expiry = async (key: string): Promise<number> =>
      Number(await redis.cli('PEXPIRETIME', `${keyPrefix}:${key}`));
    await store.save({ ...base, sessionId: 's-1', expiresAtMs });
    expect(await expiry('{ls:s-1}:session')).to.equal(expiresAtMs);
    expect(await expiry('{u:kim}:login-sessions')).to.equal(expiresAtMs);
    // A later session of the user keeps the user index alive until its own expiry.
    await store.save({ ...base, sessionId: 's-2', expiresAtMs: expiresAtMs + 1000 });
    expect(await expiry('{u:kim}:login-sessions')).to.equal(expiresAtMs + 1000);
    await store.revoke('s-1', expiresAtMs);
    expect(await expiry('{ls:s-1}:revoked')).to.equal(expiresAtMs);
    // With every session revoked the index is gone (-2: no such key).
    await store.revoke('s-2', expiresAtMs + 1000);
    expect(await expiry('{u:kim}:login-sessions')).to.equal(-2);
    await store.close();
    await close();
  });

  it('while Redis is down: refuses only sessions known revoked, fails other calls with StoreError', async () => {
    const own = await startRedisServer();
    const link = await connect({ url: own.url });
    const errors: unknown[] = [];
    const store = new RedisSessionTokenStore({
      link,
      keyPrefix: 'ferry',
      logger: silentLogger(),
      onError: (err) => errors.push(err),
    });
    try {
      const until = Date.now() + 600_000;
      const rec = {
        sessionId: 's-a',
        userId: 'u',
        deviceId: 'd',
        createdAtMs: 1,
        expiresAtMs: until,
        lastSeenMs: 1,
        createdBy: 'k',
        labels: {},
      };
      await store.save(rec);
      await store.revoke('s-a', until);
      // Revoked through another node: this one learns it from Redis on its first check.
      const other = new RedisSessionTokenStore({ link, keyPrefix: 'ferry', logger: silentLogger() });
      await other.revoke('s-b', until);
      expect(await store.isRevoked('s-b')).to.equal(true);
      await own.stop();

      expect(await store.isRevoked('s-a')).to.equal(true);
      expect(await store.isRevoked('s-b')).to.equal(true);
      expect(await store.isRevoked('s-c')).to.equal(false);
      expect(errors.length).to.be.greaterThan(0);
      for (const call of [
        () => store.save({ ...rec, sessionId: 's-d' }),
        () => store.get('s-a'),
        () => store.listByUser('u'),
        () => store.update('s-a', { lastSeenMs: 2 }),
        () => store.revoke('s-e', until),
        () => store.activeCount(),
      ]) {
        const err = await call().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(StoreError);
        expect((err as StoreError).code).to.equal('FERRY_ERR_STORE');
      }
      // A revocation that could not be written is still refused by the node that made it.
      expect(await store.isRevoked('s-e')).to.equal(true);
      await other.close();
    } finally {
      await store.close();
      link.destroy();
      await own.stop();
    }
  });

  it('reads malformed labels as no labels', async () => {
    const { keyPrefix, nodes, close } = await redisStores({ url: redis.url }, 1);
    const rec = {
      sessionId: 's-l',
      userId: 'u',
      deviceId: 'd',
      createdAtMs: 1,
      expiresAtMs: Date.now() + 60_000,
      lastSeenMs: 1,
      createdBy: 'k',
      labels: { a: 'b' },
    };
    await nodes[0]!.save(rec);
    for (const bad of ['not json', '[1]', '{"a":1,"b":"c"}']) {
      await redis.cli('HSET', `${keyPrefix}:{ls:s-l}:session`, 'labels', bad);
      const want = bad.includes('"b"') ? { b: 'c' } : {};
      expect((await nodes[0]!.get('s-l'))?.labels).to.deep.equal(want);
    }
    await nodes[0]!.close();
    await close();
  });
});

describe('RedisSessionTokenStore on a 3-master Redis Cluster', function () {
  this.timeout(60_000);
  let cluster: RedisCluster;
  before(async () => {
    cluster = await startRedisCluster(3);
  });
  after(async () => {
    await cluster.stop();
  });

  describeSessionTokenStore('redis (cluster, 2 nodes)', () =>
    redisStores({ cluster: cluster.nodes.map((n) => `${n.host}:${n.port}`) }, 2),
  );
});
