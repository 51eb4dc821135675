/**
 * QoS 1 across nodes under concurrency (real redis-server, real `ferry start` processes): many
 * senders with many sends in flight each must be stored, acked and delivered exactly once, without
 * 107 refusals while Redis is up; and a message sent the moment its recipient has logged in on
 * another node must arrive without a later message or a reconnect to pull it.
 */
import { expect } from 'chai';
import type { GatewayProcess } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import type { WireClient } from '../../helpers/wire-client.js';
import { bytes, login, Receiver, startNode } from './support.js';

/** Pairs per direction, and QoS-1 sends each sender keeps in flight at once. */
const PAIRS = 30;
const PER_SENDER = 40;

describe('cluster: QoS 1 across nodes under concurrency', function () {
  this.timeout(90_000);
  let redis: RedisServer;
  const nodes: GatewayProcess[] = [];
  const clients: WireClient[] = [];
  const track = (c: WireClient): WireClient => (clients.push(c), c);

  before(async () => {
    redis = await startRedisServer();
    for (const id of ['q-n1', 'q-n2']) nodes.push(await startNode(['--redis', redis.url], id));
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  after(async () => {
    for (const n of nodes) await n.cleanup();
    await redis.stop();
  });

  it('acks every pipelined send (no 107) and delivers each acked message exactly once', async () => {
    const [n1, n2] = nodes as [GatewayProcess, GatewayProcess];
    const pairs: Array<{ sender: WireClient; to: string; receiver: Receiver }> = [];
    for (let i = 0; i < PAIRS * 2; i++) {
      // Half the pairs send node 1 -> node 2, half node 2 -> node 1: every message crosses nodes.
      const [from, to] = i % 2 === 0 ? [n1, n2] : [n2, n1];
      const sender = track(await login(from.urls.ws, `cq-s${i}`));
      const receiver = new Receiver();
      receiver.attach(track(await login(to.urls.tcp, `cq-r${i}`)));
      pairs.push({ sender, to: `cq-r${i}`, receiver });
    }
    const answers = await Promise.all(
      pairs.map(async ({ sender, to }) => {
        const ids: number[] = [];
        for (let k = 0; k < PER_SENDER; k++) {
          ids.push(
            sender.send({ send: { toUser: to, payload: bytes(`m${k}`), qos: 1, clientMsgId: `k${k}` } }),
          );
        }
        return Promise.all(
          ids.map((id) =>
            sender.next((f) => f.id === id && (f.body === 'sendAck' || f.body === 'error'), 30_000),
          ),
        );
      }),
    );
    const refused = answers.flat().filter((f) => f.body !== 'sendAck');
    expect(refused.map((f) => `${f.error?.code} ${f.error?.message}`)).to.deep.equal([]);
    await Promise.all(pairs.map(({ receiver }) => receiver.received(PER_SENDER)));
    pairs.forEach(({ receiver }, i) => {
      const acked = answers[i]!.map((f) => Number(f.sendAck!.seq)).sort((a, b) => a - b);
      expect([...receiver.bySeq.keys()].sort((a, b) => a - b)).to.deep.equal(acked);
      // In seq order, the payloads are the sender's order (ordering per sender -> recipient pair).
      expect([...receiver.bySeq.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1])).to.deep.equal(
        Array.from({ length: PER_SENDER }, (_, k) => `m${k}`),
      );
      expect(receiver.deliveries, 'duplicates reached the application').to.equal(PER_SENDER);
    });
  });

  it('delivers a message sent right after the recipient logged in on another node, with nothing after it', async () => {
    const [n1, n2] = nodes as [GatewayProcess, GatewayProcess];
    const sender = track(await login(n1.urls.ws, 'cl-sender'));
    for (let i = 0; i < 20; i++) {
      const user = `cl-r${i}`;
      const b = track(await login(n2.urls.ws, user));
      // No waiting for presence: the send races the login's presence write and replay read.
      const id = sender.send({
        send: { toUser: user, payload: bytes(`hello ${i}`), qos: 1, clientMsgId: `h${i}` },
      });
      const ack = await sender.next((f) => f.id === id, 10_000);
      expect(ack.body, JSON.stringify(ack.error)).to.equal('sendAck');
      const d = await b.nextBody('deliver', 10_000);
      expect(d.deliver?.seq).to.equal(ack.sendAck?.seq);
    }
  });
});
