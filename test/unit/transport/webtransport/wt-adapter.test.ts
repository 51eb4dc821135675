import { expect } from 'chai';
import { silentLogger } from '../../../../src/observability/logger.js';
import type { ConnectionHandler } from '../../../../src/transport/transport.js';
import {
  EXTRA_STREAM_ERROR_CODE,
  type WtConnection,
} from '../../../../src/transport/webtransport/wt-connection.js';
import {
  WebTransportListener,
  type WebTransportListenerOptions,
  type WtServerHandle,
} from '../../../../src/transport/webtransport/wt-listener.js';
import type {
  AdmittedConnection,
  SessionHandler,
  SessionRequest,
  StreamHandler,
  WebTransportServerOptions,
  WebTransportSession,
  WtBidiStream,
} from '../../../../src/webtransport/api.js';
import type { CertificateSource, ServingCertificate } from '../../../../src/webtransport/certs.js';

/** A hand-written engine stream: records writes, lets the test play QUIC taking bytes (`take`). */
class FakeStream implements WtBidiStream {
  handler: StreamHandler | null = null;
  readonly written: Uint8Array[] = [];
  buffered = 0;
  ended = false;
  resetCode: number | null = null;
  stopCode: number | null = null;
  constructor(readonly id: number) {}
  setHandler(h: StreamHandler): void {
    this.handler = h;
  }
  write(bytes: Uint8Array): boolean {
    this.written.push(bytes);
    this.buffered += bytes.length;
    return true;
  }
  paused = false;
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  end(): void {
    this.ended = true;
  }
  reset(code: number): void {
    this.resetCode = code;
  }
  stop(code: number): void {
    this.stopCode = code;
  }
  /** QUIC took every buffered byte. */
  take(): void {
    this.buffered = 0;
    this.handler?.onDrain();
  }
}

/** A hand-written engine session. */
class FakeSession implements WebTransportSession {
  handler: SessionHandler | null = null;
  readonly datagrams: Uint8Array[] = [];
  closed: { code: number; reason: string } | null = null;
  maxDatagramBytes = 1180;
  constructor(
    readonly id: number,
    readonly request: SessionRequest,
    readonly remoteAddress = '::ffff:127.0.0.1',
    readonly admission: AdmittedConnection | null = null,
  ) {}
  setHandler(h: SessionHandler): void {
    this.handler = h;
  }
  openBidiStream(): WtBidiStream {
    throw new Error('the adapter never opens streams');
  }
  openUniStream(): never {
    throw new Error('the adapter never opens streams');
  }
  sendDatagram(bytes: Uint8Array): boolean {
    this.datagrams.push(bytes);
    return true;
  }
  /** As the engine does: the close capsule goes out and `onClose` follows synchronously. */
  close(code: number, reason: string): void {
    if (this.closed !== null) return;
    this.closed = { code, reason };
    this.handler?.onClose(code, reason);
  }
  /** The engine reports the end (after our close, or the peer's). */
  ended(code: number, reason: string): void {
    this.handler?.onClose(code, reason);
  }
}

/** Records what a Connection tells its handler. */
class Recorder implements ConnectionHandler {
  readonly data: string[] = [];
  readonly datagrams: string[] = [];
  drains = 0;
  closes: [number, string][] = [];
  onData(b: Uint8Array): void {
    this.data.push(Buffer.from(b).toString());
  }
  onDatagram(b: Uint8Array): void {
    this.datagrams.push(Buffer.from(b).toString());
  }
  onDrain(): void {
    this.drains++;
  }
  onClose(code: number, reason: string): void {
    this.closes.push([code, reason]);
  }
}

function request(path = '/wt', origin = ''): SessionRequest {
  return {
    path,
    origin,
    authority: '127.0.0.1:4433',
    protocol: 'webtransport',
    headers: new Map(),
    remoteAddress: '127.0.0.1',
  };
}

const CERT = { certPem: 'CERT', keyPem: 'KEY', hash: { hex: 'ab' } } as unknown as ServingCertificate;

