/**
 * The set-up the Redis message store tests share: a real redis-server per suite, one node-redis
 * client on it, store limits, and a fresh key prefix per store so each sees an empty store without
 * FLUSHALL.
 */
import { expect } from 'chai';
import { createClient } from 'redis';
import { startRedisServer, type RedisServer, type RedisServerOptions } from '../../helpers/redis-server.js';

/** Store limits that no test reaches unless it sets its own. */
export const LIMITS = {
  maxMessagesPerLog: 100,
  retentionMs: 3600_000,
  dedupWindowMs: 600_000,
  maxBytes: 1 << 20,
};

let prefixes = 0;
/** A key prefix no other store of this process uses. */
export const freshPrefix = (tag = 'test'): string => `ferry-${tag}-${process.pid}-${++prefixes}`;

/** The rejection reason of `p`; fails the test if `p` resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

/** A suite's server and client, set by its `before` hook (or `beforeEach` with `each`). */
export interface RedisFixture {
  server: RedisServer;
  client: ReturnType<typeof createClient>;
}

/**
 * Registers hooks in the calling suite that start a redis-server and connect a client before its
 * tests (before each test with `each`) and close both after. Client errors are swallowed: the tests
 * see them as rejected commands, and reconnects are what the fault tests exercise.
 */
export function useRedis(
  opts: {
    server?: RedisServerOptions;
    client?: Parameters<typeof createClient>[0];
    each?: boolean;
  } = {},
): RedisFixture {
  const fx = {} as RedisFixture;
  const [setUp, tearDown] = opts.each === true ? [beforeEach, afterEach] : [before, after];
  setUp(async () => {
    fx.server = await startRedisServer(opts.server);
    fx.client = createClient({ ...opts.client, url: fx.server.url });
    fx.client.on('error', () => undefined);
    await fx.client.connect();
  });
  tearDown(async () => {
    await fx.client?.close().catch(() => fx.client.destroy());
    await fx.server?.stop();
  });
  return fx;
}
