/**
 * The AMQP upstream end to end: a RabbitMQ broker of this file's own (test/helpers/rabbitmq-server.ts),
 * real `ferry start` nodes clustered through a real redis-server, real amqplib consumer processes
 * (test/fixtures/upstream/amqp-consumer.mjs) and real WebSocket clients. Covers routing by type with
 * the headers and priorities services see, ServiceAck only after the broker's confirm, a consumer crash
 * (redelivery, one reply), BUSY under a stalled consumer and under a blocked connection, a broker
 * crash mid-stream (107 while down, no acked request lost), replies reaching a user on another node,
 * and /stats and /metrics per service.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { expect } from 'chai';
import { ReplyCode } from '../../../src/errors.js';
import type { Frame } from '../../../src/protocol/codec.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { startRabbitServer, type RabbitServer } from '../../helpers/rabbitmq-server.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { WireClient } from '../../helpers/wire-client.js';
import { ServiceProcess } from './support.js';

const QUEUE_CAP = 16;

function config(): Record<string, unknown> {
  return {
    routes: { '1000-1999': 'billing', '2000-2099': 'ledger:critical', '2100-2199': 'ledger:low' },
    upstream: {
      services: { billing: 'amqp', ledger: 'amqp' },
      batchSize: 4,
      batchMs: 1,
      maxInflightBatches: 2,
      maxAttempts: 3,
      retryBaseMs: 50,
      retryMaxMs: 200,
      amqp: { queueMaxLength: QUEUE_CAP },
    },
  };
}

let counter = 0;
/** Sends a ServiceRequest; resolves with its answer (ServiceAck or Error). */
async function request(c: WireClient, type: number, msgId = `a${++counter}`): Promise<Frame> {
  const id = c.send({ serviceRequest: { type, payload: new TextEncoder().encode(msgId), msgId } });
  return c.next((f) => f.id === id && (f.body === 'serviceAck' || f.body === 'error'), 20_000);
}

/** The Deliver answering `msgId` (client_msg_id "<msgId>@<user>"). */
function reply(c: WireClient, msgId: string, user: string): Promise<Frame> {
  return c.next((f) => f.body === 'deliver' && f.deliver?.clientMsgId === `${msgId}@${user}`, 15_000);
}

interface ServiceStats {
  kind: string;
  routed: number;
  failed: { busy: number; unavailable: number };
  retried: number;
  queue: string;
  connected: boolean;
  published: number;
  confirmed: number;
  refusedFull: number;
  replies: number;
  blocked: boolean;
  busy: boolean;
}

async function serviceStats(gw: GatewayProcess, service: string): Promise<ServiceStats> {
  const s = JSON.parse((await gw.admin('/stats')).body) as {
    upstream: { services: Record<string, ServiceStats> };
  };
  return s.upstream.services[service]!;
}

/** Polls /stats until `pred` holds: the gateway's own report of an event that has no frame. */
/**
 * Polls /stats until `pred` holds: only for a counter the node has no event for (a publish into a
 * stopped broker's socket, which nothing acknowledges and no log line reports per message).
 */
