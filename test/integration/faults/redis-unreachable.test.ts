/**
 * Fault: Redis stops answering for 5 s (SIGSTOP; its connections stay open, so commands wait instead
 * of failing) in the middle of a QoS-1 load across two nodes, then carries on (SIGCONT). Sends wait
 * for their SendAck meanwhile; afterwards everything flows again. Nothing acked is lost, nothing is
 * delivered twice, and no loss is reported (the same Redis process, with its data, comes back).
 */
import { expect } from 'chai';
import type { GatewayProcess } from '../../helpers/gateway-process.js';
import { QosLoad } from '../../helpers/qos-load.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { dumpLogs, report, startFaultNode, sumMetric, TIME_FACTOR } from './support.js';

/** How long Redis is stopped: the length of the fault under test, not a wait for anything. */
const OUTAGE_MS = 5000;

describe('fault: Redis unreachable for 5 s mid-stream', function () {
  this.timeout(120_000 * TIME_FACTOR);
  let redis: RedisServer | undefined;
  let load: QosLoad | undefined;
  const nodes: GatewayProcess[] = [];

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpLogs(nodes);
    redis?.resume();
    await load?.close();
    for (const n of nodes.splice(0)) await n.cleanup();
    await redis?.stop();
  });

  it('loses nothing and duplicates nothing once Redis answers again', async () => {
    redis = await startRedisServer();
    nodes.push(await startFaultNode(redis.url, 'stop-n1'), await startFaultNode(redis.url, 'stop-n2'));
    load = await QosLoad.start({
      nodes: nodes.map((n) => n.urls),
      pairs: 8,
      ratePerPair: 40,
      prefix: 'stop',
    });
    await load.ackedAtLeast(400);
    redis.pause();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    redis.resume();
    const after = load.mark();
    await load.ackedAtLeast(load.acked + 600);
    const tally = await load.finish();
    report('Redis unreachable for 5 s', load.line());
    expect(tally.lost, 'acked messages never delivered').to.equal(0);
    expect(tally.duplicated, 'messages the application got twice').to.equal(0);
    expect(load.lostSentAfter(after)).to.deep.equal([]);
    expect(await sumMetric(nodes, 'ferry_store_data_loss_total')).to.equal(0);
  });
});
