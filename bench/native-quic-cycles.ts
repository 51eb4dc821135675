/**
 * Connect/close cycles against one server engine, in memory (no sockets): a quiche client and a server
 * connection of `--server-engine` complete a handshake, carry one stream message, close; plus one
 * abandoned handshake per cycle (a replayed first flight the server closes). Prints RSS growth after the
 * warm-up and, for the native engine, the addon's own counters (live ngtcp2 connections, TLS sessions,
 * streams, bytes ngtcp2 holds), which must come back to zero.
 *
 *   node --import tsx bench/native-quic-cycles.ts [--cycles 10000] [--server-engine native|matrixai]
 *
 * The quiche client's memory grows on its own (measure `--server-engine matrixai` for that baseline):
 * the difference between the two runs is what the server engine keeps.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { generateDevCertificate } from '../src/webtransport/cert-files.js';
import { transportConfig } from '../src/webtransport/quic/defaults.js';
import { quicEngine } from '../src/webtransport/quic/engines.js';
import type { QuicEngineConnection } from '../src/webtransport/quic/engine.js';
import { nativeEngineCounters } from '../src/webtransport/quic/native-engine.js';
import { quicheEngine } from '../src/webtransport/quic/quiche-engine.js';
import { DEFAULT_LIMITS } from '../src/webtransport/server.js';

const { values: v } = parseArgs({
  options: {
    cycles: { type: 'string', default: '10000' },
    'server-engine': { type: 'string', default: 'native' },
  },
});
const native = v['server-engine'] === 'native';
const engine = quicEngine(native ? 'native' : 'matrixai');
const cert = await generateDevCertificate({ now: Date.now() });
const sCfg = engine.createConfig(
  transportConfig(DEFAULT_LIMITS, { certPem: cert.certPem, keyPem: cert.keyPem, verifyPeer: false }),
);
const cCfg = quicheEngine.createConfig(transportConfig(DEFAULT_LIMITS, { verifyPeer: false }));
const S = { host: '127.0.0.1', port: 4433 };
const C = { host: '127.0.0.1', port: 50000 };
const buf = Buffer.alloc(65536);
const read = Buffer.alloc(65536);

function pump(client: QuicEngineConnection, server: QuicEngineConnection): void {
  for (let r = 0; r < 50; r++) {
    let moved = 0;
    for (let n = client.send(buf); n > 0; n = client.send(buf), moved++)
      server.recv(Buffer.from(buf.subarray(0, n)), C.host, C.port);
    for (let n = server.send(buf); n > 0; n = server.send(buf), moved++)
      client.recv(Buffer.from(buf.subarray(0, n)), S.host, S.port);
    if (moved === 0) return;
  }
}

let initial: Buffer | null = null;
function cycle(): void {
  const client = quicheEngine.connect('localhost', randomBytes(16), C, S, cCfg);
  const n = client.send(buf);
  initial ??= Buffer.from(buf.subarray(0, n));
  const server = engine.accept(randomBytes(20), null, S, C, sCfg);
  server.recv(Buffer.from(buf.subarray(0, n)), C.host, C.port);
  pump(client, server);
  client.streamSend(0, Buffer.from('hello'), true);
  pump(client, server);
  if (server.streamRecv(0, read) !== 5) throw new Error('no stream data');
  server.close(true, 0x100, 'bye');
  pump(client, server);
  const abandoned = engine.accept(randomBytes(20), null, S, C, sCfg);
  abandoned.recv(Buffer.from(initial), C.host, C.port);
  while (abandoned.send(buf) > 0);
  abandoned.close(false, 0x2, 'abandoned');
  abandoned.send(buf);
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
async function settledRss(): Promise<number> {
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().rss;
}

const cycles = Number(v.cycles);
const warmup = Math.min(1000, Math.floor(cycles / 10));
for (let i = 0; i < warmup; i++) cycle();
const before = await settledRss();
const t0 = performance.now();
for (let i = warmup; i < cycles; i++) cycle();
const seconds = (performance.now() - t0) / 1000;
const grown = (await settledRss()) - before;
console.log(
  `${v['server-engine']}: ${cycles} cycles (${warmup} warm-up), ${((cycles - warmup) / seconds) | 0} cycles/s, ` +
    `RSS after warm-up +${(grown / 1048576).toFixed(1)} MiB (${(grown / (cycles - warmup) / 1024).toFixed(2)} KiB/cycle)`,
);
if (native) console.log('addon counters after the run:', JSON.stringify(nativeEngineCounters()));
