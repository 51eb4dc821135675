/**
 * Abuse: connections are limited from accept, not from login (docs/security.md, "Connection limits").
 * One hostile address holds every kind of half-finished socket a real attacker would: WebSocket
 * upgrades it never finishes, raw TCP sockets it never writes to, TLS handshakes it never starts,
 * gRPC sockets that never make a call, QUIC connections that never send CONNECT. Each is capped at
 * the per-IP limit with the documented answer and counted in /metrics, a client from another
 * address still gets in, and each pre-auth phase ends at the configured deadline. Two bystanders
 * keep exchanging QoS-1 messages after every attack.
 *
 * Linux routes all of 127.0.0.0/8 to the loopback interface: every attack comes from its own
 * address (127.0.0.3 and up, bound with `localAddress`), so one test's sockets, still closing on
 * the server, cannot touch the next test's count.
 */
import net from 'node:net';
import { expect } from 'chai';
import { DisconnectCode } from '../../../src/errors.js';
import { decodeFrame, type Frame } from '../../../src/protocol/codec.js';
import { StreamFrameReader } from '../../../src/protocol/stream-reader.js';
import { Bystanders } from '../../helpers/bystanders.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { generateTestCertificate, type TestCertificate } from '../../helpers/transport-clients.js';
import { WireClient } from '../../helpers/wire-client.js';
import { accessClient, API_KEY_FLAGS, callUnary } from '../access/support.js';
import { certHashes, WtWireClient } from '../webtransport-gateway/wt-wire-client.js';
import { RawH3Client } from '../webtransport/raw-client.js';
import { until } from '../webtransport/support.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

const PER_IP = 5;
/** Another address than the attacker's, for the client that must still get in. */
const ELSEWHERE = '127.0.0.2';

