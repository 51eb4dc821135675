/**
 * Dispatcher, Upstreams and the gRPC and Redis transports against hand-written fakes: an
 * in-memory transport whose answers the test controls, fake instance links, a fake Redis.
 */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ReplyCode, RequestError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Dispatcher, retryDelayMs, type DispatchSettings } from '../../../src/upstream/dispatcher.js';
import { GatewayUpstream } from '../../../src/upstream/gateway-upstream.js';
import type { GatewayMessageOut } from '../../../src/upstream/grpc-proto.js';
import { GrpcUpstream, type InstanceLink } from '../../../src/upstream/grpc-upstream.js';
import { RedisUpstream, serviceStreamKey } from '../../../src/upstream/redis-upstream.js';
import { RouteTable } from '../../../src/upstream/route-table.js';
import { UpstreamMetrics } from '../../../src/upstream/upstream-metrics.js';
import { Upstreams } from '../../../src/upstream/upstreams.js';
import type { UpstreamMessage, UpstreamTransport } from '../../../src/upstream/upstream-transport.js';

const log = silentLogger();
const settings = (over: Partial<DispatchSettings> = {}): DispatchSettings => ({
  batchSize: 3,
  batchMs: 0,
  bounds: { critical: 2, high: 2, normal: 2, low: 2 },
  maxInflightBatches: 1,
  maxAttempts: 3,
  retryBaseMs: 1,
  retryMaxMs: 2,
  ...over,
});
const msg = (n: number, over: Partial<UpstreamMessage> = {}): UpstreamMessage => ({
  msgId: `m${n}`,
  userId: `u${n}`,
  deviceId: 'd',
  sessionId: 's',
  nodeId: 'n',
  type: 1000,
  payload: new Uint8Array([n]),
  priority: 'normal',
  timestampMs: Date.now(),
  attempt: 1,
  ...over,
});

