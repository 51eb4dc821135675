import { expect } from 'chai';
import type { Bus } from '../../../src/bus/bus.js';
import { SessionHarness, bytes, ofBody, settle } from '../../helpers/session-harness.js';

/**
 * docs/protocol.md §3.1 and §5.3: a QoS-0 Send or Publish with id 0 is fire and forget. Refusals
 * decided before the message is taken are answered with an Error of id 0; a failure once it was
 * taken, such as shedding over the bus backlog (109), is not reported, while the same Send with an
 * id is answered 109.
 */
describe('session: QoS 0 with id 0 (fire and forget)', () => {
  let h: SessionHarness;
  let backlog = 0;

  beforeEach(async () => {
    backlog = 0;
    h = await SessionHarness.create({
      config: (c) => {
        c.redis.maxBacklogBytes = 65_536;
        c.session.heartbeatMs = 3_600_000;
      },
      // The memory bus with a backlog figure the test sets.
      bus: (real) => Object.assign(Object.create(real) as Bus, { backlogBytes: () => backlog }),
    });
  });
  afterEach(async () => {
    await h.close();
  });

  for (const body of ['send', 'publish'] as const) {
    const frame = (id: number) =>
      body === 'send'
        ? { id, send: { toUser: 'bob', payload: bytes('x') } }
        : { id, publish: { topic: 'room', payload: bytes('x') } };

    it(`${body}: no SendAck for id 0, a SendAck for an id`, async () => {
      const alice = await h.login('alice');
      alice.send(frame(0));
      alice.send(frame(7));
      await settle();
      expect(alice.take().map((f) => [f.id, f.body])).to.deep.equal([[7, 'sendAck']]);
    });

    it(`${body}: shed over the bus backlog, 109 for an id and nothing for id 0`, async () => {
      const alice = await h.login('alice');
      backlog = 65_537;
      alice.send(frame(0));
      alice.send(frame(8));
      await settle();
      const frames = alice.take();
      expect(frames.map((f) => [f.id, f.body])).to.deep.equal([[8, 'error']]);
      expect(ofBody(frames, 'error')[0]?.error?.code).to.equal(109);
    });

    it(`${body}: a refusal before the message is taken is answered with id 0`, async () => {
      const alice = await h.login('alice');
      alice.send(
        body === 'send'
          ? { send: { toUser: '$server', payload: bytes('x') } }
          : { publish: { topic: '$all', payload: bytes('x') } },
      );
      alice.send({ send: { toUser: '', payload: bytes('x') } });
      await settle();
      expect(alice.take().map((f) => [f.id, f.error?.code])).to.deep.equal([
        [0, 103],
        [0, 101],
      ]);
    });
  }
});
