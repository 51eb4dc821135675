/**
 * Fault: Redis restarts without persistence in the middle of a QoS-1 load across two nodes. What
 * only the lost Redis held is gone, but never silently: every message acked before the restart and
 * never delivered is counted by a node (ferry_store_messages_lost_total) and each node logs the loss
 * once. Nothing is delivered twice, and every message sent after the restart is delivered: seqs
 * continue above every seq handed out before, so neither the sessions nor the SDK take the new
 * messages for ones they have seen. Pair 0's receiver is offline across the restart (what was
 * stored for it is lost, and the count must cover it); pair 1's receiver too, with its sender quiet,
 * so it comes back to an emptied log with a last_seq past its end (log_reset).
 */
import { expect } from 'chai';
import { startRedisServer } from '../../helpers/redis-server.js';
import { report, startFaultNode, startLoad, sumMetric, TIME_FACTOR, useFaultScenario } from './support.js';

const LOSS_LINE = /^Redis lost data/;

describe('fault: Redis restarts without persistence mid-stream', function () {
  this.timeout(120_000 * TIME_FACTOR);
  const s = useFaultScenario();

  it('loses only what the nodes report lost, duplicates nothing, and delivers everything sent after', async () => {
    const redis = (s.redis = await startRedisServer());
    s.nodes.push(await startFaultNode(redis.url, 'np-n1'), await startFaultNode(redis.url, 'np-n2'));
    const load = await startLoad(s, 'np');
    await load.ackedAtLeast(300);
    load.pauseSender(1);
    await Promise.all([load.receiverOffline(0), load.receiverOffline(1)]);
    await load.ackedAtLeast(load.acked + 300); // some of them stored for pair 0's offline receiver
    const lossLogged = s.nodes.map((n) =>
      n.waitForLog((l) => LOSS_LINE.test(String(l.msg)), 30_000 * TIME_FACTOR),
    );
    await redis.kill9();
    await redis.restart();
    const after = load.mark();
    const logged = await Promise.all(lossLogged);
    const [, open1] = await Promise.all([load.receiverOnline(0), load.receiverOnline(1)]);
    expect(open1.logReset, 'a last_seq past the emptied log is answered with log_reset').to.equal(true);
    load.resumeSender(1);
    await load.ackedAtLeast(load.acked + 400);
    const tally = await load.finish();
    const reported = await sumMetric(s.nodes, 'ferry_store_messages_lost_total');
    report('redis restart without persistence', `${load.line()} reported_lost=${reported}`);
    expect(tally.duplicated, 'messages the application got twice').to.equal(0);
    expect(load.lostSentAfter(after), 'messages sent after the restart and never delivered').to.deep.equal(
      [],
    );
    expect(tally.lost, 'acked messages lost beyond what the nodes reported').to.be.at.most(reported);
    expect(tally.lost, "pair 0's messages stored while its receiver was offline").to.be.greaterThan(0);
    // One error line per node, naming how many users and messages.
    for (const [i, line] of logged.entries()) {
      expect(s.nodes[i]!.logs.filter((r) => LOSS_LINE.test(String(r.msg)))).to.have.length(1);
      expect(line.users).to.be.a('number').greaterThan(0);
    }
    expect(await sumMetric(s.nodes, 'ferry_store_data_loss_total', 'cause="marker"')).to.equal(2);
  });
});
