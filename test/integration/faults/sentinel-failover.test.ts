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
import { Qos1Pairs } from '../../helpers/qos1-pairs.js';
import { startSentinelDeployment, type SentinelDeployment } from '../../helpers/redis-sentinel.js';

const SLOW = Math.max(1, Number(process.env.FERRY_TEST_TIME_FACTOR ?? 1) || 1);
const PAIRS = 4;
/** Rounds (one message per user each) before the replica falls behind, and after the old primary is back. */
const ROUNDS_BEFORE = 40;
const ROUNDS_AFTER = 40;
/** Rounds the primary takes alone (the replica cut off) before it is killed. */
const ROUNDS_UNREPLICATED = 20;
const ROUND_MS = 25;
/** To show what this mode prevents: ack-after-write loses the unreplicated rounds. */
const DURABILITY = process.env.FERRY_TEST_DURABILITY ?? 'ack-after-replica';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('fault: Redis Sentinel failover in ack-after-replica mode', function () {
  this.timeout(150_000 * SLOW);
  let redis: SentinelDeployment | undefined;
  const nodes: GatewayProcess[] = [];
  let pairs: Qos1Pairs | undefined;

  afterEach(async function () {
    if (this.currentTest?.state === 'failed')
      for (const n of nodes)
        console.error(JSON.stringify(n.logs.filter((l) => Number(l.level) >= 40).slice(-15)));
    await pairs?.close();
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
    pairs = await Qos1Pairs.connect({
      pairs: PAIRS,
      prefix: 'sf-',
      nodeA: nodes[0]!.urls.ws,
      nodeB: nodes[1]!.urls.tcp,
    });

    // The stream is paced by a timer (the workload's rate), so it goes on while the primary is down
    // and while it fails over.
    const old = await redis.currentPrimary();
    let rounds = 0;
    let lastRound = Infinity;
    const reached = new Map<number, () => void>();
    const roundReached = (n: number): Promise<void> =>
      new Promise((resolve) => (rounds >= n ? resolve() : reached.set(n, resolve)));
    const streamed = (async () => {
      for (; rounds < lastRound; rounds++) {
        reached.get(rounds)?.();
        pairs!.sendRound(rounds);
        await sleep(ROUND_MS);
      }
    })();
    await roundReached(ROUNDS_BEFORE);
    await redis.cutReplica();
    await roundReached(rounds + ROUNDS_UNREPLICATED);
    await redis.serverAt(old).kill9();
    const promoted = await redis.waitForSwitch(old);
    // The old primary returns as a replica of the promoted one: ack-after-replica can confirm again.
    const comeback = redis.serverAt(old);
    await comeback.restart(['--replicaof', promoted.host, String(promoted.port)]);
    await redis.waitForReplica(comeback);
    lastRound = rounds + ROUNDS_AFTER;
    await streamed;
    await pairs.finish(60_000 * SLOW);

    const t = pairs.tally();
    console.log(`      sentinel failover: ${pairs.line()}`);
    expect(t.unacked, 'every send acked in the end').to.equal(0);
    expect(t.acked).to.equal(PAIRS * 2 * rounds);
    expect(t.lost, 'acked but never delivered').to.equal(0);
    expect(t.duplicated, 'delivered twice to the application').to.equal(0);
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