/** A listener on a fake engine server; every accepted connection gets a Recorder. */
async function setup(extra: Partial<WebTransportListenerOptions> = {}) {
  let serverOpts: WebTransportServerOptions | null = null;
  const server = { certs: [] as string[], closed: false };
  let rotate: ((c: ServingCertificate) => void) | null = null;
  const certificates: CertificateSource = {
    ca: false,
    current: () => CERT,
    currentHashes: () => [],
    onRotate: (cb) => ((rotate = cb), () => (rotate = null)),
    close: () => undefined,
  };
  const conns: { conn: WtConnection; rec: Recorder }[] = [];
  const listener = new WebTransportListener({
    host: '127.0.0.1',
    port: 0,
    certificates,
    createServer: (o): WtServerHandle => {
      serverOpts = o;
      return {
        listen: () => Promise.resolve({ host: '127.0.0.1', port: 4433 }),
        setCertificate: (cert) => void server.certs.push(cert),
        close: () => ((server.closed = true), Promise.resolve()),
      };
    },
    onConnection: (c) => {
      const rec = new Recorder();
      c.setHandler(rec);
      conns.push({ conn: c as WtConnection, rec });
    },
    logger: silentLogger(),
    ...extra,
  });
  const address = await listener.listen();
  const opts = serverOpts as unknown as WebTransportServerOptions;
  let nextId = 0;
  const open = (): { session: FakeSession; conn: WtConnection; rec: Recorder } => {
    const session = new FakeSession((nextId += 4), request());
    opts.onSession(session);
    const last = conns[conns.length - 1]!;
    return { session, ...last };
  };
  return { listener, address, opts, server, rotate: (c: ServingCertificate) => rotate?.(c), open, conns };
}

