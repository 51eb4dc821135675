/**
 * Fault: Redis with the append-only file (fsync always) is killed and restarted in the middle of a
 * QoS-1 load across two nodes. Nothing acked is lost, nothing is delivered twice, including what was
 * stored for a receiver that was offline across the restart; each node notices that another Redis
 * process answers (run_id), audits its recent appends, finds none missing and claims no loss.
 */
import { expect } from 'chai';
import type { GatewayProcess } from '../../helpers/gateway-process.js';
import { QosLoad } from '../../helpers/qos-load.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { dumpLogs, report, startFaultNode, sumMetric, TIME_FACTOR } from './support.js';

const CHANGED_LINE = /^Redis changed under this node/;

describe('fault: Redis restarts with AOF mid-stream', function () {
  this.timeout(120_000 * TIME_FACTOR);
  let redis: RedisServer | undefined;
  let load: QosLoad | undefined;
  const nodes: GatewayProcess[] = [];

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpLogs(nodes);
    await load?.close();
    for (const n of nodes.splice(0)) await n.cleanup();
    await redis?.stop();
  });

  it('loses nothing, duplicates nothing, and reports no loss', async () => {
    redis = await startRedisServer({ appendonly: true });
    nodes.push(await startFaultNode(redis.url, 'aof-n1'), await startFaultNode(redis.url, 'aof-n2'));
    load = await QosLoad.start({ nodes: nodes.map((n) => n.urls), pairs: 8, ratePerPair: 40, prefix: 'aof' });
    await load.ackedAtLeast(300);
    await load.receiverOffline(0);
    await load.ackedAtLeast(load.acked + 300); // some of them stored for pair 0's offline receiver
    const audited = nodes.map((n) =>
      n.waitForLog((l) => CHANGED_LINE.test(String(l.msg)), 30_000 * TIME_FACTOR),
    );
    await redis.kill9();
    await redis.restart();
    const after = load.mark();
    const lines = await Promise.all(audited);
    await load.receiverOnline(0);
    await load.ackedAtLeast(load.acked + 400);
    const tally = await load.finish();
    const reported = await sumMetric(nodes, 'ferry_store_messages_lost_total');
    report('redis restart with AOF', `${load.line()} reported_lost=${reported}`);
    expect(tally.lost, 'acked messages never delivered').to.equal(0);
    expect(tally.duplicated, 'messages the application got twice').to.equal(0);
    expect(load.lostSentAfter(after)).to.deep.equal([]);
    expect(reported, 'a restart that kept everything is not reported as a loss').to.equal(0);
    expect(await sumMetric(nodes, 'ferry_store_data_loss_total')).to.equal(0);
    for (const l of lines) expect(l).to.include({ serversChanged: 1, messages: 0, users: 0 });
    for (const n of nodes)
      expect(n.logs.filter((l) => /^Redis lost data/.test(String(l.msg)))).to.deep.equal([]);
  });
});
