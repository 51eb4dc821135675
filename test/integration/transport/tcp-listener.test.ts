import { EventEmitter, once } from 'node:events';
import { expect } from 'chai';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { Admission } from '../../../src/transport/admission.js';
import { TcpListener, type TcpListenerOptions } from '../../../src/transport/tcp/tcp-listener.js';
import type { Connection, ConnectionHandler } from '../../../src/transport/transport.js';
import { generateTestCertificate, rawExchange, TcpTestClient } from '../../helpers/transport-clients.js';
import { metricValue } from './metric-values.js';

interface Seen {
  data: Buffer[];
  closes: [number, string][];
}

/** Emits 'change' whenever a connection arrives, or one of them gets data or closes. */
const changes = new EventEmitter();

function record(conn: Connection): Seen {
  const seen: Seen = { data: [], closes: [] };
  const handler: ConnectionHandler = {
    onData: (b) => {
      seen.data.push(Buffer.from(b));
      changes.emit('change');
    },
    onDatagram: () => {},
    onDrain: () => {},
    onClose: (code, reason) => {
      seen.closes.push([code, reason]);
      changes.emit('change');
    },
  };
  conn.setHandler(handler);
  return seen;
}

/** Resolves once `ready` holds, re-checking it on every change (no polling). */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await once(changes, 'change');
}

/** The node's admission, telling the test when the listener admits a socket or refuses one. */
class WatchedAdmission extends Admission {
  readonly events = new EventEmitter();

  override admit(...args: Parameters<Admission['admit']>): ReturnType<Admission['admit']> {
    const result = super.admit(...args);
    this.events.emit('admit');
    return result;
  }

  override refused(...args: Parameters<Admission['refused']>): void {
    super.refused(...args);
    this.events.emit('refused', args[1]);
  }
}

