/**
 * Throughput and handshake probe for the WebTransport stack, run by hand (not part of `npm test`):
 *
 *   node --import tsx test/integration/webtransport/bulk.probe.ts [MiB=64] [--same-process]
 *
 * By default the server runs in a child process, so client and server each get a core as they would
 * in production; `--same-process` puts both on one event loop (a harsher, CPU-bound figure).
 * Reports: session-ready time of sequential Node-client connections (QUIC handshake with Retry,
 * SETTINGS exchange, extended CONNECT), then single-stream bulk MiB/s upload (client -> server),
 * download (server -> client) and echo (both at once, each way).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WebTransportSession, WtBidiStream } from '../../../src/webtransport/api.js';
import { connect } from '../../../src/webtransport/client.js';
import { WebTransportServer } from '../../../src/webtransport/server.js';
import { makeCert, StreamRecorder, testEngine, type TestCert } from './support.js';

const CHUNK = 64 * 1024;
const MIB = 1024 * 1024;

/** Server: the first 9 bytes of each stream are a command: 'U' (sink) | 'D' (source) | 'E' (echo) + u64 size. */
function serveSession(session: WebTransportSession): void {
  session.setHandler({
    onBidiStream: (stream) => serveStream(stream),
    onUniStream: () => {},
    onDatagram: () => {},
    onClose: () => {},
  });
}

function serveStream(stream: WtBidiStream): void {
  let header: Buffer | null = Buffer.alloc(0);
  let mode = '';
  let received = 0;
  stream.setHandler({
    onData(bytes) {
      let body = bytes;
      if (header !== null) {
        header = Buffer.concat([header, bytes]);
        if (header.length < 9) return;
        mode = String.fromCharCode(header[0]!);
        const size = Number(header.readBigUInt64BE(1));
        body = header.subarray(9);
        header = null;
        if (mode === 'D') sendBulk(stream, size);
      }
      received += body.length;
      if (mode === 'E' && body.length > 0) stream.write(body);
    },
    onEnd() {
      if (mode === 'U') {
        const ack = Buffer.alloc(8);
        ack.writeBigUInt64BE(BigInt(received));
        stream.write(ack);
      }
      if (mode !== 'D') stream.end();
    },
    onReset() {},
    onDrain() {},
  });
}

/** Writes `size` bytes honouring backpressure (bufferedAmount + onDrain polling). */
function sendBulk(stream: WtBidiStream, size: number, onDone?: () => void): void {
  const chunk = Buffer.alloc(CHUNK, 0x61);
  let sent = 0;
  const pump = (): void => {
    while (sent < size && stream.bufferedAmount() < 4 * MIB) {
      const n = Math.min(CHUNK, size - sent);
      stream.write(n === CHUNK ? chunk : chunk.subarray(0, n));
      sent += n;
    }
    if (sent < size) setImmediate(pump);
    else {
      stream.end();
      onDone?.();
    }
  };
  pump();
}

async function startServer(cert: TestCert): Promise<WebTransportServer> {
  const server = new WebTransportServer({
    host: '127.0.0.1',
    port: 0,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    engine: testEngine(),
    onSession: serveSession,
  });
  await server.listen();
  return server;
}

function command(mode: string, size: number): Buffer {
  const b = Buffer.alloc(9);
  b.write(mode, 0, 'latin1');
  b.writeBigUInt64BE(BigInt(size), 1);
  return b;
}

async function run(session: WebTransportSession, mode: 'U' | 'D' | 'E', size: number): Promise<number> {
  const stream = session.openBidiStream();
  const rec = new StreamRecorder(stream);
  rec.chunks = []; // count only
  rec.onChunk = () => {
    rec.chunks.length = 0;
  };
  const t0 = performance.now();
  stream.write(command(mode, size));
  if (mode === 'D') stream.end();
  else sendBulk(stream, size);
  const expected = mode === 'U' ? 8 : size;
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (rec.ended && rec.bytes >= expected) resolve();
      else if (rec.resetCode !== null) reject(new Error(`stream reset ${rec.resetCode}`));
      else setTimeout(check, 1);
    };
    check();
  });
  const seconds = (performance.now() - t0) / 1000;
  if (rec.bytes !== expected) throw new Error(`expected ${expected} bytes, got ${rec.bytes}`);
  return size / MIB / seconds;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const mib = Number(args.find((a) => /^\d+$/.test(a)) ?? '64');
  const sameProcess = args.includes('--same-process');
  const cert = makeCert();
  let port: number;
  let stop: () => Promise<void>;
  if (sameProcess) {
    const server = await startServer(cert);
    port = server.address.port;
    stop = () => server.close();
  } else {
    const child = fork(fileURLToPath(import.meta.url), ['--child'], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, PROBE_CERT: JSON.stringify(cert) },
    });
    port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
    stop = async () => {
      child.kill();
    };
  }
  const url = `https://127.0.0.1:${port}/bulk`;
  const readyTimes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const s = await connect(url, { certHashes: [cert.hash] });
    readyTimes.push(performance.now() - t0);
    s.close(0, '');
  }
  readyTimes.sort((a, b) => a - b);
  const median = readyTimes[readyTimes.length >> 1]!;
  console.log(
    `session ready (Node client, Retry on): median ${median.toFixed(1)} ms, first ${readyTimes[0]!.toFixed(1)}..max ${readyTimes.at(-1)!.toFixed(1)} ms`,
  );
  const session = await connect(url, { certHashes: [cert.hash] });
  const size = mib * MIB;
  await run(session, 'U', 4 * MIB); // warm-up
  console.log(`upload   ${(await run(session, 'U', size)).toFixed(1)} MiB/s (${mib} MiB, one stream)`);
  console.log(`download ${(await run(session, 'D', size)).toFixed(1)} MiB/s (${mib} MiB, one stream)`);
  console.log(
    `echo     ${(await run(session, 'E', size)).toFixed(1)} MiB/s each way (${mib} MiB, one stream)`,
  );
  session.close(0, 'done');
  await stop();
  process.exit(0);
}

if (process.argv.includes('--child')) {
  const server = await startServer(JSON.parse(process.env.PROBE_CERT ?? '{}') as TestCert);
  process.send?.(server.address.port);
} else {
  await main();
}
