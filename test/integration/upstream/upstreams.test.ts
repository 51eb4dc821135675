/**
 * Routing client ServiceRequests to business services, end to end: a real `ferry start` with Redis
 * and the gRPC port, a real Redis-stream consumer service and real gRPC service instances (separate
 * processes), real WebSocket clients. Covers routing by type, replies, dedup, consistent placement,
 * rebalancing on join, failover when an instance dies, backpressure when a service stalls, and
 * reloading the route table (SIGHUP and POST /routes/reload) without dropping connections.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ReplyCode } from '../../../src/errors.js';
import type { Frame } from '../../../src/protocol/codec.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { WireClient } from '../../helpers/wire-client.js';
import { ServiceProcess } from './support.js';

const API_KEY = 'upstream-test-key-0123456789abcdef';
const USERS = Array.from({ length: 24 }, (_, i) => `user-${i}`);

function baseConfig(extraRoutes: Record<string, string> = {}): Record<string, unknown> {
  return {
    routes: { '1000-1999': 'logic', '2000-2999': 'chat', '9000-9999': 'gateway', ...extraRoutes },
    upstream: {
      services: { logic: 'grpc', chat: 'redis' },
      batchSize: 4,
      batchMs: 1,
      queueNormal: 12,
      maxInflightBatches: 1,
      maxAttempts: 3,
      retryBaseMs: 50,
      retryMaxMs: 200,
      ackTimeoutMs: 1000,
    },
  };
}

let msgCounter = 0;
/** Sends a ServiceRequest; resolves with its answer (ServiceAck or Error). */
async function request(c: WireClient, type: number, msgId = `m${++msgCounter}`): Promise<Frame> {
  const id = c.send({ serviceRequest: { type, payload: new TextEncoder().encode(msgId), msgId } });
  return c.next((f) => f.id === id && (f.body === 'serviceAck' || f.body === 'error'), 15_000);
}

/** The Deliver answering `msgId` (client_msg_id "<msgId>@<user>"). */
function reply(c: WireClient, msgId: string, user: string): Promise<Frame> {
  return c.next((f) => f.body === 'deliver' && f.deliver?.clientMsgId === `${msgId}@${user}`, 10_000);
}

