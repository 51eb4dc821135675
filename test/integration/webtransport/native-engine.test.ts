/**
 * The native QUIC engine (ngtcp2 + GnuTLS addon) at its packet entry point, in memory: a real quiche
 * client (the other engine) and the native server connection exchange packets through arrays, so
 * random and mutated datagrams can be fed at full speed, and thousands of handshakes measured for
 * memory growth. The UDP-level behaviour of the same engine is covered by the rest of this directory
 * when FERRY_WT_ENGINE=native (npm test runs it so).
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { transportConfig } from '../../../src/webtransport/quic/defaults.js';
import type { QuicEngineConfig, QuicEngineConnection } from '../../../src/webtransport/quic/engine.js';
import { nativeEngine, nativeEngineCounters } from '../../../src/webtransport/quic/native-engine.js';
import { quicheEngine } from '../../../src/webtransport/quic/quiche-engine.js';
import { DEFAULT_LIMITS } from '../../../src/webtransport/server.js';
import { makeCert, mutatePacket, type TestCert } from './support.js';

const SERVER = { host: '127.0.0.1', port: 4433 };
const CLIENT = { host: '127.0.0.1', port: 50000 };
const buf = Buffer.alloc(65536);
/** The 10,000-cycle run with RSS figures is `bench/native-quic-cycles.ts`; the suite keeps it short. */
const CYCLES = 300;
const readBuf = Buffer.alloc(65536);

/** A client/server pair wired through memory; `log` keeps every client packet when asked. */
class Pair {
  readonly client: QuicEngineConnection;
  server: QuicEngineConnection;
  readonly clientPackets: Buffer[] = [];

  constructor(serverConfig: QuicEngineConfig, clientConfig: QuicEngineConfig, keep = false) {
    this.client = quicheEngine.connect('localhost', randomBytes(16), CLIENT, SERVER, clientConfig);
    this.server = nativeEngine.accept(randomBytes(20), null, SERVER, CLIENT, serverConfig);
    this.keep = keep;
  }

  private readonly keep: boolean;

  /** Moves packets both ways until neither side has anything to send. */
  pump(rounds = 50): void {
    for (let i = 0; i < rounds; i++) {
      let moved = 0;
      for (let n = this.client.send(buf); n > 0; n = this.client.send(buf)) {
        const packet = Buffer.from(buf.subarray(0, n));
        if (this.keep) this.clientPackets.push(Buffer.from(packet));
        this.server.recv(packet, CLIENT.host, CLIENT.port);
        moved++;
      }
      for (let n = this.server.send(buf); n > 0; n = this.server.send(buf)) {
        this.client.recv(Buffer.from(buf.subarray(0, n)), SERVER.host, SERVER.port);
        moved++;
      }
      if (moved === 0) return;
    }
  }

  /** Client opens a bidi stream, the server reads it: proves the connection still carries data. */
  echoWorks(streamId: number): boolean {
    const text = `ping ${streamId}`;
    this.client.streamSend(streamId, Buffer.from(text), true);
    this.pump();
    const n = this.server.streamRecv(streamId, readBuf);
    return n === text.length && readBuf.toString('latin1', 0, n) === text && this.server.lastRecvFin;
  }
}

