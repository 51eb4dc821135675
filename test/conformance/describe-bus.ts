/**
 * The Bus contract as a mocha suite, run against every implementation. A fixture is a cluster of
 * one or more nodes (the memory bus is a cluster of one; the Redis Streams bus will bring several
 * nodes on one Redis). Deliveries are awaited as events on the recording handler, so asynchronous
 * buses pass too.
 */
import { expect } from 'chai';
import type { Bus, BusHandler, ControlMessage, Envelope } from '../../src/bus/bus.js';
import { Recorder } from '../helpers/recorder.js';

/** A fresh cluster of unstarted buses. */
export interface BusFixture {
  nodes: Bus[];
  /**
   * Makes `userId` reachable on `nodes[nodeIndex]` (e.g. records presence for the Redis bus).
   * Not needed with one node.
   */
  placeUser?(userId: string, nodeIndex: number): Promise<void>;
  /** Releases what the fixture holds beyond the buses (connections, keys). */
  close?(): Promise<void>;
}

/** Everything one node's handler received, in arrival order. */
export class RecordingHandler implements BusHandler {
  readonly users = new Recorder<Envelope>();
  readonly topics = new Recorder<Envelope>();
  readonly controls = new Recorder<ControlMessage>();
  /** When set, the next delivery throws this once (to test that the bus survives a bad handler). */
  throwOnce: Error | undefined;

  onUserMessage(env: Envelope): void {
    this.users.push(env);
    this.maybeThrow();
  }
  onTopicMessage(env: Envelope): void {
    this.topics.push(env);
    this.maybeThrow();
  }
  onControl(msg: ControlMessage): void {
    this.controls.push(msg);
    this.maybeThrow();
  }
  private maybeThrow(): void {
    const err = this.throwOnce;
    this.throwOnce = undefined;
    if (err) throw err;
  }
}

let nextServerId = 0;

/** A QoS-1 envelope for `toUser` (or, with `topic`, a topic publication). */
export function envelope(over: Partial<Envelope> = {}): Envelope {
  const n = ++nextServerId;
  return {
    serverId: `test-${n}`,
    seq: n,
    fromUser: 'alice',
    fromDevice: 'phone',
    toUser: 'bob',
    topic: '',
    payload: new Uint8Array([n & 0xff, 1, 2]),
    timestampMs: 1_700_000_000_000 + n,
    qos: 1,
    clientMsgId: `c${n}`,
    ephemeral: false,
    fromService: '',
    ...over,
  };
}

/** Envelopes with their payloads as plain arrays, for deep equality across a serialising bus. */
const plain = (envs: Envelope[]) => envs.map((e) => ({ ...e, payload: [...e.payload] }));

/** Registers the Bus conformance suite for one implementation. */
export function describeBus(name: string, factory: () => Promise<BusFixture>): void {
  describe(`Bus conformance: ${name}`, () => {
    let fixture: BusFixture;
    let handlers: RecordingHandler[];

    beforeEach(async () => {
      fixture = await factory();
      handlers = fixture.nodes.map(() => new RecordingHandler());
      await Promise.all(fixture.nodes.map((bus, i) => bus.start(handlers[i]!)));
    });
    afterEach(async () => {
      await Promise.all(fixture.nodes.map((bus) => bus.close()));
      await fixture.close?.();
    });

    const place = async (userId: string, nodeIndex: number) => fixture.placeUser?.(userId, nodeIndex);

    it('has a name', () => {
      for (const bus of fixture.nodes) expect(bus.name).to.be.a('string').with.length.greaterThan(0);
    });

    it('delivers a user message, field for field, to the node holding the user', async () => {
      const n = fixture.nodes.length;
      for (let from = 0; from < n; from++) {
        for (let to = 0; to < n; to++) {
          const userId = `user-${from}-${to}`;
          await place(userId, to);
          const env = envelope({ toUser: userId, payload: new Uint8Array([0, 255, from, to]) });
          await fixture.nodes[from]!.publishToUser(env);
          const mine = (envs: readonly Envelope[]) => envs.filter((e) => e.toUser === userId);
          await handlers[to]!.users.waitFor((envs) => mine(envs).length > 0, `${userId}'s message`);
          expect(plain(mine(handlers[to]!.users.items))).to.deep.equal(plain([env]));
        }
      }
    });

    it('keeps the publish order of user messages', async () => {
      const last = fixture.nodes.length - 1;
      await place('bob', last);
      const sent = Array.from({ length: 100 }, () => envelope({ toUser: 'bob' }));
      for (const env of sent) await fixture.nodes[0]!.publishToUser(env);
      await handlers[last]!.users.waitForCount(sent.length);
      expect(handlers[last]!.users.items.map((e) => e.serverId)).to.deep.equal(sent.map((e) => e.serverId));
    });

    it('delivers topic messages to every node, in publish order', async () => {
      const sent = Array.from({ length: 50 }, () => envelope({ toUser: '', topic: 'room' }));
      for (const env of sent) await fixture.nodes[0]!.publishToTopic(env);
      for (const h of handlers) {
        await h.topics.waitForCount(sent.length);
        expect(plain(h.topics.items)).to.deep.equal(plain(sent));
      }
      for (const h of handlers) expect(h.users.items).to.deep.equal([]);
    });

    it('delivers control messages to every node', async () => {
      const kick: ControlMessage = {
        type: 'kick',
        userId: 'bob',
        deviceId: 'phone',
        code: 4506,
        reason: 'bye',
      };
      const replace: ControlMessage = {
        type: 'replace',
        userId: 'bob',
        deviceId: 'phone',
        keepSessionId: 's2',
      };
      const kickAll: ControlMessage = { type: 'kick', userId: 'carol', code: 4506, reason: 'all devices' };
      const last = fixture.nodes.length - 1;
      await fixture.nodes[last]!.publishControl(kick);
      await fixture.nodes[last]!.publishControl(replace);
      await fixture.nodes[last]!.publishControl(kickAll);
      for (const h of handlers) {
        await h.controls.waitForCount(3);
        expect(h.controls.items).to.deep.equal([kick, replace, kickAll]);
      }
    });

    it('survives a handler that throws and delivers what follows', async () => {
      await place('bob', 0);
      handlers[0]!.throwOnce = new Error('handler bug');
      const a = envelope({ toUser: 'bob' });
      const b = envelope({ toUser: 'bob' });
      await fixture.nodes[0]!.publishToUser(a);
      await fixture.nodes[0]!.publishToUser(b);
      await handlers[0]!.users.waitForCount(2);
      expect(handlers[0]!.users.items.map((e) => e.serverId)).to.include.members([a.serverId, b.serverId]);
      expect(handlers[0]!.throwOnce).to.equal(undefined);
    });

    it('rejects publishing after close(), and close() is idempotent', async () => {
      const bus = fixture.nodes[0]!;
      await bus.close();
      await bus.close();
      let caught: unknown;
      await bus.publishToUser(envelope()).catch((err: unknown) => (caught = err));
      expect(caught).to.be.instanceOf(Error);
      caught = undefined;
      await bus
        .publishControl({ type: 'kick', userId: 'x', code: 4506, reason: '' })
        .catch((e) => (caught = e));
      expect(caught).to.be.instanceOf(Error);
    });
  });
}
