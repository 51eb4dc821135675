import { expect } from 'chai';
import { eventually } from '../../conformance/eventually.js';
import type { GatewayProcess } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import type { WireClient } from '../../helpers/wire-client.js';
import { bytes, login, metricValue, Receiver, sendQos1, sendUntilAcked, startNode, text } from './support.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('cluster faults: node crash, Redis restart, Redis down', function () {
  this.timeout(90_000);
  let redis: RedisServer;
  const nodes: GatewayProcess[] = [];
  const clients: WireClient[] = [];
  const track = (c: WireClient): WireClient => (clients.push(c), c);

  beforeEach(async () => {
    // Append-only with fsync always: a restarted Redis keeps every acked QoS-1 message.
    redis = await startRedisServer({ appendonly: true });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const n of nodes)
        console.error(JSON.stringify(n.logs.filter((l) => Number(l.level) >= 40).slice(-15)));
    }
    for (const c of clients.splice(0)) c.destroy();
    for (const n of nodes.splice(0)) await n.cleanup();
    await redis.stop();
  });

  it('kill -9 of a node while QoS-1 flows to its user: the user moves to another node and ends with every message exactly once', async () => {
    const n1 = await startNode(['--redis', redis.url], 'k-n1');
    const n2 = await startNode(['--redis', redis.url], 'k-n2');
    nodes.push(n1, n2);
    const sender = track(await login(n2.urls.ws, 'k-sender'));
    const receiver = new Receiver();
    receiver.attach(track(await login(n1.urls.tcp, 'k-rcv', 'phone')));
    const total = 150;
    const acked: number[] = [];
    for (let i = 0; i < 60; i++) acked.push(await sendUntilAcked(sender, 'k-rcv', `m${i}`, `c${i}`));
    await n1.kill();
    // Sent while node 1 still looks alive: these are forwarded into its inbox, which no one reads
    // until node 2 claims it.
    for (let i = 60; i < 100; i++) acked.push(await sendUntilAcked(sender, 'k-rcv', `m${i}`, `c${i}`));
    receiver.attach(track(await login(n2.urls.ws, 'k-rcv', 'phone', receiver.lastSeq)));
    for (let i = 100; i < total; i++) acked.push(await sendUntilAcked(sender, 'k-rcv', `m${i}`, `c${i}`));
    await eventually(() => {
      expect(receiver.bySeq.size).to.equal(total);
    }, 15_000);
    expect([...receiver.bySeq.keys()].sort((a, b) => a - b)).to.deep.equal(acked);
    for (const [i, seq] of acked.entries()) expect(receiver.bySeq.get(seq)).to.equal(`m${i}`);
    // Node 2 took over what was left in node 1's inbox.
    await eventually(async () => {
      expect(await metricValue(n2, 'ferry_cluster_reclaimed_total')).to.be.greaterThan(0);
    }, 15_000);
  });

  it('restarting Redis mid-stream loses no QoS-1 message', async () => {
    const n1 = await startNode(['--redis', redis.url], 'r-n1');
    const n2 = await startNode(['--redis', redis.url], 'r-n2');
    nodes.push(n1, n2);
    const sender = track(await login(n1.urls.ws, 'r-sender'));
    const receiver = new Receiver();
    receiver.attach(track(await login(n2.urls.ws, 'r-rcv')));
    const acked = new Map<number, string>();
    const send = async (i: number): Promise<void> => {
      acked.set(await sendUntilAcked(sender, 'r-rcv', `m${i}`, `c${i}`), `m${i}`);
    };
    for (let i = 0; i < 50; i++) await send(i);
    await redis.kill9();
    const restarted = sleep(500).then(() => redis.restart());
    // Sends during the outage are refused (retryable) and retried until Redis is back.
    for (let i = 50; i < 100; i++) await send(i);
    await restarted;
    await eventually(() => {
      expect(receiver.bySeq.size).to.equal(acked.size);
    }, 20_000);
    expect(new Map([...receiver.bySeq].sort((a, b) => a[0] - b[0]))).to.deep.equal(
      new Map([...acked].sort((a, b) => a[0] - b[0])),
    );
  });

  it('while Redis is down: local delivery works, QoS-1 sends get 107 retryable; then it recovers', async () => {
    const n1 = await startNode(['--redis', redis.url], 'd-n1');
    nodes.push(n1);
    const a = track(await login(n1.urls.ws, 'd-a'));
    const b = track(await login(n1.urls.tcp, 'd-b'));
    await redis.kill9();
    await eventually(async () => {
      expect(await metricValue(n1, 'ferry_cluster_redis_up')).to.equal(0);
    });

    a.send({ send: { toUser: 'd-b', payload: bytes('still here'), qos: 0 } });
    expect(text((await b.nextBody('deliver')).deliver?.payload)).to.equal('still here');

    const refused = await sendQos1(a, 'd-b', 'must not be lost', 'q1');
    expect(refused.body).to.equal('error');
    expect(refused.error?.code).to.equal(107);
    expect(refused.error?.retryable).to.equal(true);
    expect(await metricValue(n1, 'ferry_cluster_redis_errors_total')).to.be.greaterThan(0);

    await redis.restart();
    const seq = await sendUntilAcked(a, 'd-b', 'must not be lost', 'q1');
    const d = await b.next((f) => f.body === 'deliver' && f.deliver?.seq === seq, 10_000);
    expect(text(d.deliver?.payload)).to.equal('must not be lost');
    await eventually(async () => {
      expect(await metricValue(n1, 'ferry_cluster_redis_up')).to.equal(1);
    });
  });
});
