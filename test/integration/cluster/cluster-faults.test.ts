import { expect } from 'chai';
import type { GatewayProcess } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import type { WireClient } from '../../helpers/wire-client.js';
import { bytes, login, metricValue, sendQos1, sendUntilAcked, startNode, text } from './support.js';

// A node crash and Redis restarts under a QoS-1 load are the scenarios of test/integration/faults/.
describe('cluster faults: Redis down', function () {
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

  it('while Redis is down: local delivery works, QoS 0 is acked and its lost forwards counted, QoS-1 sends get 107 retryable; then it recovers', async () => {
    const n1 = await startNode(['--redis', redis.url], 'd-n1');
    nodes.push(n1);
    const a = track(await login(n1.urls.ws, 'd-a'));
    const b = track(await login(n1.urls.tcp, 'd-b'));
    const logged = n1.logs.length;
    await redis.kill9();
    // The node's main link logs the lost connection (node-redis clears its ready flag before it emits
    // the error): from then on /metrics reports Redis down.
    await n1.waitForLog(
      (l) =>
        n1.logs.indexOf(l) >= logged &&
        l.msg === 'redis connection error; retrying' &&
        l.link === 'ferry-d-n1',
    );
    expect(await metricValue(n1, 'ferry_cluster_redis_up')).to.equal(0);

    const localId = a.send({ send: { toUser: 'd-b', payload: bytes('still here'), qos: 0 } });
    expect(text((await b.nextBody('deliver')).deliver?.payload)).to.equal('still here');
    expect((await a.next((f) => f.id === localId)).body).to.equal('sendAck');
    // QoS 0 to a user on no known node: acked at once (at most once), the failed forward counted and logged.
    const beforeLoss = n1.logs.length;
    const lostId = a.send({ send: { toUser: 'd-elsewhere', payload: bytes('lost'), qos: 0 } });
    expect((await a.next((f) => f.id === lostId)).body).to.equal('sendAck');
    await n1.waitForLog((l) => n1.logs.indexOf(l) >= beforeLoss && l.component === 'router' && l.lost === 1);
    expect(await metricValue(n1, 'ferry_messages_dropped_total', 'reason="forward_failed"')).to.equal(1);

    const refused = await sendQos1(a, 'd-b', 'must not be lost', 'q1');
    expect(refused.body).to.equal('error');
    expect(refused.error?.code).to.equal(107);
    expect(refused.error?.retryable).to.equal(true);
    expect(await metricValue(n1, 'ferry_cluster_redis_errors_total')).to.be.greaterThan(0);

    await redis.restart();
    const seq = await sendUntilAcked(a, 'd-b', 'must not be lost', 'q1');
    const d = await b.next((f) => f.body === 'deliver' && f.deliver?.seq === seq, 10_000);
    expect(text(d.deliver?.payload)).to.equal('must not be lost');
    // The append that was acked went over the same connection the gauge reports on.
    expect(await metricValue(n1, 'ferry_cluster_redis_up')).to.equal(1);
  });
});
