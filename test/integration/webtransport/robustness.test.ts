import { expect } from 'chai';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { WebTransportClientSession } from '../../../src/webtransport/client.js';
import {
  H3_CLOSED_CRITICAL_STREAM,
  H3_FRAME_ERROR,
  H3_MISSING_SETTINGS,
  H3_NO_ERROR,
} from '../../../src/webtransport/constants.js';
import { encodeFrame, encodeWebTransportUniHeader } from '../../../src/webtransport/h3-frames.js';
import { RawH3Client } from './raw-client.js';
import { makeCert, SessionRecorder, StreamRecorder, TestServer, until, type TestCert } from './support.js';

/** Sends `datagrams` from a throwaway UDP socket and returns whatever comes back within a short while. */
async function blast(port: number, datagrams: Buffer[], collectMs = 100): Promise<Buffer[]> {
  const socket = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  socket.on('message', (msg) => replies.push(msg));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  for (const d of datagrams) socket.send(d, port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, collectMs));
  socket.close();
  return replies;
}

/**
 * A long-header Initial with `version`, padded with random bytes to `size` (RFC 9000 §17.2.2): token
 * length 0 and a 2-byte Length make the header parseable; the "encrypted" payload is noise.
 */
function longHeader(version: number, size: number): Buffer {
  const dcid = randomBytes(8);
  const scid = randomBytes(8);
  const head = Buffer.concat([
    Buffer.from([0xc0]),
    Buffer.from([(version >>> 24) & 0xff, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff]),
    Buffer.from([dcid.length]),
    dcid,
    Buffer.from([scid.length]),
    scid,
    Buffer.from([0x00, 0x44, 0x00]), // token length 0, Length 1024 (2-byte varint)
  ]);
  return Buffer.concat([head, randomBytes(Math.max(0, size - head.length))]);
}

