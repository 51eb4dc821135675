/**
 * Fault: the Redis primary dies (SIGKILL) under a QoS-1 stream, with Redis Sentinel and
 * store.durability ack-after-replica. A real primary, replica and three sentinels, two real gateway
 * nodes on `--redis-sentinel`, and pairs of client-SDK users across the nodes.
 *
 * Shortly before the kill the replica falls behind (its link is cut and cannot resync), as a replica
 * does under load or a network blip: what the primary takes from then on never reaches the replica
 * that the sentinels then promote. In ack-after-write mode those messages were acked and are lost
 * (this test fails so: run it with FERRY_TEST_DURABILITY=ack-after-write); in ack-after-replica mode
 * their WAIT times out, the senders get 107 and their SDKs send them again to the promoted replica.
 * The old primary then returns as a replica of the new one, so sends are confirmed again. Every
 * message that got a SendAck was on the promoted replica: none may be lost, none shown twice.
 */
import { expect } from 'chai';
import { GatewayProcess, OPEN_PERMISSIONS } from '../../helpers/gateway-process.js';
import { QosLoad } from '../../helpers/qos-load.js';
import { startSentinelDeployment, type SentinelDeployment } from '../../helpers/redis-sentinel.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

const PAIRS = 4;
/** Messages per second each sender starts: the stream goes on while the primary is down. */
const RATE = 40;
/** Acked per pair before the replica falls behind, and after the old primary is back. */
const ACKED_BEFORE = 40;
const ACKED_AFTER = 40;
/** Sent per pair while the replica is cut off, before the primary is killed. */
const SENT_UNREPLICATED = 20;
/**
 * FERRY_TEST_DURABILITY=ack-after-write shows what this mode prevents: the nodes then log "Redis lost
 * data" for the unreplicated messages (online recipients still got them live, so `lost` stays 0, and
 * no send is refused, so the last assertion fails).
 */
const DURABILITY = process.env.FERRY_TEST_DURABILITY ?? 'ack-after-replica';

describe('fault: Redis Sentinel failover in ack-after-replica mode', function () {
  this.timeout(150_000 * TIME_FACTOR);
  let redis: SentinelDeployment | undefined;
  const nodes: GatewayProcess[] = [];
  let load: QosLoad | undefined;

  afterEach(async function () {
    if (this.currentTest?.state === 'failed')
      for (const n of nodes)
        console.error(JSON.stringify(n.logs.filter((l) => Number(l.level) >= 40).slice(-15)));
    await load?.close();
    for (const n of nodes.splice(0)) await n.cleanup();
    await redis?.stop();
  });

  it('kill -9 of the primary mid-stream: every acked message is delivered exactly once', async () => {
    redis = await startSentinelDeployment();
    const flags = [
      '--redis-sentinel',
      redis.sentinelList,
      '--redis-master-name',
      redis.masterName,
      '--durability',
      DURABILITY,
      '--durability-replicas',
      '1',
      '--durability-timeout',
      '300ms',
      '--redis-liveness-ttl',
      '2s',
      '--redis-claim-idle',
      '300ms',
      ...OPEN_PERMISSIONS,
    ];
    for (const id of ['sf-n1', 'sf-n2']) nodes.push(await GatewayProcess.start([...flags, '--node-id', id]));
    load = await QosLoad.start({
      nodes: nodes.map((n) => n.urls),
      pairs: PAIRS,
      ratePerPair: RATE,
      prefix: 'sf',
    });

    const old = await redis.currentPrimary();
    await load.ackedAtLeast(PAIRS * ACKED_BEFORE);
    await redis.cutReplica();
    await load.sentAtLeast(load.sent + PAIRS * SENT_UNREPLICATED);
    await redis.serverAt(old).kill9();
    const promoted = await redis.waitForSwitch(old);
    // The old primary returns as a replica of the promoted one: ack-after-replica can confirm again.
    const comeback = redis.serverAt(old);
    await comeback.restart(['--replicaof', promoted.host, String(promoted.port)]);
    await redis.waitForReplica(comeback);
    const after = load.mark();
    await load.ackedAtLeast(load.acked + PAIRS * ACKED_AFTER, 60_000 * TIME_FACTOR);
    const t = await load.finish(60_000 * TIME_FACTOR);
    console.log(`      sentinel failover: ${load.line()}`);
    expect(t.lost, 'acked but never delivered').to.equal(0);
    expect(t.duplicated, 'delivered twice to the application').to.equal(0);
    expect(load.lostSentAfter(after)).to.deep.equal([]);
    // Both nodes refused sends while no replica could confirm them (107, retried by the SDK).
    let refused = 0;
    for (const n of nodes) {
      const body = (await n.admin('/metrics')).body;
      const m = /ferry_store_replica_confirmations_total\{result="(?:timeout|interrupted)"\} (\d+)/g;
      for (const x of body.matchAll(m)) refused += Number(x[1]);
    }
    expect(refused, 'sends refused during the failover').to.be.greaterThan(0);
  });
});