/** A raw TCP socket held open by the test: what it received, and whether the server closed it. */
class HeldSocket {
  data = Buffer.alloc(0);
  closedAt = 0;
  readonly closed: Promise<void>;
  readonly openedAt = Date.now();

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => (this.data = Buffer.concat([this.data, d])));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAt = Date.now();
        resolve();
      }),
    );
  }

  /** Connects from `localAddress`; resolves once the TCP handshake is done (the server may not have accepted yet). */
  static open(port: number, localAddress: string): Promise<HeldSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, localAddress });
      const held = new HeldSocket(socket);
      socket.once('connect', () => resolve(held));
      socket.once('error', reject);
    });
  }

  /**
   * Opens `n` sockets one after another. The kernel queues completed handshakes in order and the
   * server accepts them in that order, so a socket opened after these is decided after all of them.
   */
  static async openMany(n: number, port: number, localAddress: string): Promise<HeldSocket[]> {
    const out: HeldSocket[] = [];
    for (let i = 0; i < n; i++) out.push(await HeldSocket.open(port, localAddress));
    return out;
  }

  get isClosed(): boolean {
    return this.closedAt !== 0;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function portOf(url: string): number {
  return Number(new URL(url.includes('://') ? url : `grpc://${url}`).port);
}

/** One sample from the node's /metrics text, 0 when absent. */
async function metric(gw: GatewayProcess, name: string, labels: Record<string, string>): Promise<number> {
  const text = (await gw.admin('/metrics')).body;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    const have = labelText.split(',');
    if (want.every((w) => have.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** The frames in a TCP byte stream (length-prefixed). */
function framesOf(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  new StreamFrameReader(1 << 20).push(bytes, (body) => frames.push(decodeFrame(body, Infinity)));
  return frames;
}

describe('abuse: connections are limited from accept, not from login', function () {
  this.timeout(60_000 * TIME_FACTOR);

  describe(`caps count half-finished sockets (--connections-per-ip ${PER_IP})`, function () {
    let gw: GatewayProcess;
    let bystanders: Bystanders;
    const held: { destroy(): void }[] = [];

    before(async function () {
      gw = await GatewayProcess.start(
        [
          '--connections-per-ip',
          String(PER_IP),
          '--grpc-connections-per-ip',
          String(PER_IP),
          // Long enough that nothing the attacker holds times out while a test runs.
          '--handshake-timeout',
          '60s',
          '--auth-deadline',
          '60s',
          ...API_KEY_FLAGS,
        ],
        { wt: true, grpc: true },
      );
      bystanders = await Bystanders.start(gw.urls);
      await bystanders.exchange();
    });
    afterEach(async function () {
      await bystanders.exchange();
      for (const h of held.splice(0)) h.destroy();
    });
    after(async function () {
      bystanders?.destroy();
      await gw?.cleanup();
    });

    it('half-finished WebSocket upgrades: the one over the limit gets 429 with Retry-After, not an upgrade', async function () {
      const attacker = '127.0.0.3';
      const port = portOf(gw.urls.ws);
      const upgrades = await HeldSocket.openMany(PER_IP, port, attacker);
      held.push(...upgrades);
      // A request that never ends: the headers keep the server waiting for the rest.
      for (const u of upgrades) u.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
      const over = await HeldSocket.open(port, attacker);
      held.push(over);
      over.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
      await over.closed;
      const answer = over.data.toString();
      expect(answer).to.match(/^HTTP\/1\.1 429 Too Many Requests\r\n/);
      expect(answer)
        .to.include('Retry-After: 5\r\n')
        .and.include('4007 too many connections from this address');
      expect(upgrades.some((u) => u.isClosed)).to.equal(false);

      const elsewhere = await WireClient.login(gw.urls.ws, await testToken('ws-elsewhere'), {
        localAddress: ELSEWHERE,
      });
      elsewhere.close();
      expect(
        await metric(gw, 'ferry_connections_refused_total', { transport: 'ws', reason: 'per_ip' }),
      ).to.equal(1);
      expect(await metric(gw, 'ferry_sockets', { transport: 'ws', phase: 'pre_auth' })).to.equal(PER_IP);
    });

    it('idle raw TCP sockets: the one over the limit gets Disconnect 4007 with reconnect advice, then FIN', async function () {
      const attacker = '127.0.0.4';
      const port = portOf(gw.urls.tcp);
      const idle = await HeldSocket.openMany(PER_IP, port, attacker);
      held.push(...idle);
      const over = await HeldSocket.open(port, attacker);
      held.push(over);
      await over.closed;
      const [f, ...rest] = framesOf(over.data);
      expect(rest).to.deep.equal([]);
      expect(f?.disconnect).to.deep.include({
        code: DisconnectCode.CONNECTION_LIMIT,
        reason: 'too many connections from this address',
        reconnect: true,
        reconnectDelayMs: 5000,
      });
      expect(idle.some((s) => s.isClosed)).to.equal(false);

      const elsewhere = await WireClient.login(gw.urls.tcp, await testToken('tcp-elsewhere'), {
        localAddress: ELSEWHERE,
      });
      elsewhere.close();
      expect(
        await metric(gw, 'ferry_connections_refused_total', { transport: 'tcp', reason: 'per_ip' }),
      ).to.equal(1);
    });

    it('idle gRPC sockets: the one over the limit gets GOAWAY naming 4007; other callers keep calling', async function () {
      const attacker = '127.0.0.5';
      const port = portOf(gw.urls.grpc);
      const idle = await HeldSocket.openMany(PER_IP, port, attacker);
      held.push(...idle);
      const over = await HeldSocket.open(port, attacker);
      held.push(over);
      await over.closed;
      // RFC 9113: the server preface (SETTINGS, type 0x4), then GOAWAY (type 0x7) with debug data.
      expect(over.data[3]).to.equal(0x4);
      expect(over.data[12]).to.equal(0x7);
      expect(over.data.subarray(26).toString()).to.equal('4007 too many connections from this address');
      expect(idle.some((s) => s.isClosed)).to.equal(false);

      // grpc-js cannot bind a source address: this caller comes from 127.0.0.1, not the attacker's.
      const client = accessClient(gw.urls.grpc);
      try {
        const stats = (await callUnary(client, 'Stats', {}, { deadlineMs: 10_000 * TIME_FACTOR })) as Record<
          string,
          unknown
        >;
        expect(stats).to.have.property('nodeId');
      } finally {
        client.close();
      }
      expect(
        await metric(gw, 'ferry_connections_refused_total', { transport: 'grpc', reason: 'per_ip' }),
      ).to.equal(1);
      expect(await metric(gw, 'ferry_sockets', { transport: 'grpc', phase: 'pre_auth' })).to.equal(PER_IP);
    });

    it('QUIC handshakes: the one over the limit gets CONNECTION_CLOSE (CONNECTION_REFUSED, "4007 ...")', async function () {
      const attacker = '127.0.0.6';
      const port = portOf(gw.urls.wt);
      const quic: RawH3Client[] = [];
      // Each completes its QUIC handshake and never opens a WebTransport session.
      for (let i = 0; i < PER_IP; i++) {
        const c = await RawH3Client.connect(port, { localAddress: attacker });
        quic.push(c);
        held.push({ destroy: () => void c.destroy() });
        await until(() => c.established, 'QUIC handshake', 10_000 * TIME_FACTOR);
      }
      const over = await RawH3Client.connect(port, { localAddress: attacker });
      held.push({ destroy: () => void over.destroy() });
      await until(() => over.closed !== null, 'refusal', 10_000 * TIME_FACTOR);
      expect(over.established).to.equal(false);
      expect(over.closed).to.deep.include({ isApp: false, code: 0x2, by: 'peer' });
      expect(over.closed?.reason).to.equal('4007 too many connections from this address');
      expect(quic.some((c) => c.closed !== null)).to.equal(false);

      const hashes = (await certHashes(gw.urls.admin)).hashes.map((h) => h.value);
      const elsewhere = await WtWireClient.login(gw.urls.wt, hashes, await testToken('wt-elsewhere'), '', {
        localAddress: ELSEWHERE,
      });
      elsewhere.close();
      expect(
        await metric(gw, 'ferry_connections_refused_total', { transport: 'wt', reason: 'per_ip' }),
      ).to.equal(1);
      expect(await metric(gw, 'ferry_sockets', { transport: 'wt', phase: 'pre_auth' })).to.equal(PER_IP);
    });

    it('counts every transport against one limit: four TCP sessions and an upgrade leave no sixth slot', async function () {
      const attacker = '127.0.0.7';
      // Logged-in sessions prove they were admitted: sockets on different ports are not accepted in
      // any particular order, so idle ones could still be queued when the WebSocket sockets arrive.
      for (let i = 0; i < PER_IP - 1; i++) {
        const c = await WireClient.login(gw.urls.tcp, await testToken(`mixed-${i}`), {
          localAddress: attacker,
        });
        held.push(c);
      }
      const upgrade = await HeldSocket.open(portOf(gw.urls.ws), attacker);
      held.push(upgrade);
      const over = await HeldSocket.open(portOf(gw.urls.ws), attacker);
      held.push(over);
      await over.closed;
      expect(over.data.toString()).to.match(/^HTTP\/1\.1 429 /);
      expect(upgrade.isClosed).to.equal(false);
    });
  });

  describe('TLS handshakes count too (raw TCP over TLS)', function () {
    let gw: GatewayProcess;
    let cert: TestCertificate;
    let bystanders: Bystanders;

    before(async function () {
      cert = generateTestCertificate();
      gw = await GatewayProcess.start([
        '--connections-per-ip',
        String(PER_IP),
        '--handshake-timeout',
        '60s',
        '--tcp-tls-cert',
        cert.certPath,
        '--tcp-tls-key',
        cert.keyPath,
      ]);
      expect(gw.urls.tcp).to.match(/^tls:\/\//);
      bystanders = await Bystanders.start(gw.urls);
      await bystanders.exchange();
    });
    after(async function () {
      bystanders?.destroy();
      await gw?.cleanup();
      cert?.remove();
    });

    it('sockets that never send a ClientHello are capped; the one over is closed before any TLS work', async function () {
      const attacker = '127.0.0.8';
      const port = portOf(gw.urls.tcp);
      const silent = await HeldSocket.openMany(PER_IP, port, attacker);
      try {
        const over = await HeldSocket.open(port, attacker);
        await over.closed;
        expect(over.data.length).to.equal(0);
        expect(silent.some((s) => s.isClosed)).to.equal(false);
        const elsewhere = await WireClient.login(gw.urls.tcp, await testToken('tls-elsewhere'), {
          localAddress: ELSEWHERE,
        });
        elsewhere.close();
        expect(
          await metric(gw, 'ferry_connections_refused_total', { transport: 'tcp', reason: 'per_ip' }),
        ).to.equal(1);
        expect(await metric(gw, 'ferry_sockets', { transport: 'tcp', phase: 'pre_auth' })).to.equal(PER_IP);
        await bystanders.exchange();
      } finally {
        for (const s of silent) s.destroy();
      }
    });
  });

  describe('every pre-auth phase ends at its configured deadline (--handshake-timeout 1s)', function () {
    const DEADLINE_MS = 1000;
    const AUTH_DEADLINE_MS = 3000;
    /** Well before Node's 30 s timeout check, and before the 10 s headers timeout of old. */
    const WELL_BEFORE_MS = 5000;
    let gw: GatewayProcess;
    let bystanders: Bystanders;

    before(async function () {
      gw = await GatewayProcess.start(
        [
          '--handshake-timeout',
          `${DEADLINE_MS}ms`,
          '--auth-deadline',
          `${AUTH_DEADLINE_MS}ms`,
          ...API_KEY_FLAGS,
        ],
        {
          wt: true,
          grpc: true,
        },
      );
      bystanders = await Bystanders.start(gw.urls);
    });
    afterEach(async function () {
      await bystanders.exchange();
    });
    after(async function () {
      bystanders?.destroy();
      await gw?.cleanup();
    });

    function expectDeadline(openedAt: number, closedAt: number): void {
      const lived = closedAt - openedAt;
      expect(lived, 'closed before the deadline').to.be.at.least(DEADLINE_MS - 50);
      expect(lived, 'closed well after the deadline').to.be.below(WELL_BEFORE_MS);
    }

    it('a slow-drip WebSocket upgrade is answered 408 and closed at the deadline', async function () {
      const drip = await HeldSocket.open(portOf(gw.urls.ws), '127.0.0.3');
      drip.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nX-Drip: ');
      // One more header byte every 100 ms: each arrives long before any per-byte idle timer would fire.
      const timer = setInterval(() => drip.socket.write('a'), 100);
      try {
        await drip.closed;
      } finally {
        clearInterval(timer);
      }
      expect(drip.data.toString()).to.match(/^HTTP\/1\.1 408 /);
      expectDeadline(drip.openedAt, drip.closedAt);
      expect(
        await metric(gw, 'ferry_connections_refused_total', { transport: 'ws', reason: 'handshake_timeout' }),
      ).to.equal(1);
    });

    it('a gRPC socket that sends the HTTP/2 preface and never a call is closed at the deadline', async function () {
      const idle = await HeldSocket.open(portOf(gw.urls.grpc), '127.0.0.4');
      // RFC 9113 §3.4: the client preface, then an empty SETTINGS frame.
      idle.socket.write(
        Buffer.concat([
          Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
          Buffer.from('000000040000000000', 'hex'),
        ]),
      );
      await idle.closed;
      expectDeadline(idle.openedAt, idle.closedAt);
      expect(
        await metric(gw, 'ferry_connections_refused_total', {
          transport: 'grpc',
          reason: 'handshake_timeout',
        }),
      ).to.equal(1);
      // A caller that calls is not cut at the deadline: its first call ended it.
      const client = accessClient(gw.urls.grpc);
      try {
        await callUnary(client, 'Stats', {}, { deadlineMs: 10_000 * TIME_FACTOR });
      } finally {
        client.close();
      }
    });

    it('a QUIC connection that never sends CONNECT is closed at the deadline, counted from its first Initial', async function () {
      const openedAt = Date.now();
      const c = await RawH3Client.connect(portOf(gw.urls.wt), { localAddress: '127.0.0.5' });
      try {
        await until(() => c.closed !== null, 'close at the deadline', WELL_BEFORE_MS * 2);
        expectDeadline(openedAt, Date.now());
        expect(c.closed).to.deep.include({ by: 'peer' });
      } finally {
        await c.destroy();
      }
      expect(
        await metric(gw, 'ferry_connections_refused_total', { transport: 'wt', reason: 'handshake_timeout' }),
      ).to.equal(1);
    });

    it('an upgraded WebSocket that never authenticates is left to auth.deadlineMs (4005), not cut at the handshake deadline', async function () {
      const openedAt = Date.now();
      const c = await WireClient.connect(gw.urls.ws, { localAddress: '127.0.0.6' });
      const { code } = await c.waitClosed(20_000 * TIME_FACTOR);
      expect(code).to.equal(DisconnectCode.AUTH_TIMEOUT);
      // The 1 s handshake deadline ended with the upgrade; the session's own deadline took over.
      expect(Date.now() - openedAt).to.be.at.least(AUTH_DEADLINE_MS - 50);
    });
  });
});
