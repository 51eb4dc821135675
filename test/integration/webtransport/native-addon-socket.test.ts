/**
 * The native engine's own UDP socket (native/quic/src/endpoint.cc): the addon reads datagrams with
 * recvmmsg, routes them to connections by destination id in C and writes with sendmmsg. These tests
 * hit that entry point over real loopback UDP: random datagrams from a stranger, and mutated copies of
 * a real client's packets sent from the client's own address (so they reach the live connection's
 * routing, decryption and address checks), then the addon's allocation counters after connect/close
 * cycles. The file sorts before native-engine.test.ts on purpose: its counter comparison must not
 * meet connections that the in-memory tests leave to the garbage collector.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { connect, type WebTransportClientSession } from '../../../src/webtransport/client.js';
import { nativeEngineCounters } from '../../../src/webtransport/quic/native-engine.js';
import { makeCert, mutatePacket, StreamRecorder, TestServer, until, type TestCert } from './support.js';

/** Forwards one client's datagrams to the server and back, and keeps what the client sent. */
class RecordingRelay {
  readonly fromClient: Buffer[] = [];
  private readonly front = dgram.createSocket('udp4');
  /** The server sees every forwarded datagram, and every injected one, from this socket. */
  private readonly back = dgram.createSocket('udp4');
  private client: dgram.RemoteInfo | null = null;
  port = 0;

  constructor(private readonly serverPort: number) {}

  async start(): Promise<this> {
    this.front.on('message', (msg, rinfo) => {
      this.client = rinfo;
      if (this.fromClient.length < 2000) this.fromClient.push(Buffer.from(msg));
      this.back.send(msg, this.serverPort, '127.0.0.1');
    });
    this.back.on('message', (msg) => {
      if (this.client !== null) this.front.send(msg, this.client.port, this.client.address);
    });
    await new Promise<void>((resolve) => this.front.bind(0, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => this.back.bind(0, '127.0.0.1', () => resolve()));
    this.port = this.front.address().port;
    return this;
  }

  /** Sends `datagram` to the server from the client's side of the relay. */
  inject(datagram: Buffer): void {
    this.back.send(datagram, this.serverPort, '127.0.0.1');
  }

  close(): void {
    this.front.close();
    this.back.close();
  }
}

/** Echoes a short stream over `s`: proves the connection still carries data. */
async function echoes(s: WebTransportClientSession, text: string): Promise<void> {
  const stream = s.openBidiStream();
  const rec = new StreamRecorder(stream);
  stream.write(Buffer.from(text));
  stream.end();
  await until(() => rec.ended, `echo of ${text}`);
  expect(rec.text()).to.equal(text);
}

describe('native QUIC engine: the addon-owned UDP socket (loopback)', function () {
  this.timeout(60_000);
  let cert: TestCert;
  let server: TestServer;
  let sessions: WebTransportClientSession[] = [];

  before(function () {
    cert = makeCert();
  });

  beforeEach(async function () {
    server = await new TestServer(cert, { engine: 'native' }).start();
  });

  afterEach(async function () {
    for (const s of sessions) s.destroy();
    sessions = [];
    await server.close();
  });

  /** Sends `datagrams` in slices the socket buffer holds, waiting until the addon has read each. */
  async function deliver(send: (d: Buffer) => void, datagrams: Buffer[]): Promise<void> {
    const stats = (): number => server.server.engineSocketStats!.datagramsIn;
    for (let at = 0; at < datagrams.length; at += 250) {
      const slice = datagrams.slice(at, at + 250).filter((d) => d.length > 0);
      const target = stats() + slice.length;
      for (const d of slice) send(d);
      await until(() => stats() >= target, 'the addon to read the slice');
    }
  }

  it('routes in C and stays up under 5,000 random and 5,000 mutated client datagrams', async function () {
    const relay = await new RecordingRelay(server.port).start();
    try {
      const s = await connect(`https://127.0.0.1:${relay.port}/wt`, { certHashes: [cert.hash] });
      sessions.push(s);
      await echoes(s, 'before');
      const before = server.server.engineSocketStats!;
      expect(before.routedIn).to.be.greaterThan(0);
      expect(before.datagramsOut).to.be.greaterThan(0);

      const stranger = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', () => resolve()));
      const random = Array.from({ length: 5000 }, (_, i) => {
        const d = randomBytes(1 + ((i * 131) % 1400));
        // Half short headers (routed or dropped in C), half long headers (JavaScript's share).
        d[0] = i % 2 === 0 ? d[0]! & 0x7f : d[0]! | 0x80;
        return d;
      });
      await deliver((d) => stranger.send(d, server.port, '127.0.0.1'), random);
      stranger.close();

      const recorded = relay.fromClient;
      expect(recorded.length).to.be.greaterThan(3);
      const mutated = Array.from({ length: 5000 }, (_, i) => mutatePacket(recorded[i % recorded.length]!, 1));
      await deliver((d) => relay.inject(d), mutated);

      await echoes(s, 'after');
      const fresh = await server.connect();
      sessions.push(fresh);
      await echoes(fresh, 'fresh');
      const after = server.server.engineSocketStats!;
      expect(after.datagramsIn - before.datagramsIn).to.be.at.least(9000);
      expect(after.droppedIn).to.be.greaterThan(before.droppedIn);
      expect(after.routedIn - before.routedIn).to.be.greaterThan(1000);
    } finally {
      relay.close();
    }
  });

  it('frees every connection, TLS session, stream and the socket after 100 connect/close cycles', async function () {
    await server.close();
    const before = nativeEngineCounters();
    server = await new TestServer(cert, { engine: 'native' }).start();
    expect(nativeEngineCounters().sockets).to.equal(before.sockets + 1);
    for (let i = 0; i < 100; i++) {
      const s = await server.connect();
      await echoes(s, `cycle ${i}`);
      if (i % 2 === 0) s.close(7, 'bye');
      else s.destroy(); // gone without a close: the server's idle timer or shutdown ends it
      if (i % 2 === 0) await until(() => server.sessions[i]!.closed !== null, 'session close');
    }
    await server.close();
    expect(nativeEngineCounters()).to.deep.equal(before);
  });
});
