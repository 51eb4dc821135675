/**
 * Fault: Redis stops answering for 5 s (SIGSTOP; its connections stay open, so commands wait instead
 * of failing) in the middle of a QoS-1 load across two nodes, then carries on (SIGCONT). Sends wait
 * for their SendAck meanwhile; afterwards everything flows again. Nothing acked is lost, nothing is
 * delivered twice, and no loss is reported (the same Redis process, with its data, comes back).
 */
import { expect } from 'chai';
import { startRedisServer } from '../../helpers/redis-server.js';
import { report, startFaultNode, startLoad, sumMetric, TIME_FACTOR, useFaultScenario } from './support.js';

/** How long Redis is stopped: the length of the fault under test, not a wait for anything. */
const OUTAGE_MS = 5000;

describe('fault: Redis unreachable for 5 s mid-stream', function () {
  this.timeout(120_000 * TIME_FACTOR);
  const s = useFaultScenario();

  it('loses nothing and duplicates nothing once Redis answers again', async () => {
    const redis = (s.redis = await startRedisServer());
    s.nodes.push(await startFaultNode(redis.url, 'stop-n1'), await startFaultNode(redis.url, 'stop-n2'));
    const load = await startLoad(s, 'stop');
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
    expect(await sumMetric(s.nodes, 'ferry_store_data_loss_total')).to.equal(0);
  });
});