describe('WebTransport gateway adapter', function () {
  describe('WebTransportListener', function () {
    it('gives the engine the current certificate and answers CONNECT by path, origin and drain state', async function () {
      const t = await setup({ allowedOrigins: ['https://App.example.com'] });
      expect(t.address).to.deep.equal({ host: '127.0.0.1', port: 4433 });
      expect(t.opts.certPem).to.equal('CERT');
      const decide = t.opts.onSessionRequest!;
      expect(decide(request('/wt'))).to.deep.equal({ status: 200 });
      expect(decide(request('/wt?x=1'))).to.deep.equal({ status: 200 });
      expect(decide(request('/other')).status).to.equal(404);
      expect(decide(request('/wt', 'https://app.example.com')).status).to.equal(200);
      expect(decide(request('/wt', 'https://evil.example.com')).status).to.equal(403);
      await t.listener.stopAccepting();
      expect(decide(request('/wt')).status).to.equal(503);
    });

    it('switches the engine to a rotated certificate', async function () {
      const t = await setup();
      t.rotate({ ...CERT, certPem: 'CERT2' });
      expect(t.server.certs).to.deep.equal(['CERT2']);
    });

    it('close() destroys every connection and closes the server', async function () {
      const t = await setup();
      const { session, rec } = t.open();
      expect(t.listener.size).to.equal(1);
      await t.listener.close();
      expect(rec.closes).to.deep.equal([[0, '']]);
      expect(session.closed).to.not.equal(null);
      expect(t.server.closed).to.equal(true);
      expect(t.listener.size).to.equal(0);
    });
  });

  describe('WtConnection', function () {
    it('is a stream-framed wt connection with datagrams, from the peer IP', async function () {
      const { conn } = (await setup()).open();
      expect(conn.kind).to.equal('wt');
      expect(conn.framing).to.equal('stream');
      expect(conn.supportsDatagrams).to.equal(true);
      expect(conn.maxDatagramBytes).to.equal(1180);
      expect(conn.remoteAddress).to.equal('127.0.0.1');
    });

    it('carries frames on the first client bidi stream and refuses every other stream', async function () {
      const { session, conn, rec } = (await setup()).open();
      const first = new FakeStream(0);
      session.handler!.onBidiStream(first);
      first.handler!.onData(Buffer.from('in'));
      conn.write(Buffer.from('out'));
      expect(rec.data).to.deep.equal(['in']);
      expect(first.written.map((b) => Buffer.from(b).toString())).to.deep.equal(['out']);
      expect(conn.bufferedAmount()).to.equal(3);
      first.take();
      expect(rec.drains).to.equal(1);

      const second = new FakeStream(4);
      session.handler!.onBidiStream(second);
      expect([second.resetCode, second.stopCode]).to.deep.equal([
        EXTRA_STREAM_ERROR_CODE,
        EXTRA_STREAM_ERROR_CODE,
      ]);
      const uni = new FakeStream(2);
      session.handler!.onUniStream(uni);
      expect(uni.stopCode).to.equal(EXTRA_STREAM_ERROR_CODE);
      expect(rec.closes).to.deep.equal([]);
    });

    it('pauseReading pauses the frame stream (also one opened later); resumeReading resumes it', async function () {
      const { session, conn } = (await setup()).open();
      conn.pauseReading();
      const stream = new FakeStream(0);
      session.handler!.onBidiStream(stream);
      expect(stream.paused, 'paused as it opens').to.equal(true);
      conn.resumeReading();
      expect(stream.paused).to.equal(false);
      conn.pauseReading();
      expect(stream.paused).to.equal(true);
    });

    it('keeps writes made before the stream exists (bounded) and sends them first', async function () {
      const { session, conn } = (await setup()).open();
      conn.write(Buffer.from('early'));
      conn.write(Buffer.alloc(70 * 1024)); // over the bound: dropped
      expect(conn.bufferedAmount()).to.equal(5);
      const stream = new FakeStream(0);
      session.handler!.onBidiStream(stream);
      expect(stream.written.map((b) => b.length)).to.deep.equal([5]);
    });

    it('passes datagrams both ways', async function () {
      const { session, conn, rec } = (await setup()).open();
      session.handler!.onDatagram(Buffer.from('dg-in'));
      expect(rec.datagrams).to.deep.equal(['dg-in']);
      expect(conn.writeDatagram(Buffer.from('dg-out'))).to.equal(true);
      expect(session.datagrams.map((b) => Buffer.from(b).toString())).to.deep.equal(['dg-out']);
    });

    it('close() finishes the frame stream, then closes the session with the code once the client answers', async function () {
      const { session, conn, rec } = (await setup()).open();
      const stream = new FakeStream(0);
      session.handler!.onBidiStream(stream);
      conn.write(Buffer.from('disconnect frame'));
      conn.close(4505, 'replaced by a newer connection');
      expect(stream.ended).to.equal(true);
      expect(conn.writeDatagram(Buffer.from('x'))).to.equal(false);
      stream.take();
      stream.handler!.onData(Buffer.from('late'));
      expect(session.closed).to.equal(null); // the client has not read the Disconnect frame yet
      stream.handler!.onEnd(); // its FIN: it has
      expect(session.closed).to.deep.equal({ code: 4505, reason: 'replaced by a newer connection' });
      expect(rec.closes).to.deep.equal([[4505, 'replaced by a newer connection']]);
      expect(rec.data).to.deep.equal([]);
      expect(rec.drains).to.equal(0);
    });

    it('close() without a stream closes the session at once; the linger bounds a silent client', async function () {
      const t = await setup({ closeLingerMs: 1 });
      const a = t.open();
      a.conn.close(4008, 'server is full');
      expect(a.session.closed).to.deep.equal({ code: 4008, reason: 'server is full' });

      const b = t.open();
      const stream = new FakeStream(0);
      b.session.handler!.onBidiStream(stream);
      b.conn.write(Buffer.from('never taken'));
      b.conn.close(4003, 'slow consumer');
      while (b.session.closed === null) await new Promise((r) => setTimeout(r, 5));
      expect(b.session.closed).to.deep.equal({ code: 4003, reason: 'slow consumer' });
    });

    it('a refusal before the stream exists keeps its Disconnect frame for the stream the client opens', async function () {
      const { session, conn, rec } = (await setup()).open();
      conn.write(Buffer.from('disconnect 4008'));
      conn.close(4008, 'server is full');
      expect(session.closed).to.equal(null);
      const stream = new FakeStream(0);
      session.handler!.onBidiStream(stream);
      expect(stream.written.map((b) => Buffer.from(b).toString())).to.deep.equal(['disconnect 4008']);
      expect(stream.ended).to.equal(true);
      stream.handler!.onData(Buffer.from('authenticate'));
      stream.handler!.onEnd();
      expect(session.closed).to.deep.equal({ code: 4008, reason: 'server is full' });
      expect(rec.data).to.deep.equal([]);
    });

    it('reports the peer close exactly once, whatever follows', async function () {
      const { session, rec } = (await setup()).open();
      const stream = new FakeStream(0);
      session.handler!.onBidiStream(stream);
      session.ended(4000, 'bye');
      stream.handler!.onReset(0x10f);
      session.ended(0, '');
      expect(rec.closes).to.deep.equal([[4000, 'bye']]);
    });

    it('treats a FIN or reset of the frame stream as the end of the connection', async function () {
      const t = await setup();
      const a = t.open();
      const sa = new FakeStream(0);
      a.session.handler!.onBidiStream(sa);
      sa.handler!.onEnd();
      expect(a.rec.closes).to.deep.equal([[0, '']]);
      expect(a.session.closed).to.not.equal(null);

      const b = t.open();
      const sb = new FakeStream(0);
      b.session.handler!.onBidiStream(sb);
      sb.handler!.onReset(7);
      expect(b.rec.closes).to.deep.equal([[0, '']]);
    });

    it('destroy() resets the stream and reports the close at once', async function () {
      const { session, conn, rec } = (await setup()).open();
      const stream = new FakeStream(0);
      session.handler!.onBidiStream(stream);
      conn.destroy();
      conn.destroy();
      expect(stream.resetCode).to.equal(0);
      expect(session.closed).to.not.equal(null);
      expect(rec.closes).to.deep.equal([[0, '']]);
    });
  });
});