describe('upstream routing to business services (real processes)', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let gw: GatewayProcess;
  let configPath: string;
  const instances = new Map<string, ServiceProcess>();
  let consumer: ServiceProcess;
  const clients = new Map<string, WireClient>();

  const startInstance = async (id: string): Promise<ServiceProcess> => {
    const p = ServiceProcess.start('grpc-instance', {
      TARGET: gw.urls.grpc,
      API_KEY,
      SERVICE: 'logic',
      INSTANCE_ID: id,
    });
    await p.waitFor((e) => e.event === 'welcome');
    instances.set(id, p);
    return p;
  };

  before(async () => {
    redis = await startRedisServer();
    configPath = join(mkdtempSync(join(tmpdir(), 'ferry-upstream-')), 'ferry.json');
    writeFileSync(configPath, JSON.stringify(baseConfig()));
    gw = await GatewayProcess.start(
      ['--config', configPath, '--redis', redis.url, '--access-api-key', API_KEY],
      { grpc: true },
    );
    consumer = ServiceProcess.start('redis-consumer', {
      REDIS_URL: redis.url,
      STREAM: 'ferry:svc:{chat}:in',
      GROUP: 'chat',
      CONSUMER: 'c1',
      ACCESS_TARGET: gw.urls.grpc,
      API_KEY,
      FROM_USER: 'chat',
    });
    await consumer.waitFor((e) => e.event === 'ready');
    for (const u of USERS) clients.set(u, await WireClient.login(gw.urls.ws, await testToken(u)));
  });

  after(async () => {
    for (const c of clients.values()) c.destroy();
    for (const p of instances.values()) await p.kill();
    await consumer?.kill();
    await gw?.cleanup();
    await redis?.stop();
  });

  it('routes by type: gateway echo, gRPC service and Redis-stream service each answer the client', async () => {
    await startInstance('a');
    const alice = clients.get('user-0')!;

    const g = await request(alice, 9001, 'echo-1');
    expect(g.serviceAck).to.include({ msgId: 'echo-1', service: 'gateway', duplicate: false });
    const gr = await reply(alice, 'echo-1', 'user-0');
    expect(gr.deliver).to.include({ fromUser: 'gateway', fromService: 'gateway' });
    expect(new TextDecoder().decode(gr.deliver?.payload)).to.equal('echo-1');

    const l = await request(alice, 1234, 'logic-1');
    expect(l.serviceAck).to.include({ service: 'logic', duplicate: false });
    // from_service (which no client can set) names the service: how a client trusts the answer.
    expect((await reply(alice, 'logic-1', 'user-0')).deliver).to.include({
      fromUser: 'logic',
      fromDevice: 'a',
      fromService: 'logic',
    });
    expect(instances.get('a')!.messages.find((m) => m.msgId === 'logic-1')).to.include({ type: 1234 });

    const c = await request(alice, 2500, 'chat-1');
    expect(c.serviceAck).to.include({ service: 'chat', duplicate: false });
    // A Redis-stream service answers through Push: from_service is its API key's name.
    expect((await reply(alice, 'chat-1', 'user-0')).deliver).to.include({
      fromUser: 'chat',
      fromService: 'default',
    });
    expect(consumer.messages.find((m) => m.msgId === 'chat-1')).to.include({ userId: 'user-0', type: 2500 });

    const none = await request(alice, 5000);
    expect(none.error).to.include({ code: ReplyCode.NOT_FOUND, retryable: false });
  });

  it('deduplicates a resent msg_id: acked as duplicate, delivered to the service once', async () => {
    const bob = clients.get('user-1')!;
    expect((await request(bob, 1001, 'dup-1')).serviceAck?.duplicate).to.equal(false);
    expect((await request(bob, 1001, 'dup-1')).serviceAck?.duplicate).to.equal(true);
    await reply(bob, 'dup-1', 'user-1');
    const seen = [...instances.values()].flatMap((p) => p.messages).filter((m) => m.msgId === 'dup-1');
    expect(seen).to.have.length(1);
  });

  it('places each user on one instance by consistent hashing, and moves only some users when one joins', async () => {
    await startInstance('b');
    const placed = async (): Promise<Map<string, string[]>> => {
      const marks = new Map([...instances].map(([id, p]) => [id, p.messages.length]));
      for (let round = 0; round < 2; round++)
        for (const u of USERS) expect((await request(clients.get(u)!, 1500)).body).to.equal('serviceAck');
      const where = (u: string): string[] =>
        [...instances]
          .filter(([id, p]) => p.messages.slice(marks.get(id)).some((m) => m.userId === u))
          .map(([id]) => id);
      return new Map(USERS.map((u) => [u, where(u)]));
    };
    const before = await placed();
    for (const u of USERS) expect(before.get(u), u).to.have.length(1);
    const onB = USERS.filter((u) => before.get(u)![0] === 'b');
    expect(onB.length, 'both instances get users').to.be.within(1, USERS.length - 1);

    await startInstance('c');
    const after = await placed();
    for (const u of USERS) expect(after.get(u), u).to.have.length(1);
    const moved = USERS.filter((u) => after.get(u)![0] !== before.get(u)![0]);
    expect(moved.length, 'some users move to the new instance').to.be.greaterThan(0);
    expect(moved.length, 'most users stay').to.be.lessThan(USERS.length / 2);
    // Consistent hashing: a user only ever moves to the instance that joined.
    for (const u of moved) expect(after.get(u), u).to.deep.equal(['c']);
  });

  /**
   * Resolves once an instance has reported message `msgId` on its event stream: it acks the batch
   * before that line reaches this process, so a ServiceAck can arrive first.
   */
  const reported = (msgId: string): Promise<unknown> =>
    Promise.any([...instances.values()].map((p) => p.waitFor((e) => e.event === 'msg' && e.msgId === msgId)));

  it('fails over when an instance dies: its users are served by the others, nothing is lost', async () => {
    const victim = instances.get('b')!;
    for (const u of USERS) await request(clients.get(u)!, 1600, `probe-${u}`);
    const victimUsers = USERS.filter((u) => victim.messages.some((m) => m.msgId === `probe-${u}`));
    expect(victimUsers.length).to.be.greaterThan(0);
    // A message in flight to b when it dies (b holds it unacked) is sent again to the new owner.
    victim.command('stall');
    await victim.waitFor((e) => e.event === 'mode' && e.stalled === true);
    const inFlight = request(clients.get(victimUsers[0]!)!, 1600, 'in-flight');
    await victim.waitFor((e) => e.event === 'held' && (e.msgIds as string[]).includes('in-flight'));
    await victim.kill();
    instances.delete('b');
    expect((await inFlight).body).to.equal('serviceAck');
    await reported('in-flight');
    const holder = [...instances].filter(([, p]) => p.messages.some((m) => m.msgId === 'in-flight'));
    expect(holder.map(([id]) => id)).to.have.length(1);
    expect(holder[0]![1].messages.find((m) => m.msgId === 'in-flight')?.attempt).to.equal(2);
    for (const u of victimUsers) {
      const id = `after-kill-${u}`;
      expect((await request(clients.get(u)!, 1700, id)).body).to.equal('serviceAck');
      await reply(clients.get(u)!, id, u);
      await reported(id);
      const holders = [...instances].filter(([, p]) => p.messages.some((m) => m.msgId === id));
      expect(holders, u).to.have.length(1);
    }
  });

  it('pushes back with retryable BUSY when the service stalls, and answers every request', async () => {
    for (const p of instances.values()) p.command('stall');
    await Promise.all(
      [...instances.values()].map((p) => p.waitFor((e) => e.event === 'mode' && e.stalled === true)),
    );
    const u = clients.get('user-2')!;
    const answers: Frame[] = [];
    let busySeen!: () => void;
    const firstBusy = new Promise<void>((resolve) => (busySeen = resolve));
    const pending = Array.from({ length: 30 }, (_, i) =>
      request(u, 1900, `stall-${i}`).then((f) => {
        answers.push(f);
        if (f.error?.code === ReplyCode.BUSY) busySeen();
      }),
    );
    // 1 batch of 4 in flight + 12 queued: the rest must be refused at once, while the service hangs.
    await firstBusy;
    for (const p of instances.values()) p.command('resume');
    await Promise.all(pending);
    expect(answers).to.have.length(30);
    const busy = answers.filter((f) => f.error?.code === ReplyCode.BUSY);
    expect(busy.length).to.be.greaterThan(0);
    for (const f of busy) expect(f.error).to.include({ retryable: true });
    const acked = answers.filter((f) => f.body === 'serviceAck');
    expect(acked.length, 'accepted messages are delivered once the service resumes').to.be.greaterThan(0);
    for (const f of answers)
      expect(f.body === 'serviceAck' || f.error?.retryable === true, JSON.stringify(f)).to.equal(true);
  });

  it('reloads the route table on SIGHUP and POST /routes/reload without dropping connections', async () => {
    const u = clients.get('user-3')!;
    expect((await request(u, 3001)).error?.code).to.equal(ReplyCode.NOT_FOUND);
    writeFileSync(configPath, JSON.stringify(baseConfig({ '3000-3999': 'gateway:high' })));
    const reloaded = gw.waitForLog((rec) => rec.msg === 'routes reloaded (SIGHUP)');
    gw.proc.kill('SIGHUP');
    await reloaded;
    const answer = await request(u, 3001);
    expect(answer.serviceAck?.service).to.equal('gateway');

    writeFileSync(configPath, JSON.stringify(baseConfig({ '1500-3500': 'gateway' })));
    const bad = await fetch(`${gw.urls.admin}/routes/reload`, { method: 'POST', headers: gw.adminHeaders() });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { errors: string[] }).errors.join('\n')).to.match(/overlap/);
    expect((await request(u, 3001)).serviceAck?.service, 'old table still in force').to.equal('gateway');

    writeFileSync(configPath, JSON.stringify(baseConfig({ '4000': 'logic:critical' })));
    const ok = await fetch(`${gw.urls.admin}/routes/reload`, { method: 'POST', headers: gw.adminHeaders() });
    expect(ok.status).to.equal(200);
    const critical = await request(u, 4000);
    expect(critical.serviceAck?.service, JSON.stringify(critical)).to.equal('logic');
    expect((await request(u, 3001)).error?.code).to.equal(ReplyCode.NOT_FOUND);
    expect(u.closed).to.equal(false);
  });

  it('reports routed, failed, retried, queue depth, batch sizes and latency in /stats and /metrics', async () => {
    const stats = JSON.parse((await gw.admin('/stats')).body) as {
      upstream: {
        services: Record<
          string,
          {
            routed: number;
            failed: { busy: number };
            retried: number;
            queued: object;
            avgBatchSize: number;
            latencyMs: object;
          }
        >;
      };
    };
    const logic = stats.upstream.services.logic!;
    expect(logic.routed).to.be.greaterThan(0);
    expect(logic.failed.busy).to.be.greaterThan(0);
    expect(logic.retried).to.be.greaterThan(0);
    expect(logic.queued).to.have.keys('critical', 'high', 'normal', 'low');
    expect(logic.avgBatchSize).to.be.greaterThan(0);
    expect(stats.upstream.services.chat!.routed).to.be.greaterThan(0);
    const metrics = (await gw.admin('/metrics')).body;
    expect(metrics).to.match(/ferry_upstream_routed_total\{service="logic"\} [1-9]/);
    expect(metrics).to.match(/ferry_upstream_failed_total\{service="logic",reason="busy"\} [1-9]/);
    expect(metrics).to.match(/ferry_upstream_retried_total\{service="logic"\} [1-9]/);
    expect(metrics).to.include('ferry_upstream_queue_depth{service="logic",priority="normal"}');
    expect(metrics).to.match(/ferry_upstream_batch_size_count\{service="chat"\} [1-9]/);
    expect(metrics).to.match(/ferry_upstream_latency_seconds_count\{service="logic"\} [1-9]/);
    expect(metrics.split('\n').filter((l) => l.startsWith('ferry_upstream_instances'))).to.deep.equal([
      'ferry_upstream_instances{service="logic"} 2',
    ]);
  });
});