describe('native QUIC engine: packet entry point and lifecycle (in memory, quiche client)', function () {
  let cert: TestCert;
  let serverConfig: QuicEngineConfig;
  let clientConfig: QuicEngineConfig;

  before(function () {
    cert = makeCert();
    const tls = { certPem: cert.certPem, keyPem: cert.keyPem, verifyPeer: false };
    serverConfig = nativeEngine.createConfig(transportConfig(DEFAULT_LIMITS, tls));
    clientConfig = quicheEngine.createConfig(transportConfig(DEFAULT_LIMITS, { verifyPeer: false }));
  });

  it('completes a handshake and carries streams and datagrams', function () {
    const p = new Pair(serverConfig, clientConfig);
    p.pump();
    expect(p.server.isEstablished()).to.equal(true);
    expect(p.client.isEstablished()).to.equal(true);
    expect(p.echoWorks(0)).to.equal(true);
    expect(p.server.dgramSend(Buffer.from('dgram'))).to.equal(true);
    p.pump();
    expect(Buffer.from(p.client.dgramRecv()!).toString()).to.equal('dgram');
  });

  it('drops 5,000 random datagrams, on fresh and on established connections, without crashing', function () {
    for (let i = 0; i < 2500; i++) {
      const fresh = nativeEngine.accept(randomBytes(20), null, SERVER, CLIENT, serverConfig);
      const junk = randomBytes(Math.floor(Math.random() * 1500));
      // A random first byte with the long-header bit makes ngtcp2 try to parse an Initial.
      if (i % 2 === 0 && junk.length > 0) junk[0] = 0xc0 | (junk[0]! & 0x0f);
      expect(fresh.recv(junk, CLIENT.host, CLIENT.port)).to.equal(false);
      expect(fresh.send(buf)).to.equal(0);
    }
    const p = new Pair(serverConfig, clientConfig);
    p.pump();
    for (let i = 0; i < 2500; i++) {
      p.server.recv(randomBytes(1 + Math.floor(Math.random() * 1400)), CLIENT.host, CLIENT.port);
    }
    p.pump();
    expect(p.server.isClosing()).to.equal(false);
    expect(p.echoWorks(0)).to.equal(true);
  });

  it('survives 5,000 mutated client packets (Initial, Handshake and 1-RTT) and keeps serving', function () {
    const p = new Pair(serverConfig, clientConfig, true);
    p.pump();
    expect(p.echoWorks(0)).to.equal(true);
    const packets = p.clientPackets;
    expect(packets.length).to.be.greaterThan(2);
    for (let i = 0; i < 2500; i++) {
      // A fresh connection gets a mutated first flight; whatever it makes of it, it must not crash.
      const fresh = nativeEngine.accept(randomBytes(20), null, SERVER, CLIENT, serverConfig);
      fresh.recv(mutatePacket(packets[0]!), CLIENT.host, CLIENT.port);
      while (fresh.send(buf) > 0);
      fresh.close(false, 0, '');
      fresh.send(buf);
      expect(fresh.isClosed()).to.equal(true);
    }
    for (let i = 0; i < 2500; i++) {
      const packet = packets[Math.floor(Math.random() * packets.length)]!;
      p.server.recv(mutatePacket(packet), CLIENT.host, CLIENT.port);
    }
    p.pump();
    expect(p.server.isClosing()).to.equal(false);
    expect(p.echoWorks(4)).to.equal(true);
  });

  it('answers stream misuse with errors, not crashes', function () {
    const p = new Pair(serverConfig, clientConfig);
    p.pump();
    // Client-initiated unidirectional stream 2: the server has no send side on it (RFC 9000 §2.1).
    expect(() => p.server.streamSend(2, Buffer.from('x'), false)).to.throw(/InvalidStreamState/);
    expect(() => p.server.streamSend(8, Buffer.from('x'), false)).to.throw(/InvalidStreamState/);
    expect(p.server.streamRecv(1234, readBuf)).to.be.lessThan(0);
    p.server.streamShutdown(999, 'read', 1);
    p.server.streamShutdown(999, 'write', 1);
    expect(p.echoWorks(0)).to.equal(true);
  });

  it('frees every connection, TLS session and stream after 300 connect/close cycles and abandoned handshakes', function () {
    this.timeout(120_000);
    const before = nativeEngineCounters();
    const firstFlight = new Pair(serverConfig, clientConfig);
    const n = firstFlight.client.send(buf);
    const initial = Buffer.from(buf.subarray(0, n));
    for (let i = 0; i < CYCLES; i++) {
      const p = new Pair(serverConfig, clientConfig);
      p.pump();
      expect(p.echoWorks(0)).to.equal(true);
      p.server.close(true, 0x100, 'bye');
      p.pump();
      expect(p.server.isClosed()).to.equal(true);
      // An abandoned handshake (a replayed first flight, never continued), closed as the server's
      // connect timer closes it.
      const abandoned = nativeEngine.accept(randomBytes(20), null, SERVER, CLIENT, serverConfig);
      abandoned.recv(Buffer.from(initial), CLIENT.host, CLIENT.port);
      while (abandoned.send(buf) > 0);
      abandoned.close(false, 0x2, 'abandoned');
      abandoned.send(buf);
      expect(abandoned.isClosed()).to.equal(true);
    }
    // Counted inside the addon (ngtcp2 allocates through a counting allocator), so the quiche client's
    // own memory does not blur the result.
    expect(nativeEngineCounters()).to.deep.equal(before);
  });
});