async function statsUntil(
  gw: GatewayProcess,
  service: string,
  pred: (s: ServiceStats) => boolean,
): Promise<ServiceStats> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await serviceStats(gw, service);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`stats never matched: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('AMQP upstream (real RabbitMQ, real consumers)', function () {
  this.timeout(120_000);
  let broker: RabbitServer;
  let redis: RedisServer;
  let gw: GatewayProcess;
  let other: GatewayProcess;
  const consumers: ServiceProcess[] = [];
  const byName = new Map<string, ServiceProcess>();
  const clients: WireClient[] = [];

  const consumer = async (service: string, instance: string): Promise<ServiceProcess> => {
    const p = ServiceProcess.start('amqp-consumer', {
      AMQP_URL: broker.url,
      QUEUE: `ferry.svc.${service}`,
      SERVICE: service,
      INSTANCE: instance,
      MAX_LENGTH: String(QUEUE_CAP),
    });
    consumers.push(p);
    byName.set(instance, p);
    await p.waitFor((e) => e.event === 'ready');
    return p;
  };
  const login = async (g: GatewayProcess, user: string): Promise<WireClient> => {
    const c = await WireClient.login(g.urls.ws, await testToken(user));
    clients.push(c);
    return c;
  };

  before(async () => {
    [broker, redis] = await Promise.all([startRabbitServer(), startRedisServer()]);
    const configPath = join(mkdtempSync(join(tmpdir(), 'ferry-amqp-')), 'ferry.json');
    writeFileSync(configPath, JSON.stringify(config()));
    gw = await GatewayProcess.start([
      '--config',
      configPath,
      '--redis',
      redis.url,
      '--node-id',
      'amqp-a',
      '--amqp-url',
      broker.url,
    ]);
    // A second node without the broker: replies reach its users through the cluster.
    other = await GatewayProcess.start(['--redis', redis.url, '--node-id', 'amqp-b']);
  });

  after(async () => {
    for (const c of clients) c.destroy();
    for (const p of consumers) await p.kill();
    await gw?.cleanup();
    await other?.cleanup();
    await broker?.stop();
    await redis?.stop();
  });

  it('routes by type to each service queue with headers and priorities; replies come back over AMQP', async () => {
    const billing = await consumer('billing', 'b1');
    const ledger = await consumer('ledger', 'l1');
    const alice = await login(gw, 'amqp-alice');

    const b = await request(alice, 1234, 'bill-1');
    expect(b.serviceAck).to.include({ msgId: 'bill-1', service: 'billing', duplicate: false });
    const r = await reply(alice, 'bill-1', 'amqp-alice');
    expect(r.deliver).to.include({ fromUser: 'billing', fromDevice: 'b1', fromService: 'billing' });
    expect(new TextDecoder().decode(r.deliver?.payload)).to.equal('bill-1');
    expect(billing.messages.find((m) => m.msgId === 'bill-1')).to.include({
      userId: 'amqp-alice',
      type: 1234,
      node: 'amqp-a',
      priority: 'normal',
      amqpPriority: 1,
      attempt: 1,
      persistent: true,
    });

    expect((await request(alice, 2050, 'led-crit')).serviceAck?.service).to.equal('ledger');
    expect((await request(alice, 2150, 'led-low')).serviceAck?.service).to.equal('ledger');
    await reply(alice, 'led-crit', 'amqp-alice');
    await reply(alice, 'led-low', 'amqp-alice');
    expect(ledger.messages.find((m) => m.msgId === 'led-crit')).to.include({ amqpPriority: 3 });
    expect(ledger.messages.find((m) => m.msgId === 'led-low')).to.include({ amqpPriority: 0 });
    expect(billing.messages.map((m) => m.msgId)).to.not.include('led-crit');

    expect((await request(alice, 5000)).error).to.include({ code: ReplyCode.NOT_FOUND });
  });

  it('sends ServiceAck only after the broker confirmed the publish', async () => {
    const bob = await login(gw, 'amqp-bob');
    const before = await serviceStats(gw, 'billing');
    broker.pause();
    try {
      const id = bob.send({ serviceRequest: { type: 1500, payload: new Uint8Array([1]), msgId: 'conf-1' } });
      // The gateway has published (and holds the request) while the broker cannot confirm.
      await statsUntil(gw, 'billing', (s) => s.published > before.published);
      expect(
        bob.frames.filter((f) => f.id === id),
        'no answer without a confirm',
      ).to.deep.equal([]);
      broker.resume();
      const ack = await bob.next((f) => f.id === id, 20_000);
      expect(ack.serviceAck, JSON.stringify(ack)).to.include({ service: 'billing', duplicate: false });
      await reply(bob, 'conf-1', 'amqp-bob');
    } finally {
      broker.resume();
    }
  });

  it('a consumer that crashes before its ack: RabbitMQ redelivers, the user gets one reply', async () => {
    const carol = await login(gw, 'amqp-carol');
    const b1 = byName.get('b1')!;
    b1.command('stall');
    await b1.waitFor((e) => e.event === 'mode' && e.stalled === true);
    const crashing = await consumer('billing', 'crashy');
    crashing.command('crash-next');
    await crashing.waitFor((e) => e.event === 'mode' && e.crashNext === true);

    expect((await request(carol, 1100, 'crash-1')).serviceAck?.service).to.equal('billing');
    await crashing.waitFor((e) => e.event === 'crashing' && e.msgId === 'crash-1');
    const heir = await consumer('billing', 'heir');
    await heir.waitFor((e) => e.event === 'msg' && e.msgId === 'crash-1');
    expect(heir.messages.find((m) => m.msgId === 'crash-1')).to.include({ redelivered: true });

    // Replies are taken in order from one queue: once the next answer is here, both of crash-1's are
    // through the gateway, and the store's dedup let one of them reach the user.
    await request(carol, 1100, 'crash-2');
    await reply(carol, 'crash-1', 'amqp-carol');
    await reply(carol, 'crash-2', 'amqp-carol');
    expect(carol.frames.filter((f) => f.deliver?.clientMsgId === 'crash-1@amqp-carol')).to.have.length(0);
    expect((await serviceStats(gw, 'billing')).replies).to.be.greaterThanOrEqual(3);
  });

  it('pushes back with retryable BUSY while the consumer is stalled and its queue is full', async () => {
    const heir = byName.get('heir')!;
    heir.command('stall');
    await heir.waitFor((e) => e.event === 'mode' && e.stalled === true);
    const dave = await login(gw, 'amqp-dave');
    const answers: Frame[] = [];
    let busySeen!: () => void;
    const firstBusy = new Promise<void>((resolve) => (busySeen = resolve));
    const pending = Array.from({ length: 40 }, (_, i) =>
      request(dave, 1700, `stall-${i}`).then((f) => {
        answers.push(f);
        if (f.error?.code === ReplyCode.BUSY) busySeen();
      }),
    );
    await firstBusy;
    await Promise.all(pending);
    const busy = answers.filter((f) => f.error?.code === ReplyCode.BUSY);
    const acked = answers.filter((f) => f.body === 'serviceAck');
    expect(busy.length).to.be.greaterThan(0);
    for (const f of busy) expect(f.error).to.include({ retryable: true });
    for (const f of answers)
      expect(f.body === 'serviceAck' || f.error?.code === ReplyCode.BUSY).to.equal(true);
    expect(acked.length).to.be.at.most(QUEUE_CAP);
    heir.command('resume');
    const ackedIds = acked.map((f) => String(f.serviceAck?.msgId));
    await Promise.all(ackedIds.map((id) => reply(dave, id, 'amqp-dave')));
    expect((await serviceStats(gw, 'billing')).refusedFull).to.be.greaterThan(0);
  });

  it('answers BUSY while the broker blocks the connection (memory alarm)', async () => {
    const erin = await login(gw, 'amqp-erin');
    // The ledger service: billing may still be within its second of queue-full refusals from the
    // test before, which would answer BUSY for another reason than the one this test is about.
    const LEDGER = 2050;
    const since = Date.now();
    const fromNow = (msg: string) => (r: Record<string, unknown>) =>
      r.msg === msg && Date.parse(String(r.time)) >= since;
    await broker.ctl('set_vm_memory_high_watermark', '0');
    try {
      // The broker blocks a connection when it next publishes: that request waits for a confirm
      // that cannot come (`ackTimeoutMs`), and is answered BUSY like the ones after it.
      const first = await request(erin, LEDGER);
      expect(first.error, JSON.stringify(first)).to.include({ code: ReplyCode.BUSY, retryable: true });
      await gw.waitForLog(fromNow('the AMQP broker blocked publishing (flow control)'));
      expect((await request(erin, LEDGER)).error).to.include({ code: ReplyCode.BUSY });
    } finally {
      await broker.ctl('set_vm_memory_high_watermark', '0.4');
    }
    // Unblocked, and nothing else holds the service back: a channel that backed up while the
    // broker read nothing must have drained too (the node logs both).
    await gw.waitForLog(fromNow('the AMQP broker unblocked publishing'));
    if ((await serviceStats(gw, 'ledger')).busy)
      await gw.waitForLog(fromNow('the AMQP channel drained: publishing resumes'));
    const after = await request(erin, LEDGER, 'after-alarm');
    expect(after.serviceAck?.service, JSON.stringify(after)).to.equal('ledger');
  });

  it('a broker crash mid-stream: 107 while it is down, no acked request lost after it restarts', async () => {
    const frank = await login(gw, 'amqp-frank');
    const ids = Array.from({ length: 60 }, (_, i) => `crash-stream-${i}`);
    const acked = new Set<string>();
    let unavailable = 0;
    let reached10!: () => void;
    const tenAcked = new Promise<void>((r) => (reached10 = r));
    let saw107!: () => void;
    const first107 = new Promise<void>((r) => (saw107 = r));
    // Three senders, each resending a refused msg_id until it is acked (what a client does).
    const worker = async (mine: string[]): Promise<void> => {
      for (const id of mine) {
        for (;;) {
          const f = await request(frank, 1800, id);
          if (f.body === 'serviceAck') {
            acked.add(id);
            if (acked.size >= 10) reached10();
            break;
          }
          expect(f.error?.retryable, JSON.stringify(f)).to.equal(true);
          if (f.error?.code === ReplyCode.UNAVAILABLE) {
            unavailable++;
            saw107();
          }
        }
      }
    };
    const work = Promise.all([0, 1, 2].map((k) => worker(ids.filter((_, i) => i % 3 === k))));
    await tenAcked;
    await broker.kill9();
    await first107;
    await broker.restart();
    // The consumers died with the broker; what they had not taken, a fresh one finds in the queue
    // (until it drains the queue, which is at its cap, the senders hear BUSY).
    const fresh = await consumer('billing', 'after-restart');
    await work;
    expect(unavailable).to.be.greaterThan(0);
    expect(acked.size).to.equal(ids.length);
    const seen = (id: string): boolean =>
      consumers.some((c) => c !== fresh && c.messages.some((m) => m.msgId === id));
    await Promise.all(
      ids
        .filter((id) => !seen(id))
        .map((id) => fresh.waitFor((e) => e.event === 'msg' && e.msgId === id, 30_000)),
    );
  });

  it('delivers a reply to a user connected to another node, through the cluster', async () => {
    const grace = await login(other, 'amqp-grace');
    const conn = await amqp.connect(broker.url);
    try {
      const ch = await conn.createConfirmChannel();
      ch.sendToQueue('ferry.replies', Buffer.from('hello grace'), {
        headers: { service: 'billing', user_id: 'amqp-grace', reply_to: 'unprompted-1', qos: 1 },
      });
      await ch.waitForConfirms();
      // A reply naming no amqp service is refused (acked and counted, never delivered).
      ch.sendToQueue('ferry.replies', Buffer.from('forged'), {
        headers: { service: 'gateway', user_id: 'amqp-grace', qos: 1 },
      });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const d = await reply(grace, 'unprompted-1', 'amqp-grace');
    expect(d.deliver).to.include({ fromUser: 'billing', fromService: 'billing', fromDevice: 'amqp' });
    expect(new TextDecoder().decode(d.deliver?.payload)).to.equal('hello grace');
  });

  it('reports per-service counters in /stats and /metrics', async () => {
    const s = await serviceStats(gw, 'billing');
    expect(s).to.include({ kind: 'amqp', queue: 'ferry.svc.billing', connected: true });
    expect(s.routed).to.be.greaterThan(0);
    expect(s.failed.busy).to.be.greaterThan(0);
    expect(s.failed.unavailable).to.be.greaterThan(0);
    expect(s.confirmed).to.be.greaterThan(0);
    const all = JSON.parse((await gw.admin('/stats')).body) as { upstream: { amqpReplies: object } };
    expect(all.upstream.amqpReplies).to.include({ consuming: true });
    expect((all.upstream.amqpReplies as { invalid: number }).invalid).to.be.greaterThan(0);
    const metrics = (await gw.admin('/metrics')).body;
    expect(metrics).to.match(/ferry_upstream_routed_total\{service="billing"\} [1-9]/);
    expect(metrics).to.match(/ferry_upstream_failed_total\{service="billing",reason="busy"\} [1-9]/);
    expect(metrics).to.match(/ferry_upstream_failed_total\{service="billing",reason="unavailable"\} [1-9]/);
    expect(metrics).to.match(/ferry_upstream_latency_seconds_count\{service="ledger"\} [1-9]/);
  });
});