describe('TcpListener', function () {
  let metrics: Metrics;
  let listener: TcpListener;
  let port: number;
  let conns: Connection[];
  let seen: Seen[];
  let onConnection: (conn: Connection) => void;

  async function start(extra: Partial<TcpListenerOptions> = {}): Promise<void> {
    await listener?.close();
    listener = new TcpListener({
      host: '127.0.0.1',
      port: 0,
      tls: null,
      onConnection: (conn) => onConnection(conn),
      logger: silentLogger(),
      metrics,
      ...extra,
    });
    port = (await listener.listen()).port;
  }

  beforeEach(async function () {
    metrics = new Metrics({ defaultMetrics: false });
    conns = [];
    seen = [];
    onConnection = (conn) => {
      conns.push(conn);
      seen.push(record(conn));
      changes.emit('change');
    };
    await start();
  });

  afterEach(async function () {
    await listener.close();
  });

  it('reports a client half-close (FIN) as onClose(0, "") after the bytes before it', async function () {
    const client = await TcpTestClient.connect(port);
    await until(() => conns.length === 1);
    client.send('last words');
    client.end();
    await until(() => seen[0]!.closes.length === 1);
    expect(Buffer.concat(seen[0]!.data).toString()).to.equal('last words');
    expect(seen[0]!.closes).to.deep.equal([[0, '']]);
    await client.closed;
  });

  it('destroys a peer that does not read after close() once the linger has passed', async function () {
    await start({ closeLingerMs: 100 });
    const client = await TcpTestClient.connect(port);
    await until(() => conns.length === 1);
    client.pause();
    const chunk = Buffer.alloc(64 * 1024, 9);
    while (conns[0]!.bufferedAmount() === 0) conns[0]!.write(chunk);
    conns[0]!.close(4003, 'slow consumer');
    // The paused client would not notice; the server side must let go on its own.
    await until(() => seen[0]!.closes.length === 1);
    expect(seen[0]!.closes).to.deep.equal([[0, '']]);
    client.destroy();
  });

  it('destroys a connection whose onConnection throws and keeps accepting', async function () {
    onConnection = () => {
      throw new Error('session layer bug');
    };
    const doomed = await TcpTestClient.connect(port);
    await doomed.closed;
    onConnection = (conn) => {
      conns.push(conn);
      seen.push(record(conn));
    };
    const client = await TcpTestClient.connect(port);
    client.send('hi');
    await until(() => seen[0]?.data.length === 1);
    client.destroy();
  });

  it('rejects listen() when the port is taken', async function () {
    const other = new TcpListener({
      host: '127.0.0.1',
      port,
      tls: null,
      onConnection,
      logger: silentLogger(),
    });
    let failure: NodeJS.ErrnoException | null = null;
    await other.listen().catch((err: NodeJS.ErrnoException) => (failure = err));
    expect(failure).to.have.property('code', 'EADDRINUSE');
    await other.close();
  });

  it('over TLS, survives plaintext garbage, counts the failed handshake and keeps serving', async function () {
    const cert = generateTestCertificate();
    try {
      const admission = new WatchedAdmission({}, metrics);
      await start({ tls: { cert: cert.certPath, key: cert.keyPath }, admission });
      const tlsRefused = once(admission.events, 'refused');
      await rawExchange(port, Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5]));
      expect(await tlsRefused).to.deep.equal(['tls']);
      expect(await metricValue(metrics.connectionsRefused, { transport: 'tcp', reason: 'tls' })).to.equal(1);
      expect(conns).to.have.length(0);
      const client = await TcpTestClient.connect(port, { ca: cert.certPem });
      client.send('secure');
      await until(() => seen[0]?.data.length === 1);
      client.destroy();
    } finally {
      cert.remove();
    }
  });

  it('close() also ends a TLS connection still in its handshake', async function () {
    const cert = generateTestCertificate();
    try {
      const admission = new WatchedAdmission({}, metrics);
      await start({ tls: { cert: cert.certPem, key: cert.keyPem }, admission });
      const accepted = once(admission.events, 'admit');
      // A raw TCP client that never starts the TLS handshake.
      const stalled = await TcpTestClient.connect(port);
      await accepted; // the server accept()ed it
      // Untracked, this socket would hold close() until the 10 s handshake timeout (past mocha's).
      await listener.close();
      await stalled.closed;
      expect(conns).to.have.length(0);
    } finally {
      cert.remove();
    }
  });

  it('over TLS, closes a socket that never finishes its handshake at the admission deadline', async function () {
    const cert = generateTestCertificate();
    try {
      await start({
        tls: { cert: cert.certPem, key: cert.keyPem },
        admission: new Admission({ handshakeTimeoutMs: 200 }, metrics),
      });
      const started = Date.now();
      const stalled = await TcpTestClient.connect(port);
      await stalled.closed;
      expect(Date.now() - started)
        .to.be.at.least(190)
        .and.below(5000);
      expect(conns).to.have.length(0);
      const counted = { transport: 'tcp', reason: 'handshake_timeout' };
      expect(await metricValue(metrics.connectionsRefused, counted)).to.equal(1);
      expect(await metricValue(metrics.connectionsRefused, { transport: 'tcp', reason: 'tls' })).to.equal(0);
      // A client that completes its handshake in time is not cut at the deadline.
      const client = await TcpTestClient.connect(port, { ca: cert.certPem });
      await until(() => conns.length === 1);
      expect(await metricValue(metrics.sockets, { transport: 'tcp', phase: 'pre_auth' })).to.equal(1);
      conns[0]!.markAuthenticated();
      expect(await metricValue(metrics.sockets, { transport: 'tcp', phase: 'authenticated' })).to.equal(1);
      client.destroy();
    } finally {
      cert.remove();
    }
  });

  it('answers a plain socket over the per-IP cap with the refusal frame, then FIN, and frees the slot on close', async function () {
    await start({
      admission: new Admission({ connectionsPerIp: 1 }, metrics),
      refusalFrame: (refusal) => Buffer.from(`refused: ${refusal}`),
    });
    const first = await TcpTestClient.connect(port);
    await until(() => conns.length === 1);
    const second = await TcpTestClient.connect(port);
    await second.closed;
    expect(second.received().toString()).to.equal('refused: per_ip');
    expect(await metricValue(metrics.connectionsRefused, { transport: 'tcp', reason: 'per_ip' })).to.equal(1);
    first.destroy();
    await until(() => seen[0]!.closes.length === 1);
    const third = await TcpTestClient.connect(port);
    await until(() => conns.length === 2);
    third.destroy();
  });
});
