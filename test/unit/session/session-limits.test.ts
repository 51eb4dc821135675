import { expect } from 'chai';
import { DisconnectCode, ReplyCode } from '../../../src/errors.js';
import { SessionHarness, bytes, settle, text } from '../../helpers/session-harness.js';

describe('session: limits, faults and drain', () => {
  let h: SessionHarness;
  afterEach(async () => {
    await h.close();
  });

  describe('slow consumers', () => {
    it('queues behind a backed-up transport and flushes on drain, control frames first', async () => {
      h = await SessionHarness.create();
      const alice = await h.login('alice');
      const bob = await h.login('bob');
      bob.buffered = 64 * 1024; // at the high-water mark: frames wait
      alice.send({ send: { toUser: 'bob', payload: bytes('q0') } });
      bob.send({ id: 5, ping: { timestampMs: 1 } });
      await settle();
      expect(bob.take()).to.have.length(0);
      expect(h.manager.stats().queuedFrames).to.equal(2);
      expect(await h.metric('ferry_outbound_queue_frames')).to.equal(2);
      bob.drain();
      expect(bob.take().map((f) => f.body)).to.deep.equal(['pong', 'deliver']);
      expect(h.manager.stats().queuedBytes).to.equal(0);
      expect(await h.metric('ferry_outbound_queue_bytes')).to.equal(0);
    });

    it('sheds queued ephemeral frames first, then cuts with 4003 rather than drop QoS 0', async () => {
      h = await SessionHarness.create({ config: (c) => (c.limits.outboundQueueBytes = 4096) });
      const alice = await h.login('alice');
      const bob = await h.login('bob');
      bob.buffered = 2048; // at the high-water mark (cap / 4 = 1024): everything queues
      const payload = new Uint8Array(600);
      for (let i = 0; i < 3; i++) alice.send({ send: { toUser: 'bob', payload, ephemeral: true } });
      await settle();
      expect(h.manager.stats().queuedFrames).to.equal(3);
      alice.send({ send: { toUser: 'bob', payload } });
      await settle();
      // 2048 buffered + 3 ephemeral + 1 QoS-0 (~620 B each) > 4096: the oldest ephemeral frame went.
      expect(await h.metric('ferry_messages_dropped_total', { reason: 'ephemeral' })).to.equal(1);
      expect(h.manager.stats().queuedFrames).to.equal(3);
      expect(bob.closed).to.equal(null);
      for (let i = 0; i < 2; i++) alice.send({ send: { toUser: 'bob', payload } });
      await settle();
      expect(await h.metric('ferry_messages_dropped_total', { reason: 'ephemeral' })).to.equal(3);
      expect(bob.closed).to.equal(null);
      alice.send({ send: { toUser: 'bob', payload } });
      await settle();
      expect(bob.closed?.code).to.equal(DisconnectCode.SLOW_CONSUMER);
      expect(bob.disconnectFrame()).to.deep.include({ code: 4003, reconnect: true });
      expect(await h.metric('ferry_disconnects_total', { code: '4003' })).to.equal(1);
      expect(await h.metric('ferry_outbound_queue_bytes')).to.equal(0);
      // QoS-0 frames were never shed silently: only ephemeral ones were dropped by the queue.
      expect(await h.metric('ferry_messages_dropped_total', { reason: 'qos0' })).to.equal(0);
    });

    it('keeps QoS-1 messages of a cut slow consumer in the store for its next connection', async () => {
      h = await SessionHarness.create({ config: (c) => (c.limits.outboundQueueBytes = 2048) });
      const alice = await h.login('alice');
      let bob = await h.login('bob');
      bob.buffered = 4096;
      for (let i = 1; i <= 6; i++) {
        alice.send({
          id: i,
          send: { toUser: 'bob', payload: new Uint8Array(300), qos: 1, clientMsgId: `m${i}` },
        });
      }
      await settle();
      expect(bob.closed?.code).to.equal(DisconnectCode.SLOW_CONSUMER);
      bob = await h.login('bob');
      await settle();
      expect(bob.delivers().map((d) => d.seq)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    });
  });

  describe('rate limits', () => {
    it('refuses frames over the limit with 104 RATE_LIMITED, then cuts a flood with 4006', async () => {
      h = await SessionHarness.create({
        config: (c) => {
          c.limits.framesPerSecond = 5;
          c.limits.floodToleranceSeconds = 3;
          c.session.idleTimeoutMs = 0;
        },
      });
      const c = await h.login('flooder');
      const fire = (n: number) => {
        for (let i = 0; i < n; i++) c.send({ id: 100 + i, send: { toUser: 'nobody', payload: bytes('x') } });
      };
      fire(20); // 9 left of the burst of 10 (2 x 5/s) after Authenticate pass, then 104s, then a hold
      await settle();
      const errors = c.take().filter((f) => f.body === 'error');
      expect(errors.length).to.be.greaterThan(0);
      expect(errors[0]?.error).to.deep.include({ code: ReplyCode.RATE_LIMITED, retryable: true });
      expect(errors[0]?.error?.retryAfterMs).to.be.greaterThan(0);
      // Past the 104 budget (5 a second) frames wait, Pings included: no Pong, no Error for now.
      expect(c.paused).to.equal(true);
      c.send({ id: 7, ping: { timestampMs: 3 } });
      expect(c.take()).to.deep.equal([]);
      for (let s = 0; s < 5 && c.closed === null; s++) {
        h.clock.advance(1000);
        fire(20);
      }
      expect(c.closed?.code).to.equal(DisconnectCode.FLOOD);
      expect(c.disconnectFrame()?.code).to.equal(4006);
    });
  });

  describe('liveness', () => {
    it('pings every heartbeatMs from the shared sweep and echoes client pings', async () => {
      h = await SessionHarness.create({ config: (c) => (c.session.heartbeatMs = 10_000) });
      const c = await h.login('hb', { kind: 'tcp' });
      h.clock.advance(9_999);
      h.sweep();
      expect(c.take()).to.have.length(0);
      h.clock.advance(1);
      h.sweep();
      const [ping] = c.take();
      expect(ping?.ping?.timestampMs).to.equal(h.clock.ms);
      c.send({ id: 3, ping: { timestampMs: 42 } });
      expect(c.take().map((f) => [f.id, f.pong?.timestampMs])).to.deep.equal([[3, 42]]);
    });

    it('disconnects with 4004 after idleTimeoutMs without a frame; any frame counts as liveness', async () => {
      h = await SessionHarness.create({ config: (c) => (c.session.idleTimeoutMs = 30_000) });
      const c = await h.login('idle');
      h.clock.advance(20_000);
      c.send({ pong: { timestampMs: 1 } });
      h.clock.advance(20_000);
      h.sweep();
      expect(c.closed).to.equal(null);
      h.clock.advance(10_001);
      h.sweep();
      expect(c.closed?.code).to.equal(DisconnectCode.IDLE_TIMEOUT);
    });
  });

  describe('admission', () => {
    it('leaves per-IP and global caps to the listeners: a socket is counted once, at accept', async () => {
      // src/transport/admission.ts admitted (and counted) these sockets before they became
      // connections; counting them again here would refuse a client below its limit.
      h = await SessionHarness.create({
        config: (c) => {
          c.limits.connectionsPerIp = 1;
          c.limits.maxConnections = 1;
        },
      });
      const first = h.connect({ remoteAddress: '10.0.0.1' });
      const second = h.connect({ remoteAddress: '10.0.0.1' });
      expect([first.closed, second.closed]).to.deep.equal([null, null]);
      expect(h.manager.stats().connections.total).to.equal(2);
      expect(await h.metric('ferry_connections_refused_total')).to.equal(0);
    });

    it('moves a connection to the authenticated phase when its session opens, not before', async () => {
      h = await SessionHarness.create();
      const waiting = h.connect();
      const alice = await h.login('alice');
      expect([waiting.authenticated, alice.authenticated]).to.deep.equal([false, true]);
    });

    it('refuses a connection while draining with 4001 and the drain reconnect advice', async () => {
      h = await SessionHarness.create({ config: (c) => (c.drain.reconnectDelayMs = 1234) });
      void h.manager.drain({ timeoutMs: 0, reconnectDelayMs: 1234 });
      const late = h.connect();
      expect(late.closed?.code).to.equal(DisconnectCode.GOING_AWAY);
      expect(late.disconnectFrame()).to.deep.include({ code: 4001, reconnect: true, reconnectDelayMs: 1234 });
      expect(await h.metric('ferry_connections_refused_total', { reason: 'draining' })).to.equal(1);
    });
  });

  describe('bad input', () => {
    it('closes a connection sending garbage with 4500 while another session keeps working', async () => {
      h = await SessionHarness.create();
      const alice = await h.login('alice', { kind: 'tcp' });
      const bob = await h.login('bob');
      const garbage = await h.login('garbage');
      garbage.sendBytes(Buffer.from('ffffffffffffffffffff', 'hex'));
      expect(garbage.closed?.code).to.equal(DisconnectCode.BAD_FRAME);
      expect(garbage.disconnectFrame()?.code).to.equal(4500);
      expect(await h.metric('ferry_errors_total', { code: '4500' })).to.equal(1);

      alice.send({ id: 1, send: { toUser: 'bob', payload: bytes('still fine'), qos: 1, clientMsgId: 'a' } });
      await settle();
      expect(bob.delivers().map((d) => text(d.payload))).to.deep.equal(['still fine']);
    });

    it('reassembles frames split across TCP chunks and rejects an oversized length with 4501', async () => {
      h = await SessionHarness.create({ config: (c) => (c.limits.maxFrameBytes = 2048) });
      const c = await h.login('tcp-user', { kind: 'tcp' });
      const frame = Buffer.from([0, 0, 0, 7, 0x08, 0x05, 0x82, 0x01, 0x02, 0x08, 0x07]); // id 5, ping{ts 7}
      c.sendBytes(frame.subarray(0, 3));
      c.sendBytes(frame.subarray(3, 8));
      c.sendBytes(frame.subarray(8));
      expect(c.take().map((f) => [f.id, f.pong?.timestampMs])).to.deep.equal([[5, 7]]);
      c.sendBytes(Buffer.from([0, 0, 0x10, 0]));
      expect(c.closed?.code).to.equal(DisconnectCode.FRAME_TOO_LARGE);
    });

    it('answers a field error with an Error frame carrying the request id and keeps the connection', async () => {
      h = await SessionHarness.create();
      const c = await h.login('sloppy');
      c.send({ id: 33, send: { toUser: '', payload: bytes('to nobody') } });
      const [f] = c.take();
      expect(f?.id).to.equal(33);
      expect(f?.error?.code).to.equal(ReplyCode.BAD_REQUEST);
      expect(c.closed).to.equal(null);
    });
  });

  describe('drain', () => {
    it('refuses new sends with 107, waits for acks, then sends 4001 GOING_AWAY with the delay', async () => {
      h = await SessionHarness.create();
      const alice = await h.login('alice');
      const bob = await h.login('bob');
      alice.send({ id: 1, send: { toUser: 'bob', payload: bytes('before'), qos: 1, clientMsgId: 'b' } });
      await settle();
      alice.take();
      const drained = h.manager.drain({ timeoutMs: 10_000, reconnectDelayMs: 1500 });
      alice.send({ id: 2, send: { toUser: 'bob', payload: bytes('during'), qos: 1, clientMsgId: 'd' } });
      const [refused] = alice.take();
      expect(refused?.id).to.equal(2);
      expect(refused?.error).to.deep.include({ code: ReplyCode.UNAVAILABLE, retryable: true });
      expect(h.connect().closed?.code, 'new connections are refused').to.equal(DisconnectCode.GOING_AWAY);
      await settle();
      expect(alice.closed, 'still waiting for bob to ack').to.equal(null);
      bob.send({ ack: { seq: 1 } });
      const result = await drained;
      expect(result).to.deep.equal({ clean: true, flushed: true });
      for (const c of [alice, bob]) {
        expect(c.closed?.code).to.equal(DisconnectCode.GOING_AWAY);
        expect(c.disconnectFrame()).to.deep.include({ code: 4001, reconnect: true, reconnectDelayMs: 1500 });
      }
      expect(bob.delivers().map((d) => text(d.payload))).to.deep.equal(['before']);
    });

    it('goes away after half the timeout even when deliveries stay unacked', async () => {
      h = await SessionHarness.create();
      const alice = await h.login('alice');
      const bob = await h.login('bob');
      alice.send({ id: 1, send: { toUser: 'bob', payload: bytes('never acked'), qos: 1, clientMsgId: 'n' } });
      await settle();
      const result = await h.manager.drain({ timeoutMs: 60, reconnectDelayMs: 0 });
      expect(result).to.deep.equal({ clean: true, flushed: false });
      expect(bob.closed?.code).to.equal(DisconnectCode.GOING_AWAY);
      expect(await h.store.userCursor('bob', 'default')).to.equal(0);
    });
  });
});
