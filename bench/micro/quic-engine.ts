/**
 * What one QUIC packet costs in the engine alone (bench/RESULTS.md, "WebTransport vs WebSocket"): a quiche
 * client and a server connection of `--server-engine` (matrixai = quiche, native = ngtcp2 + GnuTLS) in
 * one process, no sockets, no HTTP/3, ping-pong of small stream writes (each write its own packet, as
 * at moderate per-connection rates). Prints µs per call kind on the server side (the client's calls are
 * not timed); the first tenth is warm-up.
 *
 *   node --import tsx bench/micro/quic-engine.ts [--rounds 20000] [--payload 100] [--server-engine native]
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { generateDevCertificate } from '../../src/webtransport/cert-files.js';
import { quicEngine } from '../../src/webtransport/quic/engines.js';
import { quicheEngine } from '../../src/webtransport/quic/quiche-engine.js';
import { transportConfig } from '../../src/webtransport/quic/defaults.js';
import type { QuicEngineConnection } from '../../src/webtransport/quic/engine.js';

const { values: v } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20000' },
    payload: { type: 'string', default: '100' },
    'server-engine': { type: 'string', default: 'matrixai' },
  },
});
const serverEngine = quicEngine(v['server-engine'] === 'native' ? 'native' : 'matrixai');
const rounds = Number(v.rounds);
const cert = await generateDevCertificate({ now: Date.now() });
const limits = {
  maxSessionsPerConnection: 1,
  maxStreamsPerSession: 100,
  idleTimeoutMs: 60_000,
} as Parameters<typeof transportConfig>[0];
const sCfg = serverEngine.createConfig(
  transportConfig(limits, { certPem: cert.certPem, keyPem: cert.keyPem, verifyPeer: false }),
);
const cCfg = quicheEngine.createConfig(transportConfig(limits, { verifyPeer: false }));
const sAddr = { host: '127.0.0.1', port: 4433 };
const cAddr = { host: '127.0.0.1', port: 50000 };
const client = quicheEngine.connect('localhost', randomBytes(20), cAddr, sAddr, cCfg);
let server: QuicEngineConnection | null = null;
const out = new Uint8Array(1500);

const t: Record<string, [number, number]> = {};
function time<T>(name: string, fn: () => T): T {
  const s = process.hrtime.bigint();
  const r = fn();
  const d = Number(process.hrtime.bigint() - s);
  const e = (t[name] ??= [0, 0]);
  e[0] += d;
  e[1]++;
  return r;
}

/** Moves every packet `from` has to `to`; returns the count. */
function pump(
  from: QuicEngineConnection,
  to: QuicEngineConnection,
  fromAddr: typeof sAddr,
  measure: boolean,
  /** Which side `to` is: only the server's calls are timed. */
  toSide: 'server' | 'client' = 'server',
): number {
  let n = 0;
  for (;;) {
    const t0 = process.hrtime.bigint();
    const len = from.send(out);
    if (measure && toSide === 'client') {
      const e = (t[len === 0 ? 'send(done)' : 'send'] ??= [0, 0]);
      e[0] += Number(process.hrtime.bigint() - t0);
      e[1]++;
    }
    if (len === 0) return n;
    n++;
    const pkt = out.slice(0, len);
    if (measure && toSide === 'server') time('recv', () => to.recv(pkt, fromAddr.host, fromAddr.port));
    else to.recv(pkt, fromAddr.host, fromAddr.port);
  }
}

// Handshake.
{
  const len = client.send(out);
  const pkt = out.slice(0, len);
  server = serverEngine.accept(randomBytes(20), null, sAddr, cAddr, sCfg);
  server.recv(pkt, cAddr.host, cAddr.port);
  for (let i = 0; i < 10 && !(client.isEstablished() && server.isEstablished()); i++) {
    pump(server, client, sAddr, false);
    pump(client, server, cAddr, false);
  }
  if (!client.isEstablished() || !server.isEstablished()) throw new Error('no handshake');
}
const payload = new Uint8Array(Number(v.payload));
const buf = new Uint8Array(65536);
const sid = 0;
let packets = 0;
const start = process.hrtime.bigint();
for (let i = 0; i < rounds; i++) {
  const m = i >= rounds / 10;
  // client -> server: one message
  client.streamSend(sid, payload, false);
  packets += pump(client, server!, cAddr, m, 'server');
  time('streamReadable', () => server!.streamReadable(sid));
  time('streamRecv', () => server!.streamRecv(sid, buf));
  time('streamRecv(done)', () => server!.streamRecv(sid, buf));
  // server -> client: the answer (carries the ACK)
  time('streamSend', () => server!.streamSend(sid, payload, false));
  packets += pump(server!, client, sAddr, m, 'client');
  time('timeout', () => server!.timeoutMs());
  client.streamRecv(sid, buf);
  client.streamRecv(sid, buf);
}
const total = Number(process.hrtime.bigint() - start) / 1e3;
console.log(
  `${rounds} round trips, ${packets} packets, ${(total / packets).toFixed(2)} µs per packet all-in`,
);
for (const [k, [ns, n]] of Object.entries(t))
  console.log(`${k.padEnd(18)} ${(ns / n / 1000).toFixed(2).padStart(7)} µs  x${n}`);
