import { expect } from 'chai';
import { FerryClient, type ClientState } from '../../../client/src/client.js';
import { MemoryStorage } from '../../../client/src/transport-memory.js';
import { FakeNetwork, type FakeServerConn } from './fake-transport.js';

const FAST = { initialMs: 1, maxMs: 5, jitter: 0 };

function client(
  net: FakeNetwork,
  extra: Partial<ConstructorParameters<typeof FerryClient>[0]> = {},
): FerryClient {
  return new FerryClient(
    {
      endpoints: { ws: 'ws://x/ws', wt: 'https://x/wt' },
      token: 't',
      backoff: FAST,
      ackDelayMs: 1,
      storage: new MemoryStorage(),
      ...extra,
    },
    { ws: net.factory('ws'), wt: net.factory('wt') },
    ['wt', 'ws'],
  );
}

async function opened(
  net: FakeNetwork,
  c: FerryClient,
  opts?: Parameters<FakeServerConn['accept']>[0],
): Promise<FakeServerConn> {
  const conn = net.nextConn();
  const started = c.start();
  const server = await conn;
  await server.accept(opts);
  await started;
  return server;
}

describe('client state machine (fake transport)', function () {
  const clients: FerryClient[] = [];
  afterEach(async function () {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  function make(net: FakeNetwork, extra?: Parameters<typeof client>[1]): FerryClient {
    const c = client(net, extra);
    clients.push(c);
    return c;
  }

  it('queues a QoS-1 send made before the connection opens, and resolves it with the SendAck', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    const states: ClientState[] = [];
    c.on('state', (s) => states.push(s.state));
    const acks: number[] = [];
    c.on('ack', (a) => acks.push(a.seq));
    const sending = c.send('bob', 'early');
    const server = await opened(net, c);
    const f = await server.next('send');
    expect(f.send).to.include({ toUser: 'bob', qos: 1 });
    expect(f.send!.clientMsgId).to.match(/^[0-9a-f-]{32,36}$/);
    server.send({ id: f.id, sendAck: { clientMsgId: f.send!.clientMsgId, seq: 7, serverId: 'x' } });
    expect(await sending).to.include({ seq: 7, target: 'bob', duplicate: false });
    expect(acks).to.deep.equal([7]);
    expect(states).to.deep.equal(['connecting', 'open']);
    expect(c.connection).to.include({ transport: 'wt', nodeId: 'n1' });
  });

  it('re-sends an unacknowledged QoS-1 message with the same clientMsgId after a reconnect, and resumes from the last processed seq', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    c.on('message', () => undefined);
    const first = await opened(net, c);
    first.send({ deliver: { seq: 4, qos: 1, fromUser: 'x', payload: Buffer.from('m') } });
    await first.next('ack');
    const sending = c.send('bob', 'survives');
    const sent = await first.next('send');
    const second = net.nextConn();
    first.end(1006, '');
    const s2 = await second;
    const auth = await s2.accept({ ackedSeq: 4 });
    expect(auth.authenticate!.lastSeq).to.equal(4);
    const resent = await s2.next('send');
    expect(resent.send!.clientMsgId).to.equal(sent.send!.clientMsgId);
    s2.send({ id: resent.id, sendAck: { clientMsgId: resent.send!.clientMsgId, seq: 1, duplicate: true } });
    expect(await sending).to.include({ duplicate: true });
  });

  it('takes the server position on log_reset and delivers the seqs that log hands out next, though seen before', async function () {
    const net = new FakeNetwork();
    const c = make(net, { lastSeq: 500 });
    const seen: number[] = [];
    c.on('message', (m) => seen.push(m.seq));
    const first = net.nextConn();
    const started = c.start();
    const s1 = await first;
    // The store lost the log this client had processed up to 500; its new log starts at 1.
    const auth = await s1.accept({ ackedSeq: 0, logReset: true });
    await started;
    expect(auth.authenticate!.lastSeq).to.equal(500);
    expect(c.connection).to.include({ logReset: true, ackedSeq: 0 });
    expect(c.lastSeq).to.equal(0);
    for (const seq of [1, 2]) s1.send({ deliver: { seq, qos: 1, fromUser: 'x', payload: Buffer.from('n') } });
    const ack = await s1.next('ack');
    expect(seen).to.deep.equal([1, 2]);
    expect(ack.ack!.seq).to.equal(2);
    // The next connection resumes from the new position, and a plain AuthResult changes nothing.
    const second = net.nextConn();
    s1.end(1006, '');
    const s2 = await second;
    expect((await s2.accept({ ackedSeq: 2 })).authenticate!.lastSeq).to.equal(2);
    s2.send({ deliver: { seq: 2, qos: 1, fromUser: 'x', payload: Buffer.from('again') } });
    s2.send({ deliver: { seq: 3, qos: 1, fromUser: 'x', payload: Buffer.from('n') } });
    expect((await s2.next('ack')).ack!.seq).to.equal(3);
    expect(seen).to.deep.equal([1, 2, 3]);
    expect(c.connection).to.include({ logReset: false });
  });

  it('drops duplicate deliveries, acks cumulatively, and holds messages until someone listens', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    const server = await opened(net, c);
    for (const seq of [1, 2, 2, 3])
      server.send({ deliver: { seq, qos: 1, fromUser: 'x', payload: Buffer.from(String(seq)) } });
    await new Promise((r) => setTimeout(r, 10));
    expect(server.received.filter((f) => f.body === 'ack')).to.deep.equal([]);
    const seen: number[] = [];
    c.on('message', (m) => seen.push(m.seq));
    const ack = await server.next('ack');
    expect(seen).to.deep.equal([1, 2, 3]);
    expect(ack.ack!.seq).to.equal(3);
    expect(c.lastSeq).to.equal(3);
  });

  it('types fromService on delivered messages: set only from the Deliver field, never from from_user', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    const server = await opened(net, c);
    const seen: { from: string; fromService: string }[] = [];
    const both = new Promise<void>((resolve) =>
      c.on('message', (m) => {
        if (seen.push({ from: m.from, fromService: m.fromService }) === 2) resolve();
      }),
    );
    server.send({ deliver: { qos: 0, fromUser: 'system', fromDevice: 'crm', fromService: 'crm' } });
    server.send({ deliver: { qos: 0, fromUser: 'system', fromDevice: 'crm' } });
    await both;
    expect(seen).to.deep.equal([
      { from: 'system', fromService: 'crm' },
      { from: 'system', fromService: '' },
    ]);
  });

  it('keeps the replay that arrives in the same read as the AuthResult (none lost, none skipped by later acks)', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    const seen: number[] = [];
    c.on('message', (m) => seen.push(m.seq));
    const conn = net.nextConn();
    const started = c.start();
    const server = await conn;
    const auth = await server.next('authenticate');
    // One synchronous burst, as a TCP read hands them over: AuthResult, then the replay.
    server.send({
      id: auth.id,
      authResult: {
        userId: 'u',
        deviceId: 'd',
        sessionId: 's',
        nodeId: 'n1',
        maxFrameBytes: 65536,
        ackedSeq: 4,
      },
    });
    for (const seq of [5, 6, 7])
      server.send({ deliver: { seq, qos: 1, fromUser: 'x', payload: Buffer.from('m') } });
    await started;
    const ack = await server.next('ack');
    expect(seen).to.deep.equal([5, 6, 7]);
    expect(ack.ack!.seq).to.equal(7);
  });

  it('follows GOING_AWAY advice: reconnects after at least the advised delay', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    const server = await opened(net, c);
    const disconnect = new Promise<{ delayMs: number; code: number; willReconnect: boolean }>((r) =>
      c.once('disconnect', r),
    );
    const next = net.nextConn();
    server.end(4001, 'bye', { code: 4001, reason: 'bye', reconnect: true, reconnectDelayMs: 40 });
    expect(await disconnect).to.deep.include({ code: 4001, willReconnect: true });
    expect((await disconnect).delayMs).to.be.at.least(40);
    await (await next).accept();
    await c.whenOpen();
  });

  it('stops for good on 4504 and rejects start()', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    const conn = net.nextConn();
    const started = c.start();
    const server = await conn;
    await server.next('authenticate');
    server.end(4504, 'bad token', { code: 4504, reason: 'bad token' });
    const err = await started.then(
      () => null,
      (e: unknown) => e as { code: string; disconnectCode: number },
    );
    expect(err).to.include({ code: 'FERRY_CLIENT_CLOSED', disconnectCode: 4504 });
    expect(c.state).to.equal('closed');
    expect(net.conns.length).to.equal(1);
  });

  it('gets a fresh token after 4009', async function () {
    const net = new FakeNetwork();
    let n = 0;
    const c = make(net, { token: undefined, getToken: () => `tok-${++n}` });
    const first = await opened(net, c);
    const next = net.nextConn();
    first.end(4009, 'expired', { code: 4009, reason: 'expired', reconnect: true });
    const auth = await (await next).accept();
    expect(auth.authenticate!.token).to.equal('tok-2');
  });

  it('retries a QoS-1 message the server refused as retryable (107), with the same id', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    const server = await opened(net, c);
    const sending = c.send('bob', 'x');
    const f1 = await server.next('send');
    server.send({ id: f1.id, error: { code: 107, message: 'draining', retryable: true, retryAfterMs: 5 } });
    const f2 = await server.next('send');
    expect(f2.send!.clientMsgId).to.equal(f1.send!.clientMsgId);
    server.send({ id: f2.id, sendAck: { seq: 2 } });
    expect((await sending).seq).to.equal(2);
  });

  it('keeps messages to one recipient in order after a retryable refusal: later ones wait for it', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    const server = await opened(net, c);
    const a = c.send('bob', 'a');
    const fa = await server.next('send');
    server.send({ id: fa.id, error: { code: 107, message: 'store down', retryable: true, retryAfterMs: 5 } });
    await new Promise((r) => setImmediate(r)); // the refusal's promise callbacks run (no timer involved)
    // Sent while 'a' waits for its retry: held behind it; another recipient is not held.
    const b = c.send('bob', 'b');
    const x = c.send('carol', 'x');
    const next = await server.next('send');
    expect(new TextDecoder().decode(next.send!.payload!), 'carol is not held').to.equal('x');
    server.send({ id: next.id, sendAck: { seq: 1 } });
    const retry = await server.next('send');
    expect(new TextDecoder().decode(retry.send!.payload!), 'the retry comes before b').to.equal('a');
    server.send({ id: retry.id, sendAck: { seq: 7 } });
    const fb = await server.next('send');
    expect(new TextDecoder().decode(fb.send!.payload!)).to.equal('b');
    server.send({ id: fb.id, sendAck: { seq: 8 } });
    expect([(await a).seq, (await b).seq, (await x).seq]).to.deep.equal([7, 8, 1]);
  });

  it('rejects a QoS-1 message the server refused for good, and QoS 0 while offline', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    const err0 = await c.send('bob', 'x', { qos: 0 }).catch((e: { code: string }) => e);
    expect(err0).to.include({ code: 'FERRY_CLIENT_NOT_CONNECTED' });
    const server = await opened(net, c);
    const sending = c.send('bob', 'x');
    const f = await server.next('send');
    server.send({ id: f.id, error: { code: 103, message: 'no' } });
    expect(await sending.catch((e: { replyCode: number }) => e)).to.include({ replyCode: 103 });
    expect(c.pendingCount).to.equal(0);
  });

  it('falls back when WebTransport is refused and remembers it for the next client', async function () {
    const net = new FakeNetwork();
    net.refuse.add('wt');
    const storage = new MemoryStorage();
    const attempts: string[] = [];
    const c = make(net, { storage });
    c.on('transport', (t) => attempts.push(`${t.kind}:${t.ok}`));
    await opened(net, c);
    expect(attempts).to.deep.equal(['wt:false', 'ws:true']);
    net.refuse.clear();
    const again: string[] = [];
    const c2 = make(net, { storage });
    c2.on('transport', (t) => again.push(`${t.kind}:${t.ok}`));
    await opened(net, c2);
    expect(again).to.deep.equal(['ws:true']);
  });

  it('answers the server Ping with a Pong echoing id and timestamp, and resubscribes topics from the last offset', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    c.on('message', () => undefined);
    const server = await opened(net, c);
    server.send({ id: 9, ping: { timestampMs: 123 } });
    const pong = await server.next('pong');
    expect(pong).to.deep.include({ id: 9 });
    expect(pong.pong!.timestampMs).to.equal(123);
    const sub = c.subscribe('room');
    const s = await server.next('subscribe');
    server.send({ id: s.id, reply: { topicSeq: 10 } });
    expect(await sub).to.deep.equal({ topicSeq: 10 });
    server.send({ deliver: { topic: 'room', seq: 11, qos: 1, payload: Buffer.from('t') } });
    const next = net.nextConn();
    await new Promise((r) => setTimeout(r, 5));
    server.end(1006, '');
    const s2 = await next;
    await s2.accept();
    expect((await s2.next('subscribe')).subscribe).to.deep.include({ topic: 'room', sinceSeq: 11 });
  });

  it('subscribes from the start, then with a fresh subscription token on every reconnect', async function () {
    const net = new FakeNetwork();
    const c = make(net);
    let received = 0;
    let bothReceived: () => void = () => undefined;
    const both = new Promise<void>((resolve) => (bothReceived = resolve));
    c.on('message', () => {
      if (++received === 2) bothReceived();
    });
    const server = await opened(net, c);
    let n = 0;
    const sub = c.subscribe('chat:1', { fromStart: true, token: () => `sub-token-${++n}` });
    const s = await server.next('subscribe');
    expect(s.subscribe).to.deep.include({
      topic: 'chat:1',
      sinceSeq: 0,
      fromStart: true,
      token: 'sub-token-1',
    });
    server.send({ id: s.id, reply: { topicSeq: 2 } });
    await sub;
    server.send({ deliver: { topic: 'chat:1', seq: 1, qos: 1, payload: Buffer.from('a') } });
    server.send({ deliver: { topic: 'chat:1', seq: 2, qos: 1, payload: Buffer.from('b') } });
    await both;
    const next = net.nextConn();
    server.end(1006, '');
    const s2 = await next;
    await s2.accept();
    const again = (await s2.next('subscribe')).subscribe;
    expect(again).to.deep.include({ topic: 'chat:1', sinceSeq: 2, token: 'sub-token-2' });
    expect(again?.fromStart ?? false).to.equal(false);
  });
});
