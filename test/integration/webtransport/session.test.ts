import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { connect, WebTransportConnectError } from '../../../src/webtransport/client.js';
import type { WebTransportClientSession } from '../../../src/webtransport/client.js';
import { WT_SESSION_GONE } from '../../../src/webtransport/constants.js';
import { makeCert, SessionRecorder, StreamRecorder, TestServer, until, type TestCert } from './support.js';

describe('WebTransport server and Node client (loopback UDP)', function () {
  this.timeout(20_000);
  let cert: TestCert;
  let server: TestServer;
  let clients: WebTransportClientSession[];

  before(function () {
    cert = makeCert();
  });

  beforeEach(async function () {
    clients = [];
    server = await new TestServer(cert, {
      onSessionRequest: (req) => {
        if (req.path !== '/wt' && !req.path.startsWith('/wt?')) return { status: 404 };
        if (req.origin === 'https://evil.test') return { status: 403 };
        return { status: 200 };
      },
    }).start();
  });

  afterEach(async function () {
    for (const c of clients) c.destroy();
    await server.close();
  });

  async function open(path = '/wt'): Promise<[WebTransportClientSession, SessionRecorder, SessionRecorder]> {
    const session = await server.connect(path, { origin: 'https://app.test' });
    clients.push(session);
    const client = new SessionRecorder(session);
    await until(() => server.sessions.length === clients.length, 'server session');
    return [session, client, server.sessions.at(-1)!];
  }

  it('gets a session ready and shows the request to the server', async function () {
    const [session, , remote] = await open('/wt?room=1');
    expect(session.id).to.equal(0);
    expect(session.maxDatagramBytes).to.be.greaterThan(1000);
    expect(remote.session.request).to.include({ path: '/wt?room=1', origin: 'https://app.test' });
    expect(remote.session.request.protocol).to.equal('webtransport');
    expect(remote.session.request.authority).to.equal(`127.0.0.1:${server.port}`);
    expect(remote.session.request.headers.get('sec-webtransport-http3-draft02')).to.equal('1');
    expect(remote.session.remoteAddress).to.equal('127.0.0.1');
  });

  it('echoes a client-opened bidirectional stream', async function () {
    const [session] = await open();
    const stream = session.openBidiStream();
    const rec = new StreamRecorder(stream);
    stream.write(Buffer.from('hello, '));
    stream.write(Buffer.from('ferry'));
    stream.end();
    await until(() => rec.ended, 'echo');
    expect(rec.text()).to.equal('hello, ferry');
  });

  it('echoes a server-opened bidirectional stream', async function () {
    const [, client, remote] = await open();
    client.echo = true; // affects streams opened from now on
    const stream = remote.session.openBidiStream();
    const rec = new StreamRecorder(stream);
    stream.write(Buffer.from('from the server'));
    stream.end();
    await until(() => rec.ended, 'echo');
    expect(rec.text()).to.equal('from the server');
    expect(stream.id % 4).to.equal(1); // RFC 9000 §2.1: server-initiated bidirectional
  });

  it('carries unidirectional streams both ways', async function () {
    const [session, client, remote] = await open();
    const up = session.openUniStream();
    up.write(Buffer.from('up'));
    up.end();
    const down = remote.session.openUniStream();
    down.write(Buffer.from('down'));
    down.end();
    await until(() => remote.uni.length === 1 && client.uni.length === 1, 'uni streams');
    const upRec = remote.streams.get(remote.uni[0]!.id)!;
    const downRec = client.streams.get(client.uni[0]!.id)!;
    await until(() => upRec.ended && downRec.ended, 'uni FIN');
    expect(upRec.text()).to.equal('up');
    expect(downRec.text()).to.equal('down');
  });

  it('delivers datagrams both ways with the session prefix stripped', async function () {
    const [session, client, remote] = await open();
    // Datagrams may be lost by design; on loopback they are not, but resend until seen anyway.
    await until(() => {
      session.sendDatagram(Buffer.from('ping'));
      return remote.datagrams.length > 0;
    }, 'datagram to server');
    await until(() => {
      remote.session.sendDatagram(Buffer.from('pong'));
      return client.datagrams.length > 0;
    }, 'datagram to client');
    expect(Buffer.from(remote.datagrams[0]!).toString()).to.equal('ping');
    expect(Buffer.from(client.datagrams[0]!).toString()).to.equal('pong');
    expect(session.sendDatagram(new Uint8Array(session.maxDatagramBytes + 1))).to.equal(false);
  });

  it('maps stream reset codes both ways (draft §4.3 application error space)', async function () {
    const [session, client, remote] = await open();
    const stream = session.openBidiStream();
    const rec = new StreamRecorder(stream);
    stream.write(Buffer.from('x'));
    await until(() => remote.bidi.length === 1, 'server stream');
    stream.reset(42);
    await until(() => remote.streams.get(stream.id)!.resetCode !== null, 'reset at the server');
    expect(remote.streams.get(stream.id)!.resetCode).to.equal(42);
    // Server resets its stream towards the client with a large u32 code.
    const down = remote.session.openUniStream();
    down.write(Buffer.from('y'));
    await until(() => client.uni.length === 1, 'uni at the client');
    down.reset(0xfffffffe);
    await until(() => client.streams.get(client.uni[0]!.id)!.resetCode !== null, 'reset at the client');
    expect(client.streams.get(client.uni[0]!.id)!.resetCode).to.equal(0xfffffffe);
    expect(rec.resetCode).to.equal(null);
    expect(remote.closed).to.equal(null);
  });

  it('closes with code and reason from the client, seen by the server, once', async function () {
    const [session, client, remote] = await open();
    const stream = session.openBidiStream();
    const rec = new StreamRecorder(stream);
    stream.write(Buffer.from('x'));
    await until(() => remote.bidi.length === 1, 'stream');
    session.close(4001, 'client says bye ✓');
    await until(() => remote.closed !== null, 'server close');
    expect(remote.closed).to.deep.equal([4001, 'client says bye ✓']);
    expect(client.closed).to.deep.equal([4001, 'client says bye ✓']);
    expect(rec.resetCode).to.equal(WT_SESSION_GONE);
    await until(() => server.server.connectionCount === 0, 'connection closed by the server');
    expect(remote.closes).to.equal(1);
    expect(client.closes).to.equal(1);
  });

  it('closes with code and reason from the server, seen by the client, once', async function () {
    const [session, client, remote] = await open();
    remote.session.close(4403, 'kicked');
    await until(() => client.closed !== null, 'client close');
    expect(client.closed).to.deep.equal([4403, 'kicked']);
    expect(remote.closed).to.deep.equal([4403, 'kicked']);
    expect(() => session.openBidiStream()).to.throw();
    expect(session.sendDatagram(Buffer.from('late'))).to.equal(false);
    await until(() => server.server.connectionCount === 0, 'connection closed');
    expect(client.closes).to.equal(1);
  });

  it('reports a refused path (404) and a refused origin (403) to the client', async function () {
    const refused = async (path: string, origin: string): Promise<number | null> => {
      try {
        clients.push(await server.connect(path, { origin }));
        return 200;
      } catch (err) {
        expect(err).to.be.instanceOf(WebTransportConnectError);
        return (err as WebTransportConnectError).status;
      }
    };
    expect(await refused('/nope', 'https://app.test')).to.equal(404);
    expect(await refused('/wt', 'https://evil.test')).to.equal(403);
    expect(server.sessions).to.have.length(0);
  });

  it('rejects a server whose certificate hash does not match', async function () {
    const other = makeCert();
    try {
      await connect(server.url(), { certHashes: [other.hash], timeoutMs: 5000 });
      expect.fail('connected to the wrong server');
    } catch (err) {
      expect((err as Error).message).to.match(/certificate/);
    }
    // base64 form of the right hash works
    const b64 = Buffer.from(cert.hash, 'hex').toString('base64');
    clients.push(await connect(server.url(), { certHashes: [b64] }));
  });

  it('echoes 4 MiB on one stream without a mismatch', async function () {
    const [session] = await open();
    const payload = randomBytes(4 * 1024 * 1024);
    const stream = session.openBidiStream();
    const rec = new StreamRecorder(stream);
    for (let off = 0; off < payload.length; off += 100_000)
      stream.write(payload.subarray(off, off + 100_000));
    stream.end();
    await until(() => rec.ended, '4 MiB echo', 15_000);
    expect(rec.bytes).to.equal(payload.length);
    expect(rec.data.equals(payload)).to.equal(true);
  });

  it('signals backpressure with bufferedAmount and onDrain', async function () {
    const [session] = await open();
    const stream = session.openBidiStream();
    const rec = new StreamRecorder(stream);
    const chunk = Buffer.alloc(256 * 1024, 1);
    for (let i = 0; i < 8; i++) stream.write(chunk);
    expect(stream.bufferedAmount()).to.be.greaterThan(0);
    await until(() => rec.drains > 0 && stream.bufferedAmount() === 0, 'drain');
    stream.end();
    await until(() => rec.ended, 'echo');
    expect(rec.bytes).to.equal(8 * chunk.length);
  });

  it('resets streams beyond maxStreamsPerSession', async function () {
    await server.close();
    server = await new TestServer(cert, { limits: { maxStreamsPerSession: 2 } }).start();
    const [session, , remote] = await open();
    const streams = [0, 1, 2].map(() => {
      const s = session.openBidiStream();
      s.write(Buffer.from('x'));
      return new StreamRecorder(s);
    });
    await until(() => streams[2]!.resetCode !== null, 'third stream reset');
    expect(remote.bidi).to.have.length(2);
    expect(streams[0]!.resetCode).to.equal(null);
  });

  it('works with Retry disabled', async function () {
    await server.close();
    server = await new TestServer(cert, { retry: false }).start();
    const [session] = await open();
    const stream = session.openBidiStream();
    const rec = new StreamRecorder(stream);
    stream.write(Buffer.from('no retry'));
    stream.end();
    await until(() => rec.ended, 'echo');
    expect(rec.text()).to.equal('no retry');
  });
});