describe('WebTransport server robustness', function () {
  this.timeout(20_000);
  let cert: TestCert;
  let server: TestServer;
  let clients: WebTransportClientSession[];
  let raws: RawH3Client[];

  before(function () {
    cert = makeCert();
  });

  beforeEach(async function () {
    clients = [];
    raws = [];
    server = await new TestServer(cert).start();
  });

  afterEach(async function () {
    for (const c of clients) c.destroy();
    for (const r of raws) await r.destroy();
    await server.close();
  });

  async function session(): Promise<[WebTransportClientSession, SessionRecorder]> {
    const s = await server.connect();
    clients.push(s);
    await until(() => server.sessions.length >= clients.length, 'server session');
    return [s, server.sessions.at(-1)!];
  }

  /** The session still echoes a stream and the server still accepts new sessions. */
  async function stillWorks(s: WebTransportClientSession): Promise<void> {
    const stream = s.openBidiStream();
    const rec = new StreamRecorder(stream);
    stream.write(Buffer.from('alive'));
    stream.end();
    await until(() => rec.ended, 'echo after the attack');
    expect(rec.text()).to.equal('alive');
    const fresh = await server.connect();
    clients.push(fresh);
  }

  async function raw(): Promise<RawH3Client> {
    const client = await RawH3Client.connect(server.port);
    raws.push(client);
    await until(() => client.established, 'raw handshake');
    return client;
  }

  it('survives garbage UDP datagrams without disturbing an open session', async function () {
    const [s] = await session();
    const initial = longHeader(1, 1200);
    const garbage = [
      Buffer.alloc(0),
      Buffer.from([0x00]),
      Buffer.from([0xff]),
      ...Array.from({ length: 200 }, (_, i) => randomBytes(1 + ((i * 37) % 1400))),
      ...Array.from({ length: 50 }, (_, i) => initial.subarray(0, 1 + i * 20)), // truncated Initials
      initial, // a full-size Initial with random (undecryptable) payload
      Buffer.concat([Buffer.from([0x40]), randomBytes(40)]), // short header, unknown connection id
    ];
    await blast(server.port, garbage);
    await stillWorks(s);
  });

  it('answers an unknown version with Version Negotiation (RFC 9000 §6)', async function () {
    const replies = await blast(server.port, [longHeader(0x1a2a3a4a, 1200)]);
    expect(replies).to.have.length(1);
    const vn = replies[0]!;
    expect(vn[0]! & 0x80).to.equal(0x80);
    expect(vn.readUInt32BE(1)).to.equal(0); // version 0 marks Version Negotiation
    // Too small to start a connection: no answer (RFC 9000 §5.2.2, amplification).
    expect(await blast(server.port, [longHeader(0x1a2a3a4a, 600)])).to.have.length(0);
  });

  it('answers a first Initial with a stateless Retry', async function () {
    // A random but well-formed v1 Initial is undecryptable only past the header; Retry comes first.
    const replies = await blast(server.port, [longHeader(1, 1200)]);
    expect(replies).to.have.length(1);
    const retry = replies[0]!;
    expect(retry.readUInt32BE(1)).to.equal(1);
    expect((retry[0]! & 0x30) >> 4).to.equal(3); // RFC 9000 §17.2.5: long header type 3 = Retry
    expect(server.server.connectionCount).to.equal(0); // no state for unvalidated addresses
  });

  it('cleans up a client that vanishes without CONNECTION_CLOSE after the idle timeout', async function () {
    await server.close();
    server = await new TestServer(cert, { limits: { idleTimeoutMs: 300 } }).start();
    const [s, remote] = await session();
    s.destroy();
    clients = [];
    await until(() => remote.closed !== null, 'idle close', 5000);
    expect(remote.closes).to.equal(1);
    expect(remote.closed![1]).to.match(/idle/);
    await until(() => server.server.connectionCount === 0, 'connection forgotten', 5000);
  });

  it('closes only the offending connection on a control stream without SETTINGS first', async function () {
    const [s, remote] = await session();
    const bad = await raw();
    bad.write(2, Uint8Array.of(0x00, ...encodeFrame(0x07, Uint8Array.of(0)))); // GOAWAY first
    await until(() => bad.closed !== null, 'connection error');
    expect(bad.closed).to.include({ isApp: true, code: H3_MISSING_SETTINGS, by: 'peer' });
    expect(remote.closed).to.equal(null);
    await stillWorks(s);
  });

  it('closes only the offending connection on a truncated SETTINGS frame', async function () {
    const [s] = await session();
    const bad = await raw();
    // SETTINGS whose payload ends inside a setting (RFC 9114 §7.1: H3_FRAME_ERROR).
    bad.write(2, Uint8Array.of(0x00, 0x04, 0x02, 0x06, 0x44));
    await until(() => bad.closed !== null, 'connection error');
    expect(bad.closed).to.include({ code: H3_FRAME_ERROR });
    await stillWorks(s);
  });

  it('treats closing the control stream as H3_CLOSED_CRITICAL_STREAM', async function () {
    const bad = await raw();
    bad.sendSettings();
    bad.write(2, new Uint8Array(0), true);
    await until(() => bad.closed !== null, 'connection error');
    expect(bad.closed).to.include({ code: H3_CLOSED_CRITICAL_STREAM });
  });

  it('ignores unknown stream types, frames and settings (GREASE)', async function () {
    const client = await raw();
    client.sendSettings();
    client.write(14, Uint8Array.of(0x40, 0x21, 1, 2, 3), true); // uni stream of reserved type 0x21
    client.write(2, encodeFrame(0x21, Uint8Array.of(9, 9, 9))); // reserved frame on the control stream
    client.sendConnect(0);
    await until(() => client.status(0) !== null, 'response');
    expect(client.status(0)).to.equal(200);
    expect(client.closed).to.equal(null);
  });

  it('refuses a QPACK bomb in CONNECT headers with 431 without disturbing other sessions', async function () {
    const [s, remote] = await session();
    const bomb = await raw();
    bomb.sendSettings();
    // Each byte 0xc0|i is an indexed static field line (RFC 9204 §4.5.2); index 58 is
    // "strict-transport-security: max-age=31536000; includesubdomains; preload" (70 bytes + 32
    // counted per field), so 1000 input bytes would decode to ~100 KB against a 16 KiB cap.
    const section = Buffer.concat([Buffer.from([0, 0]), Buffer.alloc(1000, 0xc0 | 58)]);
    bomb.write(0, encodeFrame(0x01, section));
    await until(() => bomb.status(0) !== null, 'refusal');
    expect(bomb.status(0)).to.equal(431);
    expect(bomb.closed).to.equal(null);
    expect(remote.closed).to.equal(null);
    // The bomber's connection is still usable for a proper request.
    bomb.sendConnect(4);
    await until(() => bomb.status(4) !== null, 'second request');
    expect(bomb.status(4)).to.equal(200);
    await stillWorks(s);
  });

  it('ignores GREASE capsules and unknown-session datagrams, and reads a close capsule split over DATA frames', async function () {
    const client = await raw();
    client.sendSettings();
    client.sendConnect(0);
    await until(() => client.status(0) === 200 && server.sessions.length === 1, 'session');
    const remote = server.sessions[0]!;
    // RFC 9297 §5.4: capsule types 0x29 * N + 0x17 are reserved (GREASE), as Chromium sends right away.
    const grease = Buffer.from([0x40, 0x40, 0x03, 1, 2, 3]); // type 0x40 = 0x29 * 1 + 0x17, length 3
    const close = Buffer.from([0x80, 0x00, 0x28, 0x43, 0x07, 0, 0, 0x0f, 0xa1, 0x62, 0x79, 0x65]); // 4001 'bye'
    const capsules = Buffer.concat([grease, close]);
    client.write(0, encodeFrame(0x00, capsules.subarray(0, 8))); // DATA frames split mid-capsule
    client.quic.sendDatagram(Uint8Array.of(0x01, 0x99)); // Quarter Stream ID 1: session 4 does not exist
    client.write(0, encodeFrame(0x00, capsules.subarray(8)), true);
    await until(() => remote.closed !== null, 'close capsule');
    expect(remote.closed).to.deep.equal([4001, 'bye']);
    expect(remote.datagrams).to.have.length(0);
    await until(() => client.streams.get(0)?.fin === true, 'server FIN on the CONNECT stream');
    await until(() => client.closed !== null, 'server closes the finished connection');
    // RFC 9000 §20.1: a transport NO_ERROR close (docs/protocol.md §2.3 says why not H3_NO_ERROR).
    expect(client.closed).to.include({ isApp: false, code: 0, by: 'peer' });
  });

  it('tolerates Chromium-style resets (0x10f) of streams after a session close', async function () {
    const client = await raw();
    client.sendSettings();
    client.sendConnect(0);
    client.write(4, Uint8Array.of(0x40, 0x41, 0x00, 0x61)); // WebTransport bidi stream, session 0
    await until(() => server.sessions.length === 1 && server.sessions[0]!.bidi.length === 1, 'stream');
    const remote = server.sessions[0]!;
    remote.session.close(9, 'done');
    client.quic.streamShutdown(4, 'write', 0x10f);
    client.quic.streamShutdown(4, 'read', 0x10f);
    client.write(0, new Uint8Array(0), true);
    await until(() => client.closed !== null, 'connection closed after the session');
    expect(client.closed).to.include({ isApp: false, code: 0 });
    expect(remote.closes).to.equal(1);
  });

  it('answers a non-CONNECT request with 405 and a malformed CONNECT with 400', async function () {
    const client = await raw();
    client.sendSettings();
    client.write(0, encodeFrame(0x01, Buffer.from([0, 0, 0xd1, 0xd7]))); // GET https (static 17, 23)
    client.sendConnect(4, '/wt', [[':method', 'POST']]); // duplicate pseudo-header
    await until(() => client.status(0) !== null && client.status(4) !== null, 'responses');
    expect(client.status(0)).to.equal(405);
    expect(client.status(4)).to.equal(400);
  });

  it('refuses sessions beyond maxSessionsPerConnection with 429', async function () {
    await server.close();
    server = await new TestServer(cert, { limits: { maxSessionsPerConnection: 1 } }).start();
    const client = await raw();
    client.sendSettings();
    client.sendConnect(0);
    await until(() => client.status(0) !== null, 'first');
    client.sendConnect(4);
    await until(() => client.status(4) !== null, 'second');
    expect([client.status(0), client.status(4)]).to.deep.equal([200, 429]);
    expect(server.sessions).to.have.length(1);
  });

  it('closes a connection that sends no CONNECT within connectTimeoutMs', async function () {
    await server.close();
    server = await new TestServer(cert, { limits: { connectTimeoutMs: 200 } }).start();
    const idle = await raw();
    idle.sendSettings();
    await until(() => idle.closed !== null, 'connect timeout', 5000);
    expect(idle.closed).to.include({ code: H3_NO_ERROR, by: 'peer' });
    expect(idle.closed!.reason).to.match(/no WebTransport session/);
  });

  it('closes a connection whose request never completes within connectTimeoutMs', async function () {
    await server.close();
    server = await new TestServer(cert, { limits: { connectTimeoutMs: 200 } }).start();
    const slow = await raw();
    slow.sendSettings();
    slow.write(0, Uint8Array.of(0x01, 0x40, 0x80, 0x00)); // HEADERS frame announcing 128 bytes, 1 sent
    await until(() => slow.closed !== null, 'connect timeout', 5000);
    expect(slow.closed).to.include({ code: H3_NO_ERROR, by: 'peer' });
  });

  it('holds a stream that arrives before its CONNECT and delivers it once the session exists', async function () {
    const client = await raw();
    client.sendSettings();
    // A uni stream for session 0 first, then the CONNECT on stream 0.
    client.write(
      14,
      Buffer.concat([Buffer.from(encodeWebTransportUniHeader(0)), Buffer.from('early')]),
      true,
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    client.sendConnect(0);
    await until(() => server.sessions.length === 1 && server.sessions[0]!.uni.length === 1, 'early stream');
    const rec = server.sessions[0]!.streams.get(14)!;
    await until(() => rec.ended, 'early stream data');
    expect(rec.text()).to.equal('early');
  });

  it('rejects streams for a session that was refused', async function () {
    await server.close();
    server = await new TestServer(cert, { onSessionRequest: () => ({ status: 404 }) }).start();
    const client = await raw();
    client.sendSettings();
    client.sendConnect(0);
    await until(() => client.status(0) === 404, 'refusal');
    client.write(14, Buffer.concat([Buffer.from(encodeWebTransportUniHeader(0)), Buffer.from('late')]));
    client.write(4, Uint8Array.of(0x40, 0x41, 0x00, 0x61)); // bidi WebTransport stream for session 0
    await until(() => client.streams.get(4)?.resetCode != null, 'bidi reset');
    expect(client.closed).to.equal(null);
  });

  it('ends every session exactly once when the server shuts down', async function () {
    const pairs = await Promise.all([session(), session()]);
    const clientSide = pairs.map(([s]) => new SessionRecorder(s));
    await server.close();
    await until(() => clientSide.every((c) => c.closed !== null), 'client sessions closed');
    for (const [, remote] of pairs) expect(remote.closes).to.equal(1);
    for (const c of clientSide) expect(c.closes).to.equal(1);
  });
});