/** A transport that records batches and answers with `reject(batch)` (the messages not taken). */
class FakeTransport implements UpstreamTransport {
  readonly kind = 'grpc' as const;
  batches: UpstreamMessage[][] = [];
  hold: (() => void)[] = [];
  reject: (batch: UpstreamMessage[]) => UpstreamMessage[] = () => [];
  gated = false;
  send(_s: string, batch: UpstreamMessage[]): Promise<UpstreamMessage[]> {
    this.batches.push(batch.map((m) => ({ ...m })));
    if (!this.gated) return Promise.resolve(this.reject(batch));
    return new Promise((resolve) => this.hold.push(() => resolve(this.reject(batch))));
  }
  describe(): Record<string, unknown> {
    return { fake: true };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('upstream/dispatcher', () => {
  const dispatcher = (t: UpstreamTransport, s = settings()): Dispatcher =>
    new Dispatcher({
      service: 'svc',
      transport: t,
      settings: s,
      metrics: new UpstreamMetrics(new Registry()),
      logger: log,
    });

  it('batches by size, most urgent first, and resolves when the upstream takes them', async () => {
    const t = new FakeTransport();
    t.gated = true;
    const d = dispatcher(t);
    const done = [
      d.submit(msg(1)),
      d.submit(msg(2, { priority: 'low' })),
      d.submit(msg(3, { priority: 'critical' })),
      d.submit(msg(4)),
    ];
    await tick();
    expect(t.batches.map((b) => b.map((m) => m.msgId))).to.deep.equal([['m1']]);
    t.hold.shift()!();
    await tick();
    expect(t.batches[1]!.map((m) => m.msgId)).to.deep.equal(['m3', 'm4', 'm2']);
    t.hold.shift()!();
    await Promise.all(done);
    expect(d.stats()).to.include({ routed: 4, batches: 2, avgBatchSize: 2 });
  });

  it('waits batchMs for a partial batch, then sends it', async () => {
    const t = new FakeTransport();
    const d = dispatcher(t, settings({ batchMs: 20, batchSize: 10 }));
    const p = d.submit(msg(1));
    await tick(2);
    expect(t.batches).to.have.length(0);
    await p;
    expect(t.batches).to.have.length(1);
  });

  it('answers BUSY (retryable) when the priority queue is full, never dropping silently', async () => {
    const t = new FakeTransport();
    t.gated = true;
    const d = dispatcher(t, settings({ batchSize: 1 }));
    const ok = [d.submit(msg(1)), d.submit(msg(2)), d.submit(msg(3))]; // 1 in flight + 2 queued
    const err = await d.submit(msg(4)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(RequestError);
    expect(err).to.include({ replyCode: ReplyCode.BUSY, retryable: true });
    expect(d.stats().failed.busy).to.equal(1);
    while (t.hold.length > 0 || d.backlog > 0) {
      t.hold.shift()?.();
      await tick();
    }
    await Promise.all(ok);
  });

  it('retries what was not taken with backoff, then fails with UNAVAILABLE', async () => {
    const t = new FakeTransport();
    t.reject = (b) => b.filter((m) => m.msgId === 'm2');
    const d = dispatcher(t);
    const [a, b] = [d.submit(msg(1)), d.submit(msg(2))];
    await a;
    const err = await b.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.include({ replyCode: ReplyCode.UNAVAILABLE, retryable: true });
    expect(
      t.batches
        .flat()
        .filter((m) => m.msgId === 'm2')
        .map((m) => m.attempt),
    ).to.deep.equal([1, 2, 3]);
    expect(d.stats()).to.include({ retried: 2, routed: 1 });
    expect(retryDelayMs(1, 100, 1000)).to.be.within(100, 125);
    expect(retryDelayMs(10, 100, 1000)).to.be.within(1000, 1250);
  });

  it('answers BUSY at once while the transport reports backpressure, and does not retry refused messages', async () => {
    const t = new FakeTransport();
    let busy = false;
    const bt = Object.assign(t, { busy: () => busy });
    const d = dispatcher(bt);
    busy = true;
    const atDoor = await d.submit(msg(1)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(atDoor).to.include({ replyCode: ReplyCode.BUSY, retryable: true });
    expect(t.batches).to.have.length(0);
    // Refused by the upstream (a queue at its cap) while it reports busy: BUSY now, not retried.
    busy = false;
    t.reject = (batch) => {
      busy = true;
      return batch;
    };
    const refused = await d.submit(msg(2)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).to.include({ replyCode: ReplyCode.BUSY });
    expect(t.batches).to.have.length(1);
    expect(d.stats()).to.deep.include({ failed: { busy: 2, unavailable: 0 }, retried: 0 });
  });

  it('close fails what is queued with UNAVAILABLE and refuses new messages', async () => {
    const t = new FakeTransport();
    t.gated = true;
    const d = dispatcher(t, settings({ batchSize: 1 }));
    d.submit(msg(1)).catch(() => undefined);
    const queued = d.submit(msg(2));
    d.close();
    await queued.then(
      () => expect.fail('resolved'),
      (e: unknown) => expect(e).to.include({ replyCode: ReplyCode.UNAVAILABLE }),
    );
    await d.submit(msg(3)).catch((e: unknown) => expect(e).to.include({ replyCode: ReplyCode.UNAVAILABLE }));
  });
});

describe('upstream/upstream-router', () => {
  const origin = { userId: 'alice', deviceId: 'd', sessionId: 's' };
  const req = (type: number, msgId: string) => ({ type, msgId, payload: new Uint8Array(0) });

  it('routes by table, answers NOT_FOUND for unrouted types, dedups by (user, msg id), reloads', async () => {
    const t = new FakeTransport();
    const sent: unknown[] = [];
    const gateway = new GatewayUpstream({
      nodeId: 'n1',
      replies: {
        send: (f, r) => (
          sent.push([f, r]),
          Promise.resolve({ serverId: '', seq: 0, timestampMs: 0, duplicate: false })
        ),
      },
    });
    const router = new Upstreams({
      nodeId: 'n1',
      table: RouteTable.build({ '1-9': 'logic' }, { logic: 'grpc' }),
      settings: settings(),
      dedupWindowMs: 60_000,
      transports: { grpc: t, gateway },
      registry: new Registry(),
      logger: log,
    });
    await router.start();
    expect(await router.route(origin, req(5, 'a'))).to.deep.equal({ service: 'logic', duplicate: false });
    expect(await router.route(origin, req(5, 'a'))).to.deep.equal({ service: 'logic', duplicate: true });
    expect(await router.route({ ...origin, userId: 'bob' }, req(5, 'a'))).to.include({ duplicate: false });
    await router.route(origin, req(50, 'b')).then(
      () => expect.fail('routed'),
      (e: unknown) => expect(e).to.include({ replyCode: ReplyCode.NOT_FOUND }),
    );
    expect(t.batches.flat()).to.have.length(2);
    expect(router.isGrpcService('logic')).to.equal(true);

    await router.reload(RouteTable.build({ '50': 'gateway:high' }, {}), settings(), 1000);
    expect(await router.route(origin, req(50, 'c'))).to.include({ service: 'gateway' });
    expect(sent).to.have.length(1);
    expect((sent[0] as [unknown, { clientMsgId: string }])[1].clientMsgId).to.equal('c@alice');
    await router
      .route(origin, req(5, 'd'))
      .catch((e: unknown) => expect(e).to.include({ replyCode: ReplyCode.NOT_FOUND }));
    await router.reload(RouteTable.build({ '7': 'chat' }, { chat: 'redis' }), settings(), 1000).then(
      () => expect.fail('reloaded'),
      (e: unknown) => expect(String(e)).to.match(/cannot reach/),
    );
    expect(router.routes.lookup(50)?.service, 'failed reload keeps the table').to.equal('gateway');
    const stats = router.stats() as {
      services: Record<string, { routed: number }>;
      noRoute: number;
      duplicates: number;
    };
    expect(stats.services.logic!.routed).to.equal(2);
    expect(stats).to.include({ noRoute: 2, duplicates: 1 });
    await router.close();
  });
});

describe('upstream/grpc-upstream', () => {
  class Link implements InstanceLink {
    written: GatewayMessageOut[] = [];
    ended = false;
    write(m: GatewayMessageOut): void {
      this.written.push(m);
    }
    end(): void {
      this.ended = true;
    }
    batchIds(): number[] {
      return this.written.map((w) => w.batch!.batchId);
    }
  }

  it('places users by the ring, resolves on ack, fails batches over when an instance leaves', async () => {
    const counts: number[] = [];
    const g = new GrpcUpstream({ ackTimeoutMs: 10_000, logger: log, onInstances: (_s, n) => counts.push(n) });
    expect(await g.send('svc', [msg(1)])).to.have.length(1); // no instance: nothing taken
    const [a, b] = [new Link(), new Link()];
    g.attach('svc', 'a', a);
    g.attach('svc', 'b', b);
    const batch = Array.from({ length: 20 }, (_, i) => msg(i));
    const p = g.send('svc', batch);
    const onA = a.written.flatMap((w) => w.batch!.messages.map((m) => m.userId));
    const onB = b.written.flatMap((w) => w.batch!.messages.map((m) => m.userId));
    expect(onA.length + onB.length).to.equal(20);
    for (const u of onA) expect(g.placement('svc', u)).to.equal('a');
    for (const u of onB) expect(g.placement('svc', u)).to.equal('b');
    g.ack('svc', 'a', a.batchIds()[0]!);
    g.ack('svc', 'a', 999); // unknown: ignored
    g.detach('svc', 'b', b);
    const notTaken = await p;
    expect(notTaken.map((m) => m.userId).sort()).to.deep.equal([...onB].sort());
    expect(g.instancesOf('svc')).to.deep.equal(['a']);
    expect(counts).to.deep.equal([1, 2, 1]);
  });

  it('gives a batch back after the ack timeout, and a reconnecting instance replaces its old stream', async () => {
    const g = new GrpcUpstream({ ackTimeoutMs: 10, logger: log });
    const old = new Link();
    g.attach('svc', 'a', old);
    const p = g.send('svc', [msg(1)]);
    const fresh = new Link();
    g.attach('svc', 'a', fresh);
    expect(old.ended).to.equal(true);
    expect(await p).to.have.length(1); // old stream's open batch failed over
    expect(await g.send('svc', [msg(2)])).to.have.length(1); // fresh never acks: timeout
    g.detach('svc', 'a', old); // a stale detach does nothing
    expect(g.instancesOf('svc')).to.deep.equal(['a']);
    expect((g.describe('svc').instances as unknown[]).length).to.equal(1);
    await g.close();
    expect(fresh.ended).to.equal(true);
  });
});

describe('upstream/redis-upstream', () => {
  it('XADDs each message to the service stream, creates the group once, reports failures as not taken', async () => {
    const calls: string[][] = [];
    let groups = 0;
    const redis = {
      call<T>(_key: string | undefined, args: unknown[]): Promise<T> {
        const a = args.map((x) => (Buffer.isBuffer(x) ? `<${x.length}B>` : String(x)));
        calls.push(a);
        if (a[0] === 'XGROUP' && groups++ > 0) return Promise.reject(new Error('BUSYGROUP exists'));
        if (a[0] === 'XGROUP') return Promise.resolve('OK' as T);
        if (a.includes('m2')) return Promise.reject(new Error('OOM'));
        return Promise.resolve('1-0' as T);
      },
    };
    const r = new RedisUpstream({ redis, keyPrefix: 'ferry', streamMaxLen: 1000, logger: log });
    await r.prepare('chat');
    await r.prepare('chat');
    expect(calls[0]).to.deep.equal(['XGROUP', 'CREATE', 'ferry:svc:{chat}:in', 'chat', '0', 'MKSTREAM']);
    const notTaken = await r.send('chat', [msg(1), msg(2)]);
    expect(notTaken.map((m) => m.msgId)).to.deep.equal(['m2']);
    const xadd = calls.find((c) => c[0] === 'XADD')!;
    expect(xadd.slice(0, 6)).to.deep.equal(['XADD', 'ferry:svc:{chat}:in', 'MAXLEN', '~', '1000', '*']);
    expect(xadd).to.include.members(['msg_id', 'm1', 'user', 'u1', 'type', '1000', 'payload', '<1B>']);
    expect(r.describe('chat')).to.deep.equal({
      stream: serviceStreamKey('ferry', 'chat'),
      group: 'chat',
      xaddErrors: 1,
    });
    const bad = new RedisUpstream({
      redis: { call: () => Promise.reject(new Error('NOPERM')) },
      keyPrefix: 'f',
      streamMaxLen: 1,
      logger: log,
    });
    await bad.prepare('x').then(
      () => expect.fail('prepared'),
      (e: unknown) => expect(String(e)).to.match(/NOPERM/),
    );
  });
});
