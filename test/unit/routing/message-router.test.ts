import { expect } from 'chai';
import type { Envelope } from '../../../src/bus/bus.js';
import { MemoryBus } from '../../../src/bus/memory.js';
import { MemoryPresence } from '../../../src/bus/memory-presence.js';
import { DisconnectCode, StoreError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { decodeFrame } from '../../../src/protocol/codec.js';
import type { EncodedDeliver } from '../../../src/routing/encoded-deliver.js';
import { MessageRouter } from '../../../src/routing/message-router.js';
import { LocalDelivery } from '../../../src/routing/local-delivery.js';
import { SessionRegistry, type RegisteredSession } from '../../../src/session/registry.js';
import { MemoryMessageStore } from '../../../src/store/memory.js';
import type { MessageStore } from '../../../src/store/message-store.js';

let n = 0;

/** A local session that records deliveries (and the shared encoding it was handed). */
class Target implements RegisteredSession {
  readonly sessionId = `t${++n}`;
  readonly transport = 'ws' as const;
  readonly sinceMs = 0;
  readonly sentSeq = 0;
  readonly got: Envelope[] = [];
  readonly frames: Uint8Array[] = [];
  closed: number | null = null;
  constructor(
    readonly userId: string,
    readonly deviceId: string,
  ) {}
  deliver(env: Envelope, encoded: EncodedDeliver): void {
    this.got.push(env);
    this.frames.push(encoded.bytesFor('message'));
  }
  disconnect(code: number): void {
    this.closed = code;
  }
}

const payload = new TextEncoder().encode('p');
const from = { userId: 'alice', deviceId: 'laptop' };

describe('MessageRouter', () => {
  let store: MemoryMessageStore;
  let bus: MemoryBus;
  let registry: SessionRegistry;
  let metrics: Metrics;

  async function makeRouter(s: MessageStore = store): Promise<MessageRouter> {
    const router = new MessageRouter({
      nodeId: 'n1',
      store: s,
      bus,
      metrics,
      logger: silentLogger(),
      now: () => 5000,
    });
    await bus.start(new LocalDelivery(registry));
    return router;
  }

  beforeEach(() => {
    store = new MemoryMessageStore({
      nodeId: 'n1',
      maxMessagesPerLog: 100,
      retentionMs: 3_600_000,
      dedupWindowMs: 60_000,
      maxBytes: 1 << 20,
      sweepIntervalMs: 0,
    });
    bus = new MemoryBus();
    registry = new SessionRegistry({ nodeId: 'n1', presence: new MemoryPresence(), logger: silentLogger() });
    metrics = new Metrics({ defaultMetrics: false });
  });
  afterEach(async () => {
    await bus.close();
    await store.close();
  });

  it('QoS 1: stores, then publishes the stored envelope to every local device of the recipient', async () => {
    const router = await makeRouter();
    const phone = new Target('bob', 'phone');
    const tablet = new Target('bob', 'tablet');
    registry.add(phone, 'replace-old');
    registry.add(tablet, 'replace-old');
    const res = await router.send(from, {
      toUser: 'bob',
      payload,
      qos: 1,
      clientMsgId: 'm1',
      ephemeral: false,
    });
    expect(res).to.deep.include({ seq: 1, duplicate: false });
    expect(await store.lastUserSeq('bob')).to.equal(1);
    for (const t of [phone, tablet]) {
      expect(t.got).to.have.length(1);
      expect(t.got[0]).to.deep.include({
        seq: 1,
        serverId: res.serverId,
        fromUser: 'alice',
        fromDevice: 'laptop',
      });
    }
    // One encoding shared by both devices.
    expect(phone.frames[0]).to.equal(tablet.frames[0]);
    expect(decodeFrame(phone.frames[0]!, 1 << 20).deliver?.seq).to.equal(1);
  });

  it('QoS 1 duplicate: returns the first result and publishes it again (sessions drop seen seqs)', async () => {
    const router = await makeRouter();
    const bob = new Target('bob', 'phone');
    registry.add(bob, 'replace-old');
    const req = { toUser: 'bob', payload, qos: 1 as const, clientMsgId: 'same', ephemeral: false };
    const first = await router.send(from, req);
    const again = await router.send(from, req);
    expect(again).to.deep.equal({ ...first, duplicate: true });
    expect(bob.got.map((e) => e.seq)).to.deep.equal([1, 1]);
    expect(await store.lastUserSeq('bob')).to.equal(1);
  });

  it('a store failure rejects with the StoreError (the edge maps it to 107) and nothing is published', async () => {
    const failing = Object.create(store) as MessageStore;
    failing.appendToUser = () => Promise.reject(new StoreError('down'));
    const router = await makeRouter(failing);
    const bob = new Target('bob', 'phone');
    registry.add(bob, 'replace-old');
    const err = await router
      .send(from, { toUser: 'bob', payload, qos: 1, clientMsgId: 'x', ephemeral: false })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(StoreError);
    expect(bob.got).to.have.length(0);
  });

  it('a store failure that is not a GatewayError becomes a StoreError with its cause', async () => {
    const failing = Object.create(store) as MessageStore;
    const cause = new Error('ECONNRESET');
    failing.appendToUser = () => Promise.reject(cause);
    const router = await makeRouter(failing);
    const err = await router
      .send(from, { toUser: 'bob', payload, qos: 1, clientMsgId: 'y', ephemeral: false })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(StoreError);
    expect((err as StoreError).cause).to.equal(cause);
  });

  it('QoS 0: nothing stored, a local server id, seq 0', async () => {
    const router = await makeRouter();
    const bob = new Target('bob', 'phone');
    registry.add(bob, 'replace-old');
    const res = await router.send(from, { toUser: 'bob', payload, qos: 0, clientMsgId: '', ephemeral: true });
    expect(res).to.deep.include({ seq: 0, timestampMs: 5000, duplicate: false });
    expect(res.serverId).to.match(/^n1-q/);
    expect(store.stats().messages).to.equal(0);
    expect(bob.got[0]).to.deep.include({ seq: 0, ephemeral: true, serverId: res.serverId });
  });

  it('QoS 0 is taken at once; a forward that fails afterwards is counted, not reported', async () => {
    const router = await makeRouter();
    await bus.close();
    const res = router.sendTransient(from, {
      toUser: 'bob',
      payload,
      qos: 0,
      clientMsgId: '',
      ephemeral: false,
    });
    expect(res).to.include({ seq: 0, duplicate: false });
    // The bus's rejection is handled in a microtask; one macrotask later it has been counted.
    await new Promise<void>((resolve) => setImmediate(resolve));
    router.flushMetrics();
    expect((await metrics.messagesDropped.get()).values).to.deep.include({
      labels: { reason: 'forward_failed' },
      value: 1,
    });
    // The awaiting form gives the same answer, for callers (access API, upstream replies) that await both QoS.
    const awaited = await router.send(from, {
      toUser: 'bob',
      payload,
      qos: 0,
      clientMsgId: '',
      ephemeral: false,
    });
    expect(awaited.seq).to.equal(0);
  });

  it('topics: every subscriber but the publishing session, one shared encoding', async () => {
    const router = await makeRouter();
    const self = new Target('alice', 'laptop');
    const otherDevice = new Target('alice', 'phone');
    const bob = new Target('bob', 'phone');
    for (const t of [self, otherDevice, bob]) registry.subscribe('room', t);
    const res = await router.publish(from, {
      topic: 'room',
      payload,
      qos: 1,
      clientMsgId: 'p1',
      ephemeral: false,
    });
    expect(res.seq).to.equal(1);
    expect(self.got).to.have.length(0);
    expect(otherDevice.got.map((e) => e.topic)).to.deep.equal(['room']);
    expect(bob.frames[0]).to.equal(otherDevice.frames[0]);
    expect(await store.lastTopicSeq('room')).to.equal(1);
  });

  it('applies kick and replace control messages to local sessions', async () => {
    const router = await makeRouter();
    const a = new Target('u', 'a');
    const b = new Target('u', 'b');
    registry.add(a, 'replace-old');
    registry.add(b, 'replace-old');
    await router.kick('u', 'a', DisconnectCode.KICKED, 'admin');
    expect([a.closed, b.closed]).to.deep.equal([DisconnectCode.KICKED, null]);
    router.announceSession('u', 'b', 'newer-session-elsewhere');
    expect(b.closed).to.equal(DisconnectCode.REPLACED);
  });
});
