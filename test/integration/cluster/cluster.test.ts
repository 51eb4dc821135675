import { expect } from 'chai';
import type { GatewayProcess } from '../../helpers/gateway-process.js';
import {
  startRedisCluster,
  startRedisServer,
  type RedisCluster,
  type RedisServer,
} from '../../helpers/redis-server.js';
import type { WireClient } from '../../helpers/wire-client.js';
import { KeyEvents } from '../../helpers/redis-events.js';
import { bytes, login, metricValue, presenceWritten, startNode, text } from './support.js';

describe('cluster: users on different nodes talk through Redis', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  const nodes: GatewayProcess[] = [];
  const clients: WireClient[] = [];
  const track = (c: WireClient): WireClient => (clients.push(c), c);

  let keyEvents: KeyEvents;
  before(async () => {
    redis = await startRedisServer();
    keyEvents = await KeyEvents.open(redis.url);
    for (const id of ['c-n1', 'c-n2', 'c-n3']) nodes.push(await startNode(['--redis', redis.url], id));
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  after(async () => {
    for (const n of nodes) await n.cleanup();
    await keyEvents?.close();
    await redis.stop();
  });

  for (const [aKind, bKind] of [
    ['ws', 'tcp'],
    ['tcp', 'ws'],
  ] as const) {
    it(`A on node 1 (${aKind}) and B on node 2 (${bKind}) exchange QoS-1 and QoS-0 messages`, async () => {
      const [n1, n2] = nodes;
      const a = track(await login(n1!.urls[aKind], `x-a-${aKind}`));
      const b = track(await login(n2!.urls[bKind], `x-b-${bKind}`));
      const id = a.send({
        send: { toUser: `x-b-${bKind}`, payload: bytes('hi B'), qos: 1, clientMsgId: 'm1' },
      });
      const ack = await a.next((f) => f.id === id);
      expect(ack.body).to.equal('sendAck');
      const d = await b.nextBody('deliver');
      expect(text(d.deliver?.payload)).to.equal('hi B');
      expect(d.deliver?.seq).to.equal(ack.sendAck?.seq);
      expect(d.deliver?.serverId).to.equal(ack.sendAck?.serverId);
      expect(d.deliver?.fromUser).to.equal(`x-a-${aKind}`);
      b.send({ ack: { seq: d.deliver!.seq } });

      b.send({ send: { toUser: `x-a-${aKind}`, payload: bytes('hi A'), qos: 0 } });
      const back = await a.nextBody('deliver');
      expect(text(back.deliver?.payload)).to.equal('hi A');
      expect(back.deliver?.qos ?? 0).to.equal(0);
    });
  }

  it('keeps the order of many messages from node 1 to node 2', async () => {
    const a = track(await login(nodes[0]!.urls.ws, 'x-order-a'));
    const b = track(await login(nodes[1]!.urls.tcp, 'x-order-b'));
    await presenceWritten(keyEvents, 'x-order-b');
    for (let i = 0; i < 200; i++) a.send({ send: { toUser: 'x-order-b', payload: bytes(`m${i}`), qos: 0 } });
    const got: string[] = [];
    while (got.length < 200) got.push(text((await b.nextBody('deliver')).deliver?.payload));
    expect(got).to.deep.equal(Array.from({ length: 200 }, (_, i) => `m${i}`));
  });

  it('fans a topic publication out to subscribers on all 3 nodes', async () => {
    const subs = await Promise.all(
      nodes.map(async (n, i) => track(await login(i % 2 === 0 ? n.urls.ws : n.urls.tcp, `x-sub-${i}`))),
    );
    const local = track(await login(nodes[0]!.urls.ws, 'x-sub-local'));
    for (const s of [...subs, local]) {
      const id = s.send({ subscribe: { topic: 'x-room' } });
      expect((await s.next((f) => f.id === id)).body).to.equal('reply');
    }
    const pub = track(await login(nodes[0]!.urls.tcp, 'x-pub'));
    const id = pub.send({ publish: { topic: 'x-room', payload: bytes('to everyone'), qos: 0 } });
    expect((await pub.next((f) => f.id === id)).body).to.equal('sendAck');
    for (const s of [...subs, local]) {
      const d = await s.nextBody('deliver');
      expect(d.deliver?.topic).to.equal('x-room');
      expect(text(d.deliver?.payload)).to.equal('to everyone');
    }
    const id1 = pub.send({
      publish: { topic: 'x-room', payload: bytes('stored'), qos: 1, clientMsgId: 'p1' },
    });
    const ack = await pub.next((f) => f.id === id1);
    for (const s of subs) expect((await s.nextBody('deliver')).deliver?.seq).to.equal(ack.sendAck?.seq);
  });

  it('shows presence of a user on another node, and cluster state in /stats and /metrics', async () => {
    track(await login(nodes[2]!.urls.ws, 'x-seen', 'tab'));
    const asker = track(await login(nodes[0]!.urls.ws, 'x-asker'));
    await presenceWritten(keyEvents, 'x-seen');
    const id = asker.send({ presenceQuery: { userIds: ['x-seen'] } });
    const r = await asker.next((f) => f.id === id);
    const devices = r.presenceResult?.users?.[0]?.devices ?? [];
    expect(devices.map((d) => d.deviceId)).to.deep.equal(['tab']);
    const stats = JSON.parse((await nodes[0]!.admin('/stats')).body) as Record<string, unknown>;
    expect(stats.bus).to.equal('redis-streams');
    expect(stats.cluster).to.include({ mode: 'standalone', redisReady: true });
    expect(await metricValue(nodes[0]!, 'ferry_cluster_redis_up')).to.equal(1);
    expect(await metricValue(nodes[0]!, 'ferry_cluster_messages_total', 'direction="out"')).to.be.greaterThan(
      0,
    );
  });
});

describe('cluster: gateways on a 3-master Redis Cluster', function () {
  this.timeout(90_000);
  let redis: RedisCluster;
  const nodes: GatewayProcess[] = [];
  const clients: WireClient[] = [];

  before(async () => {
    redis = await startRedisCluster(3);
    const seeds = redis.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    for (const id of ['rc-n1', 'rc-n2']) nodes.push(await startNode(['--redis-cluster', seeds], id));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    for (const n of nodes) await n.cleanup();
    await redis.stop();
  });

  it('delivers QoS-1 user messages and topic publications across nodes', async () => {
    const a = await login(nodes[0]!.urls.ws, 'rc-a');
    const b = await login(nodes[1]!.urls.tcp, 'rc-b');
    clients.push(a, b);
    let first = 0;
    for (let i = 0; i < 20; i++) {
      const id = a.send({ send: { toUser: 'rc-b', payload: bytes(`m${i}`), qos: 1, clientMsgId: `c${i}` } });
      const ack = await a.next((f) => f.id === id);
      expect(ack.body).to.equal('sendAck');
      if (i === 0) first = Number(ack.sendAck?.seq);
    }
    for (let i = 0; i < 20; i++) {
      const d = await b.nextBody('deliver');
      expect([d.deliver?.seq, text(d.deliver?.payload)]).to.deep.equal([first + i, `m${i}`]);
    }
    const sid = b.send({ subscribe: { topic: 'rc-room' } });
    await b.next((f) => f.id === sid);
    a.send({ publish: { topic: 'rc-room', payload: bytes('hello cluster'), qos: 0 } });
    expect(text((await b.nextBody('deliver')).deliver?.payload)).to.equal('hello cluster');
    const stats = JSON.parse((await nodes[1]!.admin('/stats')).body) as { cluster: Record<string, unknown> };
    expect(stats.cluster).to.include({ mode: 'cluster', redisReady: true });
  });
});
