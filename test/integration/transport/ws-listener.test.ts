import net from 'node:net';
import { expect } from 'chai';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { Admission } from '../../../src/transport/admission.js';
import {
  NOT_A_FRAME_MESSAGE,
  type Connection,
  type ConnectionHandler,
} from '../../../src/transport/transport.js';
import {
  WebSocketListener,
  type WebSocketListenerOptions,
} from '../../../src/transport/websocket/ws-listener.js';
import {
  generateTestCertificate,
  rawExchange,
  wsHandshakeStatus,
  WsTestClient,
} from '../../helpers/transport-clients.js';
import { metricValue } from './metric-values.js';

const MAX_PAYLOAD = 1024;

/** A handler that keeps what arrives, for tests that look at one connection. */
function record(conn: Connection): { data: Buffer[]; textMessages: number; closes: [number, string][] } {
  const seen = { data: [] as Buffer[], textMessages: 0, closes: [] as [number, string][] };
  const handler: ConnectionHandler = {
    onData: (b) => {
      if (b === NOT_A_FRAME_MESSAGE) seen.textMessages++;
      seen.data.push(Buffer.from(b));
    },
    onDatagram: () => {},
    onDrain: () => {},
    onClose: (code, reason) => seen.closes.push([code, reason]),
  };
  conn.setHandler(handler);
  return seen;
}

