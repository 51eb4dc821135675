import { expect } from 'chai';
import { DisconnectCode } from '../../../src/errors.js';
import { decodeFrame, encodeFrame, type FrameInit } from '../../../src/protocol/codec.js';
import type { FakeConnection } from '../../helpers/fake-connection.js';
import { bytes, SessionHarness, settle, text } from '../../helpers/session-harness.js';

/** The client sends one frame as a WebTransport datagram (no length prefix). */
function datagram(conn: FakeConnection, frame: FrameInit): void {
  conn.handler?.onDatagram(encodeFrame(frame));
}

const WT = { kind: 'wt', supportsDatagrams: true, maxDatagramBytes: 1200 } as const;

describe('session: WebTransport datagrams (docs/protocol.md §2.3)', () => {
  let h: SessionHarness;
  afterEach(async () => {
    await h.close();
  });

  it('accepts an ephemeral QoS-0 send and delivers it as a datagram', async () => {
    h = await SessionHarness.create();
    const alice = await h.login('alice', WT);
    const bob = await h.login('bob', WT);
    datagram(alice, { send: { toUser: 'bob', payload: bytes('typing'), ephemeral: true } });
    await settle();
    expect(alice.closed).to.equal(null);
    expect(bob.datagrams).to.have.length(1);
    const f = decodeFrame(bob.datagrams[0]!, Infinity);
    expect(f.deliver?.ephemeral).to.equal(true);
    expect(text(f.deliver?.payload)).to.equal('typing');
  });

  it('accepts an ephemeral publish', async () => {
    h = await SessionHarness.create();
    const alice = await h.login('alice', WT);
    datagram(alice, { publish: { topic: 'room', payload: bytes('here'), ephemeral: true } });
    await settle();
    expect(alice.closed).to.equal(null);
  });

  for (const [name, frame] of [
    ['a QoS-1 send', { send: { toUser: 'bob', payload: bytes('x'), qos: 1, clientMsgId: 'm1' } }],
    ['a non-ephemeral send', { send: { toUser: 'bob', payload: bytes('x') } }],
    ['a ping', { ping: { timestampMs: 1 } }],
  ] as [string, FrameInit][]) {
    it(`closes with 4503 for ${name} in a datagram`, async () => {
      h = await SessionHarness.create();
      const alice = await h.login('alice', WT);
      datagram(alice, frame);
      await settle();
      expect(alice.closed?.code).to.equal(DisconnectCode.PROTOCOL_VIOLATION);
    });
  }

  it('drops an ephemeral datagram that races ahead of authentication, and refuses an Authenticate in one', async () => {
    h = await SessionHarness.create();
    const early = h.connect(WT);
    datagram(early, { send: { toUser: 'bob', payload: bytes('x'), ephemeral: true } });
    await settle();
    expect(early.closed).to.equal(null);
    expect(early.take()).to.have.length(0);

    const auth = h.connect(WT);
    datagram(auth, { authenticate: { token: h.auth.issue('carol') } });
    await settle();
    expect(auth.closed?.code).to.equal(DisconnectCode.PROTOCOL_VIOLATION);
  });
});
