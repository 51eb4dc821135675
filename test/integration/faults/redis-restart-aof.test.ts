/**
 * Fault: Redis with the append-only file (fsync always) is killed and restarted in the middle of a
 * QoS-1 load across two nodes. Nothing acked is lost, nothing is delivered twice, including what was
 * stored for a receiver that was offline across the restart; each node notices that another Redis
 * process answers (run_id), audits its recent appends, finds none missing and claims no loss.
 */
import { expect } from 'chai';
import { startRedisServer } from '../../helpers/redis-server.js';
import { report, startFaultNode, startLoad, sumMetric, TIME_FACTOR, useFaultScenario } from './support.js';

const CHANGED_LINE = /^Redis changed under this node/;

describe('fault: Redis restarts with AOF mid-stream', function () {
  this.timeout(120_000 * TIME_FACTOR);
  const s = useFaultScenario();

  it('loses nothing, duplicates nothing, and reports no loss', async () => {
    const redis = (s.redis = await startRedisServer({ appendonly: true }));
    s.nodes.push(await startFaultNode(redis.url, 'aof-n1'), await startFaultNode(redis.url, 'aof-n2'));
    const load = await startLoad(s, 'aof');
    await load.ackedAtLeast(300);
    await load.receiverOffline(0);
    await load.ackedAtLeast(load.acked + 300); // some of them stored for pair 0's offline receiver
    const audited = s.nodes.map((n) =>
      n.waitForLog((l) => CHANGED_LINE.test(String(l.msg)), 30_000 * TIME_FACTOR),
    );
    await redis.kill9();
    await redis.restart();
    const after = load.mark();
    const lines = await Promise.all(audited);
    await load.receiverOnline(0);
    await load.ackedAtLeast(load.acked + 400);
    const tally = await load.finish();
    const reported = await sumMetric(s.nodes, 'ferry_store_messages_lost_total');
    report('redis restart with AOF', `${load.line()} reported_lost=${reported}`);
    expect(tally.lost, 'acked messages never delivered').to.equal(0);
    expect(tally.duplicated, 'messages the application got twice').to.equal(0);
    expect(load.lostSentAfter(after)).to.deep.equal([]);
    expect(reported, 'a restart that kept everything is not reported as a loss').to.equal(0);
    expect(await sumMetric(s.nodes, 'ferry_store_data_loss_total')).to.equal(0);
    for (const l of lines) expect(l).to.include({ serversChanged: 1, messages: 0, users: 0 });
    for (const n of s.nodes)
      expect(n.logs.filter((l) => /^Redis lost data/.test(String(l.msg)))).to.deep.equal([]);
  });
});
