/**
 * store.durability on a real node and a real redis-server: ack-after-write acks once Redis has the
 * message (and warns at startup when Redis has no AOF); ack-after-replica acks only once WAIT saw a
 * replica holding it, answers 107 (retryable) while none does, and acks the client's retry, once,
 * when a replica has joined: the refused message was stored, so the retry is deduplicated.
 */
import { expect } from 'chai';
import type { GatewayProcess } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import type { WireClient } from '../../helpers/wire-client.js';
import { bytes, login, metricValue, sendQos1, startNode, text } from './support.js';

const AOF_WARNING = /store\.durability is ack-after-write and Redis runs without AOF/;
const REPLICA_WARNING = /fewer connected replicas than store\.replicas/;

describe('durability modes (store.durability)', function () {
  this.timeout(60_000);
  const servers: RedisServer[] = [];
  const nodes: GatewayProcess[] = [];
  const clients: WireClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    for (const n of nodes.splice(0)) await n.cleanup();
    for (const s of servers.splice(0)) await s.stop();
  });

  async function redis(opts: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
    const s = await startRedisServer(opts);
    servers.push(s);
    return s;
  }

  async function node(flags: string[], id: string): Promise<GatewayProcess> {
    const n = await startNode(flags, id);
    nodes.push(n);
    return n;
  }

  const logged = (n: GatewayProcess, re: RegExp): boolean => n.logs.some((l) => re.test(String(l.msg)));

  it('ack-after-write (the default) acks at once, and warns at startup only when Redis has no AOF', async () => {
    const plain = await redis();
    const n1 = await node(['--redis', plain.url], 'dw-n1');
    // The check runs before the node reports itself started: its logs are complete on this point.
    expect(logged(n1, AOF_WARNING), 'warning without AOF').to.equal(true);
    const a = await login(n1.urls.ws, 'dw-a');
    const b = await login(n1.urls.tcp, 'dw-b');
    clients.push(a, b);
    const ack = await sendQos1(a, 'dw-b', 'hello', 'w1');
    expect(ack.body).to.equal('sendAck');
    expect(text((await b.nextBody('deliver')).deliver?.payload)).to.equal('hello');

    const aof = await redis({ appendonly: true });
    const n2 = await node(['--redis', aof.url, '--durability', 'ack-after-write'], 'dw-n2');
    expect(logged(n2, AOF_WARNING), 'warning with AOF').to.equal(false);
  });

  it('ack-after-replica refuses with 107 while no replica confirms, then acks the retry once', async () => {
    const primary = await redis({ extraArgs: ['--repl-diskless-sync-delay', '0'] });
    const n1 = await node(
      // Long enough for a replica's confirmation on a loaded machine (the retry below): the refusal
      // before the replica exists waits this long too.
      ['--redis', primary.url, '--durability', 'ack-after-replica', '--durability-timeout', '2s'],
      'dr-n1',
    );
    expect(logged(n1, REPLICA_WARNING), 'warning without a replica').to.equal(true);
    expect(logged(n1, AOF_WARNING)).to.equal(false);
    const a = await login(n1.urls.ws, 'dr-a');
    const b = await login(n1.urls.tcp, 'dr-b');
    clients.push(a, b);

    const refused = await sendQos1(a, 'dr-b', 'first', 'r1');
    expect(refused.body).to.equal('error');
    expect(refused.error).to.include({ code: 107, retryable: true });
    expect(await metricValue(n1, 'ferry_store_replica_confirmations_total', 'result="timeout"')).to.equal(1);
    expect(await metricValue(n1, 'ferry_errors_total', 'code="107"')).to.be.greaterThan(0);
    // Nothing unconfirmed reaches the recipient: a QoS-0 message sent after the refusal arrives first.
    a.send({ send: { toUser: 'dr-b', payload: bytes('barrier'), qos: 0 } });
    await b.next((f) => f.body === 'deliver' && text(f.deliver?.payload) === 'barrier');
    expect(b.frames.filter((f) => f.body === 'deliver')).to.deep.equal([]);

    const replica = await redis({ extraArgs: ['--replicaof', primary.host, String(primary.port)] });
    await untilReplicaUp(replica);
    // The retry finds the stored message (dedup) and waits for the replica again: acked, same seq.
    const retried = await sendQos1(a, 'dr-b', 'first', 'r1');
    expect(retried.body).to.equal('sendAck');
    expect(retried.sendAck).to.include({ duplicate: true });
    // The log's first seq (Redis's clock: docs/cluster.md, "Sequence numbers"), then the next one.
    const firstSeq = Number(retried.sendAck!.seq);
    expect(firstSeq).to.be.greaterThan(0);
    const next = await sendQos1(a, 'dr-b', 'second', 'r2');
    expect(next.sendAck).to.include({ duplicate: false });
    expect(Number(next.sendAck!.seq)).to.equal(firstSeq + 1);
    // Delivered in order, the refused one only after it was confirmed, and once.
    const second = await b.next((f) => f.body === 'deliver' && Number(f.deliver?.seq) === firstSeq + 1);
    expect(text(second.deliver?.payload)).to.equal('second');
    const before = b.frames.filter((f) => f.body === 'deliver').map((f) => text(f.deliver?.payload));
    expect(before).to.deep.equal(['first']);
    expect(await metricValue(n1, 'ferry_store_replica_confirmations_total', 'result="confirmed"')).to.equal(
      2,
    );
    // The replica holds both messages: a failover to it would lose neither.
    expect(Number(await replica.cli('XLEN', 'ferry:{u:dr-b}:log'))).to.equal(2);
  });
});

/** Waits (polling INFO, bounded) until `replica` finished its sync with the primary. */
async function untilReplicaUp(replica: RedisServer): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if ((await replica.cli('INFO', 'replication')).includes('master_link_status:up')) return;
    if (Date.now() > deadline) throw new Error('replica never finished its sync');
    await new Promise((r) => setTimeout(r, 50));
  }
}
