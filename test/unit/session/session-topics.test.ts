import { expect } from 'chai';
import { ReplyCode } from '../../../src/errors.js';
import { SessionHarness, bytes, settle, text } from '../../helpers/session-harness.js';
import type { FakeConnection } from '../../helpers/fake-connection.js';

async function subscribe(c: FakeConnection, id: number, topic: string, sinceSeq = 0) {
  c.send({ id, subscribe: { topic, sinceSeq } });
  await settle();
  return c.take();
}

async function publish(c: FakeConnection, id: number, topic: string, body: string, qos: 0 | 1) {
  c.send({ id, publish: { topic, payload: bytes(body), qos, clientMsgId: qos === 1 ? `p${id}` : '' } });
  await settle();
  return c.take().find((f) => f.id === id);
}

describe('session: topics', () => {
  let h: SessionHarness;
  afterEach(async () => {
    await h.close();
  });

  it('fans publications out to subscribers but not to the publishing session', async () => {
    h = await SessionHarness.create();
    const a = await h.login('a');
    const b = await h.login('b');
    const c = await h.login('c', { kind: 'tcp' });
    for (const x of [a, b, c]) {
      const [r] = await subscribe(x, 1, 'room');
      expect(r?.body).to.equal('reply');
      expect(r?.reply?.topicSeq).to.equal(0);
    }
    expect(await publish(a, 2, 'room', 'hi', 0)).to.have.property('body', 'sendAck');
    for (const x of [b, c]) {
      const [d] = x.take();
      expect(d?.deliver).to.deep.include({ topic: 'room', fromUser: 'a', seq: 0 });
      expect(text(d?.deliver?.payload)).to.equal('hi');
    }
    expect(a.take()).to.have.length(0);

    const ack = await publish(c, 3, 'room', 'durable', 1);
    expect(ack?.sendAck?.seq).to.equal(1);
    expect(a.take().map((f) => f.deliver?.seq)).to.deep.equal([1]);
    expect(b.take().map((f) => f.deliver?.seq)).to.deep.equal([1]);
    expect(c.take()).to.have.length(0);
  });

  it('another device of the publishing user does receive it', async () => {
    h = await SessionHarness.create();
    const phone = await h.login('u', { deviceId: 'phone' });
    const laptop = await h.login('u', { deviceId: 'laptop' });
    await subscribe(phone, 1, 't');
    await subscribe(laptop, 1, 't');
    await publish(phone, 2, 't', 'sync', 0);
    expect(laptop.delivers().map((d) => text(d.payload))).to.deep.equal(['sync']);
    expect(phone.delivers()).to.have.length(0);
  });

  it('stops delivering after Unsubscribe (answered with Reply)', async () => {
    h = await SessionHarness.create();
    const pub = await h.login('pub');
    const sub = await h.login('sub');
    await subscribe(sub, 1, 'news');
    sub.send({ id: 2, unsubscribe: { topic: 'news' } });
    await settle();
    const [r] = sub.take();
    expect([r?.id, r?.body]).to.deep.equal([2, 'reply']);
    await publish(pub, 3, 'news', 'missed', 0);
    expect(sub.take()).to.have.length(0);
    expect(h.manager.stats().subscriptions).to.equal(0);
  });

  it('replays retained QoS-1 publications after since_seq, then live ones, in order', async () => {
    h = await SessionHarness.create();
    const pub = await h.login('pub');
    for (let i = 1; i <= 3; i++) await publish(pub, i, 'hist', `h${i}`, 1);
    const late = await h.login('late');
    const frames = await subscribe(late, 10, 'hist', 1);
    expect(frames[0]?.reply?.topicSeq).to.equal(3);
    expect(frames.slice(1).map((f) => text(f.deliver?.payload))).to.deep.equal(['h2', 'h3']);
    await publish(pub, 4, 'hist', 'h4', 1);
    expect(late.take().map((f) => [f.deliver?.seq, text(f.deliver?.payload)])).to.deep.equal([[4, 'h4']]);
  });

  it('holds live publications that arrive during a replay until the replay is done', async () => {
    h = await SessionHarness.create();
    const pub = await h.login('pub');
    for (let i = 1; i <= 2; i++) await publish(pub, i, 'race', `r${i}`, 1);
    const late = await h.login('late');
    // The subscription and a new publication land in the same turn: the publication is stored
    // before the replay reads, and its live copy arrives while the replay is still running.
    late.send({ id: 12, subscribe: { topic: 'race', sinceSeq: 1 } });
    pub.send({ id: 3, publish: { topic: 'race', payload: bytes('r3'), qos: 1, clientMsgId: 'r3' } });
    await settle();
    expect(late.take().map((f) => f.body)).to.deep.equal(['reply', 'deliver', 'deliver']);
    const seqs = late.delivers().map((d) => d.seq);
    expect(seqs).to.deep.equal([2, 3]);
  });

  it('refuses subscriptions past maxSubscriptionsPerConnection with LIMIT_EXCEEDED', async () => {
    h = await SessionHarness.create({ config: (c) => (c.limits.maxSubscriptionsPerConnection = 2) });
    const s = await h.login('s');
    await subscribe(s, 1, 't1');
    await subscribe(s, 2, 't2');
    const again = await subscribe(s, 3, 't1'); // re-subscribing is not a new subscription
    expect(again[0]?.body).to.equal('reply');
    const [f] = await subscribe(s, 4, 't3');
    expect(f?.id).to.equal(4);
    expect(f?.error?.code).to.equal(ReplyCode.LIMIT_EXCEEDED);
    expect(s.closed).to.equal(null);
  });

  it('leaves every topic when the connection closes', async () => {
    h = await SessionHarness.create();
    const s = await h.login('s');
    await subscribe(s, 1, 'x');
    await subscribe(s, 2, 'y');
    expect(h.manager.stats().subscriptions).to.equal(2);
    s.peerClose();
    expect(h.manager.stats()).to.deep.include({ subscriptions: 0, topics: 0 });
  });
});