async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function untilMetric(read: () => Promise<number>): Promise<void> {
  while ((await read()) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('WebSocketListener', function () {
  let metrics: Metrics;
  let listener: WebSocketListener;
  let base: string;
  let port: number;
  let conns: Connection[];
  let seen: ReturnType<typeof record>[];

  async function start(extra: Partial<WebSocketListenerOptions> = {}): Promise<void> {
    await listener?.close();
    listener = new WebSocketListener({
      host: '127.0.0.1',
      port: 0,
      tls: null,
      maxPayloadBytes: MAX_PAYLOAD,
      onConnection: (conn) => {
        conns.push(conn);
        seen.push(record(conn));
      },
      logger: silentLogger(),
      metrics,
      ...extra,
    });
    port = (await listener.listen()).port;
    base = `ws://127.0.0.1:${port}`;
  }

  beforeEach(async function () {
    metrics = new Metrics({ defaultMetrics: false });
    conns = [];
    seen = [];
    await start({ allowedOrigins: ['https://app.example'] });
  });

  afterEach(async function () {
    await listener.close();
  });

  it('refuses an upgrade on another path with 404, and ignores the query string on its own', async function () {
    expect(await wsHandshakeStatus(`${base}/other`)).to.equal(404);
    const client = await WsTestClient.connect(`${base}/ws?token=abc`);
    client.destroy();
    expect(await metricValue(metrics.connectionsRefused, { transport: 'ws', reason: 'path' })).to.equal(1);
  });

  it('refuses a disallowed Origin with 403, allows listed and absent ones', async function () {
    expect(await wsHandshakeStatus(`${base}/ws`, { origin: 'https://evil.example' })).to.equal(403);
    expect(await metricValue(metrics.connectionsRefused, { transport: 'ws', reason: 'origin' })).to.equal(1);
    (await WsTestClient.connect(`${base}/ws`, { origin: 'https://APP.example' })).destroy();
    (await WsTestClient.connect(`${base}/ws`)).destroy();
    await until(() => conns.length === 2);
  });

  it('answers a plain GET on the path with 426 and a short text, elsewhere with 404', async function () {
    const onPath = (
      await rawExchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    ).toString();
    expect(onPath).to.match(/^HTTP\/1\.1 426 /);
    expect(onPath).to.match(/\r\nupgrade: websocket\r\n/i);
    expect(onPath).to.contain('only speaks WebSocket');
    const offPath = (
      await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    ).toString();
    expect(offPath).to.match(/^HTTP\/1\.1 404 /);
    expect(
      await metricValue(metrics.connectionsRefused, { transport: 'ws', reason: 'not_upgrade' }),
    ).to.equal(1);
  });

  it('hands a message somewhat over maxPayloadBytes to the session (which answers 4501)', async function () {
    const client = await WsTestClient.connect(`${base}/ws`);
    await until(() => conns.length === 1);
    client.send(Buffer.alloc(MAX_PAYLOAD + 500, 1));
    await until(() => seen[0]!.data.length === 1);
    expect(seen[0]!.data[0]!.length).to.equal(MAX_PAYLOAD + 500);
    client.destroy();
  });

  it('cuts a message over maxPayload with 1009 and keeps serving', async function () {
    const client = await WsTestClient.connect(`${base}/ws`);
    await until(() => conns.length === 1);
    client.send(Buffer.alloc(4 * MAX_PAYLOAD, 1));
    expect((await client.closed).code).to.equal(1009);
    await until(() => seen[0]!.closes.length === 1);
    expect(seen[0]!.data).to.have.length(0);
    expect(await metricValue(metrics.disconnects, { code: '1009' })).to.equal(1);
    const next = await WsTestClient.connect(`${base}/ws`);
    next.send(Buffer.from('ok'));
    await until(() => seen[1]?.data.length === 1);
    next.destroy();
  });

  it('hands a text message on as NOT_A_FRAME_MESSAGE, which the session refuses with 4500', async function () {
    const client = await WsTestClient.connect(`${base}/ws`);
    await until(() => conns.length === 1);
    client.send('héllo');
    await until(() => seen[0]!.data.length === 1);
    expect(seen[0]!.textMessages).to.equal(1);
    client.destroy();
  });

  it('survives garbage bytes on its TCP port and answers 400', async function () {
    const garbage = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 131 + 7) & 0xff));
    const answer = await rawExchange(port, garbage);
    expect(answer.toString()).to.match(/^HTTP\/1\.1 400 /);
    expect(await metricValue(metrics.connectionsRefused, { transport: 'ws', reason: 'bad_http' })).to.equal(
      1,
    );
    (await WsTestClient.connect(`${base}/ws`)).destroy();
  });

  it('refuses an upgrade with 503 once it stopped accepting', async function () {
    // An HTTP connection accepted before the drain that only now asks to upgrade.
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((resolve) => socket.on('close', resolve));
    // One write: a request answered 404 (keep-alive), then the start of a second one, so once the 404
    // is here the server has accepted the connection and it is busy, not idle (which the drain would close).
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /ws HTTP/1.1\r\nHost: x\r\n');
    await until(() => Buffer.concat(chunks).includes('Not found'));
    chunks.length = 0;
    await listener.stopAccepting();
    socket.write(
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await ended;
    expect(Buffer.concat(chunks).toString()).to.match(/^HTTP\/1\.1 503 /);
    expect(conns).to.have.length(0);
  });

  it('close() with a code the wire forbids sends 1011, and a long reason is clamped', async function () {
    const client = await WsTestClient.connect(`${base}/ws`);
    await until(() => conns.length === 1);
    conns[0]!.close(1006, 'x'.repeat(300));
    const closed = await client.closed;
    expect(closed.code).to.equal(1011);
    expect(Buffer.byteLength(closed.reason)).to.be.at.most(123);
  });

  it('destroys a peer that never answers the close frame after the linger', async function () {
    await start({ closeLingerMs: 100 });
    const client = await WsTestClient.connect(`${base}/ws`);
    await until(() => conns.length === 1);
    client.pause(); // never reads the close frame, so never answers it
    conns[0]!.close(4000, 'bye');
    await until(() => seen[0]!.closes.length === 1);
    expect(seen[0]!.closes[0]![0]).to.equal(1006);
    client.destroy();
  });

  it('rejects listen() when the port is taken', async function () {
    const other = new WebSocketListener({
      host: '127.0.0.1',
      port,
      tls: null,
      maxPayloadBytes: MAX_PAYLOAD,
      onConnection: () => {},
      logger: silentLogger(),
    });
    let failure: NodeJS.ErrnoException | null = null;
    await other.listen().catch((err: NodeJS.ErrnoException) => (failure = err));
    expect(failure).to.have.property('code', 'EADDRINUSE');
    await other.close();
  });

  it('over TLS, survives plaintext garbage on its port and counts the failed handshake', async function () {
    const cert = generateTestCertificate();
    try {
      await start({ tls: { cert: cert.certPem, key: cert.keyPem } });
      await rawExchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n');
      await untilMetric(() => metricValue(metrics.connectionsRefused, { transport: 'ws', reason: 'tls' }));
      expect(await metricValue(metrics.connectionsRefused, { transport: 'ws', reason: 'tls' })).to.equal(1);
      (await WsTestClient.connect(`wss://127.0.0.1:${port}/ws`, { ca: cert.certPem })).destroy();
    } finally {
      cert.remove();
    }
  });

  it('answers a socket over maxConnections with 503 and Retry-After before reading its request', async function () {
    await start({ admission: new Admission({ maxConnections: 1 }, metrics) });
    const held = await WsTestClient.connect(`${base}/ws`);
    const answer = (await rawExchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n')).toString();
    expect(answer).to.match(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(answer).to.include('Retry-After: 5\r\n').and.include('4008 server is full');
    expect(
      await metricValue(metrics.connectionsRefused, { transport: 'ws', reason: 'server_full' }),
    ).to.equal(1);
    // The upgraded socket keeps its place; its phase follows the session layer.
    expect(await metricValue(metrics.sockets, { transport: 'ws', phase: 'pre_auth' })).to.equal(1);
    conns[0]!.markAuthenticated();
    expect(await metricValue(metrics.sockets, { transport: 'ws', phase: 'authenticated' })).to.equal(1);
    held.destroy();
  });

  it('over TLS, closes a socket over the cap before any handshake, and one that stalls at the deadline', async function () {
    const cert = generateTestCertificate();
    const connect = async (): Promise<{ socket: net.Socket; closed: Promise<unknown> }> => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      const closed = new Promise((resolve) => socket.once('close', resolve));
      await new Promise((resolve) => socket.once('connect', resolve));
      return { socket, closed };
    };
    const refused = async (reason: string): Promise<number> =>
      metricValue(metrics.connectionsRefused, { transport: 'ws', reason });
    try {
      const tls = { cert: cert.certPem, key: cert.keyPem };
      await start({
        tls,
        admission: new Admission({ connectionsPerIp: 1, handshakeTimeoutMs: 60_000 }, metrics),
      });
      const holder = await connect();
      const over = await connect();
      await over.closed;
      expect(holder.socket.destroyed).to.equal(false);
      expect(await refused('per_ip')).to.equal(1);
      holder.socket.destroy();

      await start({ tls, admission: new Admission({ handshakeTimeoutMs: 200 }, metrics) });
      const started = Date.now();
      const stalled = await connect();
      await stalled.closed;
      expect(Date.now() - started)
        .to.be.at.least(190)
        .and.below(5000);
      expect([await refused('handshake_timeout'), await refused('tls')]).to.deep.equal([1, 0]);
    } finally {
      cert.remove();
    }
  });
});
