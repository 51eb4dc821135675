/**
 * QoS-1 messages survive node changes. A real redis-server, two real `ferry start --redis`
 * nodes, a Node SDK receiver on node 1 given both nodes as `endpoints`, and an SDK sender on node 2
 * sending a steady stream. Midway node 1 is killed (SIGKILL) or drained (SIGTERM): the receiver must
 * move to node 2 by itself and get every message exactly once, in order; every send must be acked.
 */
import { expect } from 'chai';
import {
  connect,
  type Endpoints,
  type FerryClient,
  type SendResult,
  type TransportKind,
} from '../../../client/src/node.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { certHashesOf, Inbox } from './helpers.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

const TOTAL = 60;
/** The message after which node 1 goes away. */
const FAULT_AT = 20;

interface Case {
  name: string;
  fault: 'kill' | 'drain';
  /** The receiver's transport on node 1 and on node 2. */
  from: TransportKind;
  to: TransportKind;
}

const CASES: Case[] = [
  { name: 'node 1 is killed (kill -9)', fault: 'kill', from: 'ws', to: 'ws' },
  { name: 'node 1 drains (SIGTERM)', fault: 'drain', from: 'tcp', to: 'tcp' },
  {
    name: 'node 1 is killed and the receiver changes transport (wt -> ws)',
    fault: 'kill',
    from: 'wt',
    to: 'ws',
  },
];

/** A cluster node on `redisUrl` with short failure timers (liveness 1 s, claims after 300 ms idle). */
function startNode(redisUrl: string, nodeId: string, wt: boolean): Promise<GatewayProcess> {
  return GatewayProcess.start(
    [
      '--redis',
      redisUrl,
      '--node-id',
      nodeId,
      '--redis-liveness-ttl',
      '1s',
      '--redis-claim-idle',
      '300ms',
      // A killed node's QUIC peer never says goodbye: the SDK notices the silence after 2 heartbeats.
      '--heartbeat',
      '1s',
    ],
    { wt },
  );
}

function urlOf(node: GatewayProcess, kind: TransportKind): string {
  return node.urls[kind];
}

describe('client SDK across a node change (cluster)', function () {
  this.timeout(90_000 * TIME_FACTOR);
  let redis: RedisServer;
  const nodes: GatewayProcess[] = [];
  const clients: FerryClient[] = [];

  before(async function () {
    redis = await startRedisServer();
  });

  afterEach(async function () {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(nodes.splice(0).map((n) => n.cleanup()));
  });

  after(async function () {
    await redis?.stop();
  });

  CASES.forEach((c, n) => {
    it(`delivers every QoS-1 message exactly once, in order, when ${c.name}`, async function () {
      const wt = c.from === 'wt' || c.to === 'wt';
      const node1 = await startNode(redis.url, `nc${n}-one`, wt);
      const node2 = await startNode(redis.url, `nc${n}-two`, wt);
      nodes.push(node1, node2);
      const hashes = wt ? await certHashesOf(node1.urls.admin) : [];
      const receiverUser = `nc${n}-receiver`;
      // Each node offers only the transport this case wants there, so the change is forced.
      const endpoints: Endpoints[] = [{ [c.from]: urlOf(node1, c.from) }, { [c.to]: urlOf(node2, c.to) }];
      const receiver = await connect({
        endpoints,
        token: await testToken(receiverUser),
        deviceId: 'd1',
        certHashes: hashes,
        transportTimeoutMs: 2000,
        backoff: { initialMs: 100, maxMs: 500 },
      });
      clients.push(receiver);
      expect(receiver.connection).to.include({ nodeId: `nc${n}-one`, transport: c.from });
      const inbox = new Inbox(receiver);
      const disconnects: number[] = [];
      receiver.on('disconnect', (d) => disconnects.push(d.code));
      const attempts: string[] = [];
      receiver.on('transport', (a) => attempts.push(a.url));
      const sender = await connect({
        url: node2.urls.ws,
        token: await testToken(`nc${n}-sender`),
        backoff: { initialMs: 100, maxMs: 500 },
      });
      clients.push(sender);

      const acks: Promise<SendResult>[] = [];
      let fault: Promise<unknown> | null = null;
      for (let i = 0; i < TOTAL; i++) {
        acks.push(sender.send(receiverUser, `msg-${i}`));
        if (i === FAULT_AT) fault = c.fault === 'kill' ? node1.kill() : node1.terminate();
        await new Promise((r) => setTimeout(r, 10));
      }
      const exitCode = await fault;
      if (c.fault === 'drain') expect(exitCode, 'a drained node exits cleanly').to.equal(0);

      const results = await Promise.all(acks);
      const seqs = results.map((r) => r.seq);
      // One sender, one connection: the store numbers the messages in the order they were sent.
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).to.be.greaterThan(seqs[i - 1]!);

      // A last message as a barrier: deliveries are ordered, so any duplicate would come before it.
      await sender.send(receiverUser, 'end');
      await inbox.until(() => inbox.texts().includes('end'), 30_000 * TIME_FACTOR);
      const expected = [...Array.from({ length: TOTAL }, (_, i) => `msg-${i}`), 'end'];
      expect(inbox.texts()).to.deep.equal(expected);
      expect(inbox.messages.map((m) => m.seq)).to.deep.equal([...seqs, seqs[seqs.length - 1]! + 1]);
      expect(receiver.connection, 'the receiver moved to node 2').to.include({
        nodeId: `nc${n}-two`,
        transport: c.to,
      });
      expect(disconnects.length).to.be.greaterThan(0);
      if (c.fault === 'drain') {
        expect(disconnects[0]).to.equal(4001);
        // A draining node refuses new sessions: the client goes straight to the next node.
        expect(attempts[0]).to.equal(urlOf(node2, c.to));
      }
      expect(sender.pendingCount).to.equal(0);
    });
  });
});
