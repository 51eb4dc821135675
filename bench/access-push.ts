/**
 * Push throughput through the gRPC access gateway to connected users: `npm run bench -- access-push
 * [--users 200] [--concurrency 32] [--seconds 10] [--qos 1] [--batch 1]`.
 *
 * One `ferry start` process (dist/, gRPC on), `--users` devices logged in through gRPC Login and
 * connected over WebSocket with the session tokens, and one grpc-js client keeping `--concurrency`
 * Push calls in flight, each to `--batch` users round-robin. Devices ack QoS-1 deliveries. Reports
 * Push calls/s, deliveries/s, and latency from the start of the Push call to the Deliver frame at the
 * device (both ends in this process, so one clock), p50/p99. Runs under tsx (it uses src/ directly).
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { callUnary, createAccessClient } from '../src/access/client.js';
import { decodeFrame, encodeFrame } from '../src/protocol/codec.js';
import { GatewayProcess } from '../test/helpers/gateway-process.js';
import { Histogram } from './lib/histogram.js';
import { appendResult, ms, num, printTable } from './lib/report.js';
import { FERRY_LOAD_ARGS } from './lib/servers.js';

const API_KEY = 'bench-access-key-0123456789abcdef';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number`);
  return v;
}

const users = flag('users', 200);
const concurrency = flag('concurrency', 32);
const seconds = flag('seconds', 10);
const qos = flag('qos', 1) === 0 ? 0 : 1;
const batch = Math.max(1, flag('batch', 1));

/** Connects one device with a session token; records latency from the timestamp in each payload. */
async function connectDevice(
  url: string,
  token: string,
  hist: Histogram,
  counts: { delivered: number },
): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(encodeFrame({ id: 1, authenticate: { token, deviceId: '', lastSeq: 0 } }));
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const f = decodeFrame(data, Infinity);
      if (f.body === 'authResult') resolve();
      else if (f.body === 'disconnect') reject(new Error(`auth refused ${f.disconnect?.code}`));
      else if (f.body === 'deliver' && f.deliver?.payload) {
        const sent = Buffer.from(f.deliver.payload).readDoubleLE(0);
        hist.recordMs(performance.now() - sent);
        counts.delivered++;
        if (f.deliver.seq) ws.send(encodeFrame({ ack: { seq: f.deliver.seq } }));
      } else if (f.body === 'ping') ws.send(encodeFrame({ id: f.id, pong: { timestampMs: Date.now() } }));
    });
  });
  return ws;
}

async function main(): Promise<void> {
  const gw = await GatewayProcess.start(['--access-api-key', API_KEY, ...FERRY_LOAD_ARGS], {
    grpc: true,
  });
  const client = createAccessClient(gw.urls.grpc, { apiKey: API_KEY });
  const hist = new Histogram();
  const counts = { delivered: 0 };
  const sockets: WebSocket[] = [];
  try {
    for (let i = 0; i < users; i++) {
      const login = await callUnary(client, 'Login', { userId: `u${i}`, deviceId: 'bench' });
      sockets.push(await connectDevice(gw.urls.ws, String(login.sessionToken), hist, counts));
    }
    let calls = 0;
    let failed = 0;
    let next = 0;
    const deadline = performance.now() + seconds * 1000;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const recipients = [];
        for (let b = 0; b < batch; b++) recipients.push({ userId: `u${next++ % users}` });
        const payload = Buffer.alloc(64);
        payload.writeDoubleLE(performance.now(), 0);
        try {
          await callUnary(client, 'Push', { recipients, payload, qos });
          calls++;
        } catch {
          failed++;
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 500)); // let the last deliveries land
    const s = hist.summary();
    printTable(
      `access-push: ${users} users, concurrency ${concurrency}, QoS ${qos}, batch ${batch}, ${seconds} s`,
      [
        ['metric', 'value'],
        ['Push calls/s', num(calls / elapsed)],
        ['deliveries/s', num(counts.delivered / elapsed)],
        ['failed calls', num(failed)],
        ['call -> device p50', ms(s.p50Ms)],
        ['call -> device p99', ms(s.p99Ms)],
        ['call -> device max', ms(s.maxMs)],
      ],
    );
    const file = appendResult('access-push', process.argv.slice(2), {
      users,
      concurrency,
      qos,
      batch,
      seconds: elapsed,
      callsPerSecond: calls / elapsed,
      deliveriesPerSecond: counts.delivered / elapsed,
      failed,
      latency: s,
    });
    process.stdout.write(`results appended to ${file}\n`);
  } finally {
    for (const ws of sockets) ws.terminate();
    client.close();
    await gw.cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`access-push: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
