/**
 * RedisMessageStore when Redis goes away: callers get a retryable error instead of waiting for a
 * reconnect that may never come, and an append-only Redis restarted on the same port serves the same
 * logs, seqs and cursors again.
 */
import { expect } from 'chai';
import { MemoryBus } from '../../../src/bus/memory.js';
import { MemoryPresence } from '../../../src/bus/memory-presence.js';
import { ReplyCode, StoreError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { MessageRouter } from '../../../src/routing/message-router.js';
import { LocalDelivery } from '../../../src/routing/local-delivery.js';
import { SessionRegistry } from '../../../src/session/registry.js';
import { toReplyError } from '../../../src/session/reply-errors.js';
import { RedisMessageStore } from '../../../src/store/redis/redis-store.js';
import { userMsg } from '../../conformance/describe-store.js';
import { LIMITS, rejection, useRedis } from './store-fixture.js';

describe('RedisMessageStore when Redis fails', function () {
  this.timeout(30_000);
  // The default client: offline queue on, reconnecting forever. The store's command timeout is what
  // turns "Redis is gone" into an error for the caller.
  const fx = useRedis({
    each: true,
    server: { appendonly: true },
    client: { socket: { reconnectStrategy: () => 50 } },
  });
  let store: RedisMessageStore;

  beforeEach(() => {
    store = new RedisMessageStore({ client: fx.client, nodeId: 'n1', ...LIMITS, commandTimeoutMs: 300 });
  });
  afterEach(async () => {
    await store.close();
  });

  it('rejects every operation with StoreError while Redis is down, instead of hanging', async () => {
    await store.appendToUser(userMsg());
    await fx.server.kill9();
    const ops: Array<() => Promise<unknown>> = [
      () => store.appendToUser(userMsg()),
      () => store.readUser('bob', 0, 10),
      () => store.ackUser('bob', 'phone', 1),
      () => store.userCursor('bob', 'phone'),
      () => store.lastUserSeq('bob'),
    ];
    for (const op of ops) {
      const err = await rejection(op());
      expect(err).to.be.instanceOf(StoreError);
      expect((err as StoreError).code).to.equal('FERRY_ERR_STORE');
      // node-redis's TimeoutError has an empty message: the store names it.
      expect((err as StoreError).message).to.match(/unavailable: TimeoutError \(command not sent within/);
    }
  });

  it('with commandTimeoutMs Infinity, waits in the offline queue and completes after a restart', async () => {
    const patient = new RedisMessageStore({
      client: fx.client,
      nodeId: 'n2',
      ...LIMITS,
      commandTimeoutMs: Infinity,
    });
    // Eight failed reconnects (50 ms apart) with the command queued: it waits past the 300 ms command
    // timeout of the default store, with nothing to time it out.
    let reconnects = 0;
    const retriedOften = new Promise<void>((resolve) => {
      const onReconnecting = (): void => {
        if (++reconnects < 8) return;
        fx.client.off('reconnecting', onReconnecting);
        resolve();
      };
      fx.client.on('reconnecting', onReconnecting);
    });
    await fx.server.kill9();
    const msg = userMsg({ clientMsgId: 'patient' });
    const appended = patient.appendToUser(msg);
    await retriedOften;
    await fx.server.restart();
    // The queued command may reach Redis while it still loads its append-only file: that is a clear,
    // retryable error (LOADING), and a retry with the same client message id stores it once.
    let result: unknown = await appended.catch((e: unknown) => e);
    for (let i = 0; i < 50 && result instanceof Error && result.message.includes('LOADING'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      result = await patient.appendToUser(msg).catch((e: unknown) => e);
    }
    expect(result).to.have.property('duplicate', false);
  });

  it('surfaces to the sender as 107 UNAVAILABLE, retryable, through the router', async () => {
    const bus = new MemoryBus();
    const registry = new SessionRegistry({
      nodeId: 'n1',
      presence: new MemoryPresence(),
      logger: silentLogger(),
    });
    const router = new MessageRouter({
      nodeId: 'n1',
      store,
      bus,
      metrics: new Metrics({ defaultMetrics: false }),
      logger: silentLogger(),
    });
    await bus.start(new LocalDelivery(registry));
    try {
      await fx.server.kill9();
      const req = {
        toUser: 'bob',
        payload: new Uint8Array([1]),
        qos: 1 as const,
        clientMsgId: 'k1',
        ephemeral: false,
      };
      const err = await rejection(router.send({ userId: 'alice', deviceId: 'phone' }, req));
      expect(err).to.be.instanceOf(StoreError);
      expect(toReplyError(err)).to.deep.include({ replyCode: ReplyCode.UNAVAILABLE, retryable: true });
    } finally {
      await bus.close();
    }
  });

  it('works again after a restart, with logs, seqs, cursors and dedup intact (appendonly)', async () => {
    const first = [];
    for (let i = 0; i < 5; i++) first.push(await store.appendToUser(userMsg({ clientMsgId: `r${i}` })));
    await store.ackUser('bob', 'phone', first[2]!.seq);
    await fx.server.kill9();
    expect(await rejection(store.appendToUser(userMsg()))).to.be.instanceOf(StoreError);
    await fx.server.restart();
    // The client reconnects on its own; once it is ready the store works again with nothing to redo.
    if (!fx.client.isReady) await new Promise((resolve) => fx.client.once('ready', resolve));
    const next = await store.appendToUser(userMsg({ clientMsgId: 'after' }));
    const f = first[0]!.seq;
    expect(next.seq).to.equal(f + 5);
    expect(await store.userCursor('bob', 'phone')).to.equal(f + 2);
    expect((await store.readUser('bob', f + 2, 10)).map((e) => e.seq)).to.deep.equal([f + 3, f + 4, f + 5]);
    // A sender retrying a message whose ack was lost in the outage still gets the first result.
    expect(await store.appendToUser(userMsg({ clientMsgId: 'r4' }))).to.deep.equal({
      ...first[4]!,
      duplicate: true,
    });
  });
});
