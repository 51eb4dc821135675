/**
 * Fault: `kill -9` of one of two gateway nodes in the middle of a QoS-1 load. Its senders and
 * receivers move to the other node by themselves (the SDK knows both); senders re-send what was not
 * acked (the store deduplicates), receivers resume from their last processed seq, and the survivor
 * takes over the dead node's inbox. Nothing acked is lost, nothing is delivered twice, and Redis lost
 * nothing, so no loss is reported.
 */
import { expect } from 'chai';
import { startRedisServer } from '../../helpers/redis-server.js';
import { report, startFaultNode, startLoad, sumMetric, TIME_FACTOR, useFaultScenario } from './support.js';

describe('fault: kill -9 of a gateway node mid-stream', function () {
  this.timeout(120_000 * TIME_FACTOR);
  const s = useFaultScenario();

  it('loses nothing and duplicates nothing while every client moves to the surviving node', async () => {
    const redis = (s.redis = await startRedisServer());
    const [n1, n2] = [await startFaultNode(redis.url, 'kill-n1'), await startFaultNode(redis.url, 'kill-n2')];
    s.nodes.push(n1, n2);
    const load = await startLoad(s, 'kill');
    await load.ackedAtLeast(400);
    const cleanedUp = n2.waitForLog((l) => l.msg === 'dead node cleaned up' && l.dead === 'kill-n1');
    await n1.kill();
    const after = load.mark();
    // Node 2 took over node 1's inbox (re-routing what nobody read) and forgot it.
    await cleanedUp;
    await load.ackedAtLeast(load.acked + 400);
    const tally = await load.finish();
    const reclaimed = await sumMetric([n2], 'ferry_cluster_reclaimed_total');
    report('kill -9 of a node', `${load.line()} reclaimed=${reclaimed}`);
    expect(tally.lost, 'acked messages never delivered').to.equal(0);
    expect(tally.duplicated, 'messages the application got twice').to.equal(0);
    expect(load.lostSentAfter(after)).to.deep.equal([]);
    expect(await sumMetric([n2], 'ferry_store_data_loss_total')).to.equal(0);
  });
});
