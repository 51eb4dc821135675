import { expect } from 'chai';
import type { Bus, BusHandler, Envelope } from '../../../src/bus/bus.js';
import { ReplyCode, RequestError, StoreError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { MessageRouter } from '../../../src/routing/message-router.js';
import { MemoryMessageStore } from '../../../src/store/memory.js';
import type { AppendResult } from '../../../src/store/message-store.js';
import { GatedStore } from '../../helpers/gated-store.js';
import { settle } from '../../helpers/session-harness.js';

/** A bus whose publishes settle when the test says, with a backlog figure the test sets. */
class SlowBus implements Bus {
  readonly name = 'slow';
  backlog = 0;
  published: Envelope[] = [];
  private readonly waiting: (() => void)[] = [];
  async start(_h: BusHandler): Promise<void> {}
  private later(env: Envelope): Promise<void> {
    this.published.push(env);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  publishToUser(env: Envelope): Promise<void> {
    return this.later(env);
  }
  publishToTopic(env: Envelope): Promise<void> {
    return this.later(env);
  }
  async publishControl(): Promise<void> {}
  backlogBytes(): number {
    return this.backlog;
  }
  settleAll(): void {
    for (const r of this.waiting.splice(0)) r();
  }
  async close(): Promise<void> {}
}

const from = { userId: 'alice', deviceId: 'laptop' };
const payload = new TextEncoder().encode('p');
const send = (r: MessageRouter, i: number, qos: 0 | 1 = 1): Promise<AppendResult> =>
  r.send(from, { toUser: 'bob', payload, qos, clientMsgId: `m${i}`, ephemeral: false });

/** The refusal of `attempt`: thrown at once (109 BUSY) or as a rejection. */
async function refusedWith(attempt: () => Promise<unknown>): Promise<RequestError> {
  try {
    await attempt();
  } catch (err) {
    if (err instanceof RequestError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('MessageRouter under overload (docs/architecture.md, "Backpressure")', () => {
  let real: MemoryMessageStore;
  let gated: GatedStore;
  let bus: SlowBus;
  let metrics: Metrics;

  function makeRouter(maxPendingAppends: number, maxBusBacklogBytes = Infinity): MessageRouter {
    return new MessageRouter({
      nodeId: 'n1',
      store: gated.store,
      bus,
      metrics,
      logger: silentLogger(),
      maxPendingAppends,
      maxBusBacklogBytes,
    });
  }

  beforeEach(() => {
    real = new MemoryMessageStore({
      nodeId: 'n1',
      maxMessagesPerLog: 100,
      retentionMs: 3_600_000,
      dedupWindowMs: 60_000,
      maxBytes: 1 << 20,
      sweepIntervalMs: 0,
    });
    gated = new GatedStore(real);
    bus = new SlowBus();
    metrics = new Metrics({ defaultMetrics: false });
  });
  afterEach(async () => {
    await real.close();
  });

  it('answers QoS 1 beyond store.maxPendingAppends with 109 BUSY and stores nothing of it', async () => {
    const router = makeRouter(3);
    const accepted = [0, 1, 2].map((i) => send(router, i));
    // Thrown, not rejected: a session sets its retry hold before it looks at the next frame of a read.
    let err: RequestError | undefined;
    try {
      void send(router, 3).catch(() => {});
    } catch (e) {
      err = e as RequestError;
    }
    expect(err, 'the 109 is thrown synchronously').to.be.instanceOf(RequestError);
    if (err === undefined) return;
    expect(err.replyCode).to.equal(ReplyCode.BUSY);
    expect(err.retryable).to.equal(true);
    expect(err.retryAfterMs).to.be.greaterThan(0);
    expect(gated.started, 'the refused message never reached the store').to.equal(3);
    gated.releaseAll();
    const acks = await Promise.all(accepted);
    expect(acks.map((a) => a.seq)).to.deep.equal([1, 2, 3]);
    expect(await real.lastUserSeq('bob')).to.equal(3);
    router.flushMetrics();
    expect((await metrics.overload.get()).values).to.deep.include({ labels: { action: 'busy' }, value: 1 });
    expect(router.overloadStats()).to.deep.include({
      busyRefusals: 1,
      pendingAppendsPeak: 3,
      maxPendingAppends: 3,
    });
  });

  it('holds the slot until the forward settles, not only until the SendAck', async () => {
    const router = makeRouter(1);
    gated.releaseAll();
    const ack = await send(router, 1);
    expect(ack.seq).to.equal(1);
    expect(bus.published).to.have.length(1);
    expect(router.overloadStats().pendingAppends, 'forward still in flight').to.equal(1);
    expect((await refusedWith(() => send(router, 2))).replyCode).to.equal(ReplyCode.BUSY);
    bus.settleAll();
    await settle();
    expect(router.overloadStats().pendingAppends).to.equal(0);
    expect((await send(router, 3)).seq).to.equal(2);
  });

  it('gives the slot back when the append fails (a StoreError, not a leak)', async () => {
    const router = makeRouter(1);
    gated.releaseAll();
    await real.close(); // every append now fails
    expect(await send(router, 1).catch((e: unknown) => e)).to.be.instanceOf(StoreError);
    expect(router.overloadStats().pendingAppends).to.equal(0);
  });

  it('sheds QoS 0 while the bus backlog is over redis.maxBacklogBytes: 109, nothing published, counted', async () => {
    const router = makeRouter(10, 1000);
    bus.backlog = 1001;
    const err = await refusedWith(() => send(router, 1, 0));
    expect(err.replyCode).to.equal(ReplyCode.BUSY);
    expect(bus.published).to.have.length(0);
    bus.backlog = 1000;
    const sent = send(router, 2, 0);
    expect(bus.published).to.have.length(1);
    bus.settleAll();
    expect((await sent).seq).to.equal(0);
    router.flushMetrics();
    expect((await metrics.overload.get()).values).to.deep.include({ labels: { action: 'shed' }, value: 1 });
    expect(router.overloadStats().shedQos0).to.equal(1);
  });
});
