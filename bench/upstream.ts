/**
 * Routed service messages/s and latency through each upstream kind: `npm run bench -- upstream
 * [--kind grpc|redis|amqp|gateway] [--amqp-url URL] [--clients 50] [--window 16] [--seconds 5]
 * [--instances 2]` (every kind in one run unless `--kind` picks one).
 *
 * One `ferry start` process (dist/) with Redis and gRPC on and four routes: 1000 -> a gRPC service
 * served by `--instances` in-process instances that ack every batch at once, 2000 -> a Redis-stream
 * service (acceptance = XADD done), 3000 -> an AMQP service (acceptance = the broker's publisher
 * confirm of a persistent message in a durable queue), 9000 -> the built-in gateway echo (no upstream
 * I/O at all, the gateway's own cost). The AMQP broker is a `rabbitmq-server` this bench starts on
 * free ports (test/helpers/rabbitmq-server.ts), or the one at `--amqp-url`. No worker reads the Redis
 * stream or the AMQP queue while measuring: both measure the gateway -> upstream hand-off. `--clients` WebSocket clients each keep `--window` ServiceRequests in flight.
 * Latency is from sending the ServiceRequest to its ServiceAck (both ends here, one clock). Runs under
 * tsx (it uses src/ directly).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import amqp from 'amqplib';
import WebSocket from 'ws';
import { decodeFrame, encodeFrame } from '../src/protocol/codec.js';
import { upstreamClientConstructor } from '../src/upstream/grpc-proto.js';
import { GatewayProcess, testToken } from '../test/helpers/gateway-process.js';
import { startRabbitServer, type RabbitServer } from '../test/helpers/rabbitmq-server.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { Histogram } from './lib/histogram.js';
import { appendResult, ms, num, printTable } from './lib/report.js';
import { FERRY_LOAD_ARGS } from './lib/servers.js';

const API_KEY = 'bench-upstream-key-0123456789abcdef';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 1) throw new Error(`--${name} must be a positive number`);
  return v;
}
function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const KINDS = [
  { kind: 'gateway', name: 'gateway (in-process)', type: 9000 },
  { kind: 'grpc', name: 'grpc', type: 1000 },
  { kind: 'redis', name: 'redis stream', type: 2000 },
  { kind: 'amqp', name: 'amqp (RabbitMQ)', type: 3000 },
] as const;
const kindArg = option('kind');
if (kindArg !== undefined && !KINDS.some((k) => k.kind === kindArg))
  throw new Error(`--kind must be one of ${KINDS.map((k) => k.kind).join(', ')}`);
const kinds = KINDS.filter((k) => kindArg === undefined || k.kind === kindArg);
const amqpUrlArg = option('amqp-url');
const clients = flag('clients', 50);
const window = flag('window', 16);
const seconds = flag('seconds', 5);
const instanceCount = flag('instances', 2);

/** An instance of the gRPC service that acks every batch immediately. */
function startInstance(target: string, id: string): Promise<grpc.ClientDuplexStream<unknown, unknown>> {
  const Upstream = upstreamClientConstructor();
  const client = new Upstream(target, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('x-api-key', API_KEY);
  const call = (
    client as unknown as { Connect(md: grpc.Metadata): grpc.ClientDuplexStream<unknown, unknown> }
  ).Connect(md);
  return new Promise((resolve) => {
    call.on('data', (m: { welcome?: unknown; batch?: { batchId: number } }) => {
      if (m.welcome) resolve(call);
      if (m.batch) call.write({ ack: { batchId: m.batch.batchId } });
    });
    call.on('error', () => undefined);
    call.write({ hello: { service: 'logic', instanceId: id } });
  });
}

async function connect(url: string, user: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(encodeFrame({ id: 1, authenticate: { token: await testToken(user) } }));
  await new Promise<void>((resolve) => ws.once('message', () => resolve()));
  return ws;
}

/** Runs one kind for `seconds`: every client keeps `window` requests of `type` in flight. */
async function measure(sockets: WebSocket[], type: number, durationMs: number) {
  const hist = new Histogram();
  const counts = { acked: 0, busy: 0, other: 0 };
  let running = true;
  let seq = 0;
  const started = performance.now();
  let stoppedAt = started;
  setTimeout(() => {
    running = false;
    stoppedAt = performance.now();
  }, durationMs);
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          const sentAt = new Map<number, number>();
          let inFlight = 0;
          const sendOne = (): void => {
            const id = (++seq % 0xfffffff0) + 2;
            sentAt.set(id, performance.now());
            inFlight++;
            ws.send(
              encodeFrame({
                id,
                serviceRequest: { type, msgId: `b${type}-${seq}`, payload: new Uint8Array(64) },
              }),
            );
          };
          const onMessage = (data: Buffer): void => {
            const f = decodeFrame(data, Infinity);
            if (f.body === 'ping') return void ws.send(encodeFrame({ id: f.id, pong: { timestampMs: 0 } }));
            if (f.body !== 'serviceAck' && f.body !== 'error') return;
            const t0 = sentAt.get(f.id);
            if (t0 === undefined) return;
            sentAt.delete(f.id);
            inFlight--;
            if (f.body === 'serviceAck') {
              counts.acked++;
              hist.recordMs(performance.now() - t0);
            } else if (f.error?.code === 109) counts.busy++;
            else counts.other++;
            if (running) sendOne();
            else if (inFlight === 0) {
              ws.off('message', onMessage);
              resolve();
            }
          };
          ws.on('message', onMessage);
          for (let i = 0; i < window; i++) sendOne();
        }),
    ),
  );
  // Throughput over the sending period; the in-flight tail after it is not counted as time.
  const elapsed = (stoppedAt - started) / 1000;
  return { elapsed, counts, latency: hist.summary() };
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const wantsAmqp = kinds.some((k) => k.kind === 'amqp');
  const broker: RabbitServer | null =
    wantsAmqp && amqpUrlArg === undefined ? await startRabbitServer() : null;
  const amqpUrl = amqpUrlArg ?? broker?.url ?? '';
  // On a shared broker, queues of their own so nothing else's is touched.
  const amqpPrefix = `ferry-bench-${process.pid}`;
  const configPath = join(mkdtempSync(join(tmpdir(), 'ferry-bench-upstream-')), 'ferry.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      routes: {
        '1000': 'logic',
        '2000': 'chat',
        '9000': 'gateway',
        ...(wantsAmqp ? { '3000': 'billing' } : {}),
      },
      upstream: {
        services: { logic: 'grpc', chat: 'redis', ...(wantsAmqp ? { billing: 'amqp' } : {}) },
        queueNormal: 100_000,
        amqp: { url: amqpUrl, prefix: amqpPrefix },
      },
    }),
  );
  const gw = await GatewayProcess.start(
    ['--config', configPath, '--redis', redis.url, '--access-api-key', API_KEY, ...FERRY_LOAD_ARGS],
    { grpc: true },
  );
  const calls = await Promise.all(
    Array.from({ length: instanceCount }, (_, i) => startInstance(gw.urls.grpc, `bench-${i}`)),
  );
  const sockets = await Promise.all(
    Array.from({ length: clients }, (_, i) => connect(gw.urls.ws, `bu-${i}`)),
  );
  const rows: string[][] = [['upstream', 'acked/s', 'busy', 'errors', 'p50', 'p99', 'max']];
  const results: Record<string, unknown> = {};
  try {
    for (const { name, type } of kinds) {
      const res = await measure(sockets, type, seconds * 1000);
      const s = res.latency;
      rows.push([
        name,
        num(res.counts.acked / res.elapsed),
        String(res.counts.busy),
        String(res.counts.other),
        ms(s.p50Ms),
        ms(s.p99Ms),
        ms(s.maxMs),
      ]);
      results[name] = { perSecond: res.counts.acked / res.elapsed, ...res.counts, latency: s };
    }
  } finally {
    for (const ws of sockets) ws.terminate();
    for (const c of calls) c.cancel();
    await gw.cleanup();
    await redis.stop();
    if (broker !== null) await broker.stop();
    else if (wantsAmqp) await deleteQueue(amqpUrl, `${amqpPrefix}.svc.billing`, `${amqpPrefix}.replies`);
  }
  printTable(
    `ServiceRequest -> ServiceAck (${clients} clients x ${window} in flight, ${seconds} s each)`,
    rows,
  );
  const file = appendResult('upstream', process.argv.slice(2), {
    clients,
    window,
    seconds,
    instanceCount,
    amqpBroker: !wantsAmqp ? null : broker !== null ? 'own rabbitmq-server' : 'given --amqp-url',
    results,
  });
  process.stdout.write(`results appended to ${file}\n`);
}

/** Removes the bench's queues from a broker it did not start. */
async function deleteQueue(url: string, ...queues: string[]): Promise<void> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  for (const q of queues) await ch.deleteQueue(q);
  await conn.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
