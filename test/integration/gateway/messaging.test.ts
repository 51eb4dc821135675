import { expect } from 'chai';
import { GatewayProcess, testToken, OPEN_PERMISSIONS } from '../../helpers/gateway-process.js';
import { WireClient } from '../../helpers/wire-client.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined): string => new TextDecoder().decode(b ?? new Uint8Array());

describe('gateway: user and topic messages over WebSocket, TCP and WebTransport', function () {
  let gw: GatewayProcess;
  let certHashes: string[] = [];
  const clients: WireClient[] = [];
  const login = async (url: string, user: string, deviceId?: string): Promise<WireClient> => {
    const c = await WireClient.login(url, await testToken(user), { deviceId, certHashes });
    clients.push(c);
    return c;
  };

  before(async () => {
    gw = await GatewayProcess.start([...OPEN_PERMISSIONS], { wt: true });
    certHashes = await gw.wtCertHashes();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  after(async () => {
    await gw.cleanup();
  });

  it('delivers QoS-1 user messages between WebSocket, WebTransport and TCP clients with acks and sequences', async () => {
    const alice = await login(gw.urls.ws, 'm-alice');
    const bob = await login(gw.urls.wt, 'm-bob');
    const carol = await login(gw.urls.tcp, 'm-carol');

    const id = alice.send({ send: { toUser: 'm-bob', payload: bytes('hi bob'), qos: 1, clientMsgId: 'a1' } });
    const ack = await alice.nextBody('sendAck');
    expect(ack.id).to.equal(id);
    expect(ack.sendAck?.seq).to.equal(1);
    expect(ack.sendAck?.serverId).to.be.a('string').and.not.equal('');
    const d = await bob.nextBody('deliver');
    expect(d.deliver?.fromUser).to.equal('m-alice');
    expect(d.deliver?.seq).to.equal(1);
    expect(d.deliver?.serverId).to.equal(ack.sendAck?.serverId);
    expect(text(d.deliver?.payload)).to.equal('hi bob');
    bob.send({ ack: { seq: 1 } });

    bob.send({ send: { toUser: 'm-carol', payload: bytes('to tcp'), qos: 1, clientMsgId: 'b1' } });
    await bob.nextBody('sendAck');
    const dc = await carol.nextBody('deliver');
    expect(text(dc.deliver?.payload)).to.equal('to tcp');
    expect(dc.deliver?.fromUser).to.equal('m-bob');

    carol.send({ send: { toUser: 'm-alice', payload: bytes('qos0 from tcp'), qos: 0 } });
    const da = await alice.nextBody('deliver');
    expect(text(da.deliver?.payload)).to.equal('qos0 from tcp');
    expect(da.deliver?.seq).to.equal(0);
    expect(da.deliver?.qos ?? 0).to.equal(0);
  });

  it('answers a QoS-0 Send with id 0 with no SendAck, and still refuses a bad one with an Error of id 0', async () => {
    const alice = await login(gw.urls.ws, 'z-alice');
    const bob = await login(gw.urls.tcp, 'z-bob');
    alice.send({ id: 0, send: { toUser: 'z-bob', payload: bytes('fire and forget'), qos: 0 } });
    const id = alice.send({ send: { toUser: 'z-bob', payload: bytes('with an id'), qos: 0 } });
    expect(text((await bob.nextBody('deliver')).deliver?.payload)).to.equal('fire and forget');
    expect(text((await bob.nextBody('deliver')).deliver?.payload)).to.equal('with an id');
    // Answers to one connection's QoS-0 Sends leave in the order the Sends were taken: a SendAck for
    // the id-0 Send would be here before the one for `id`.
    const ack = await alice.nextBody('sendAck');
    expect(ack.id).to.equal(id);
    expect(alice.frames.filter((f) => f.body === 'sendAck')).to.have.length(0);

    alice.send({ id: 0, send: { toUser: '$server', payload: bytes('x'), qos: 0 } });
    const err = await alice.nextBody('error');
    expect(err.id ?? 0).to.equal(0);
    expect(err.error?.code).to.equal(103);
  });

  it("delivers to every one of a user's devices", async () => {
    const d1 = await login(gw.urls.ws, 'md-dave', 'phone');
    const d2 = await login(gw.urls.tcp, 'md-dave', 'laptop');
    const d3 = await login(gw.urls.wt, 'md-dave', 'browser');
    const erin = await login(gw.urls.ws, 'md-erin');
    erin.send({ send: { toUser: 'md-dave', payload: bytes('all'), qos: 1, clientMsgId: 'e1' } });
    const got = await Promise.all([d1, d2, d3].map((d) => d.nextBody('deliver')));
    expect(got.map((f) => text(f.deliver?.payload))).to.deep.equal(['all', 'all', 'all']);
    expect(new Set(got.map((f) => f.deliver?.seq)).size).to.equal(1);
  });

  it('fans topic publications out to subscribers on every transport, not to the publisher', async () => {
    const a = await login(gw.urls.ws, 't-a');
    const b = await login(gw.urls.wt, 't-b');
    const c = await login(gw.urls.tcp, 't-c');
    for (const x of [a, b, c]) {
      const id = x.send({ subscribe: { topic: 'room-1' } });
      const r = await x.next((f) => f.id === id);
      expect(r.body).to.equal('reply');
    }
    a.send({ publish: { topic: 'room-1', payload: bytes('hello room'), qos: 0 } });
    const [fb, fc] = await Promise.all([b.nextBody('deliver'), c.nextBody('deliver')]);
    expect(fb.deliver?.topic).to.equal('room-1');
    expect(text(fc.deliver?.payload)).to.equal('hello room');
    expect(fc.deliver?.fromUser).to.equal('t-a');

    c.send({ publish: { topic: 'room-1', payload: bytes('durable'), qos: 1, clientMsgId: 'c1' } });
    const ack = await c.nextBody('sendAck');
    expect(ack.sendAck?.seq).to.equal(1);
    const [ga, gb] = await Promise.all([a.nextBody('deliver'), b.nextBody('deliver')]);
    expect(ga.deliver?.seq).to.equal(1);
    expect(text(gb.deliver?.payload)).to.equal('durable');

    const uid = b.send({ unsubscribe: { topic: 'room-1' } });
    await b.next((f) => f.id === uid);
    a.send({ publish: { topic: 'room-1', payload: bytes('after unsub'), qos: 0 } });
    await c.nextBody('deliver');
    // b must not get it; a ping round trip on b's connection orders the check after delivery.
    const pid = b.send({ ping: { timestampMs: 7 } });
    await b.next((f) => f.id === pid || f.body === 'pong');
    expect(b.frames.filter((f) => f.body === 'deliver')).to.have.length(0);

    // A late subscriber recovers retained QoS-1 publications with since_seq.
    const late = await login(gw.urls.ws, 't-late');
    const sid = late.send({ subscribe: { topic: 'room-1', sinceSeq: 0 } });
    const rep = await late.next((f) => f.id === sid);
    expect(rep.reply?.topicSeq).to.equal(1);
  });

  it('answers presence queries', async () => {
    const p = await login(gw.urls.ws, 'p-one', 'dev-a');
    const id = p.send({ presenceQuery: { userIds: ['p-one', 'p-nobody'] } });
    const r = await p.next((f) => f.id === id);
    expect(r.body).to.equal('presenceResult');
    const users = r.presenceResult?.users ?? [];
    const one = users.find((u) => u.userId === 'p-one');
    expect(one?.online).to.equal(true);
    expect(one?.devices?.[0]?.deviceId).to.equal('dev-a');
    expect(one?.devices?.[0]?.transport).to.equal('ws');
    expect(users.find((u) => u.userId === 'p-nobody')?.online ?? false).to.equal(false);
  });

  it('recovers topic history after a given offset', async () => {
    const pub = await login(gw.urls.ws, 'h-pub');
    for (let i = 1; i <= 3; i++) {
      pub.send({ publish: { topic: 'hist', payload: bytes(`h${i}`), qos: 1, clientMsgId: `h${i}` } });
      await pub.nextBody('sendAck');
    }
    const sub = await login(gw.urls.tcp, 'h-sub');
    const id = sub.send({ subscribe: { topic: 'hist', sinceSeq: 1 } });
    await sub.next((f) => f.id === id);
    const got = [await sub.nextBody('deliver'), await sub.nextBody('deliver')];
    expect(got.map((f) => text(f.deliver?.payload))).to.deep.equal(['h2', 'h3']);
  });
});
