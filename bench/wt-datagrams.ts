/**
 * Ephemeral frames over WebTransport datagrams through a lossy relay, with QoS-1 frames on the
 * stream beside them, on one Ferry node (Node client, `src/webtransport/client.ts`):
 *
 *   node --import tsx bench/wt-datagrams.ts [--loss 0,0.01,0.03,0.05] [--rate 200] [--duration 10]
 *
 * Per loss level (a fresh bench/lib/udp-relay.ts dropping that share each way, + 5 ms delay and
 * 2 ms jitter each way): one sender and one receiver session through the relay. The sender sends
 * `--rate` ephemeral Sends per second as datagrams (each carries its number and send time) and
 * `--qos1-rate` QoS-1 Sends per second on its stream. Reported: the share of datagrams that arrived
 * as ephemeral Delivers, their one-way latency p50/p99 (same clock), and QoS-1 messages acked,
 * delivered, lost and duplicated (loss is retried by QUIC on the stream: it must be 0).
 * Measures the current dist/ (`npm run build` first). Results are printed and appended to
 * bench/results/wt-datagrams.json.
 */
import { parseArgs } from 'node:util';
import { decodeFrame, encodeFrame, encodeFramePrefixed, type Frame } from '../src/protocol/codec.js';
import { StreamFrameReader } from '../src/protocol/stream-reader.js';
import { connect, type WebTransportClientSession } from '../src/webtransport/index.js';
import { appendResult, ms, pct, printTable } from './lib/report.js';
import { BENCH_SECRET, tokenFor } from './lib/tokens.js';
import { UdpRelay } from './lib/udp-relay.js';
import { startWtNode } from './lib/wt-gateway.js';

const { values } = parseArgs({
  options: {
    loss: { type: 'string', default: '0,0.01,0.03,0.05' },
    rate: { type: 'string', default: '200' },
    'qos1-rate': { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    delay: { type: 'string', default: '5' },
    jitter: { type: 'string', default: '2' },
  },
});
const levels = values.loss.split(',').map(Number);
const rate = Number(values.rate);
const qos1Rate = Number(values['qos1-rate']);
const durationMs = Number(values.duration) * 1000;
const delayMs = Number(values.delay);
const jitterMs = Number(values.jitter);

/** A session with its frame stream: frames and datagrams decoded and handed to `onFrame`. */
interface Peer {
  session: WebTransportClientSession;
  send(frame: Parameters<typeof encodeFramePrefixed>[0]): void;
  onFrame: (f: Frame, datagram: boolean) => void;
}

async function openPeer(url: string, certHashes: string[], user: string): Promise<Peer> {
  const session = await connect(url, { certHashes, timeoutMs: 10_000 });
  const stream = session.openBidiStream();
  const reader = new StreamFrameReader(1024 * 1024);
  const peer: Peer = {
    session,
    send: (frame) => stream.write(encodeFramePrefixed(frame)),
    onFrame: () => {},
  };
  session.setHandler({
    onBidiStream: (s) => s.reset(0),
    onUniStream: (s) => s.stop(0),
    onDatagram: (b) => peer.onFrame(decodeFrame(b, Infinity), true),
    onClose: () => {},
  });
  stream.setHandler({
    onData: (b) => reader.push(b, (body) => peer.onFrame(decodeFrame(body, Infinity), false)),
    onEnd: () => stream.end(),
    onReset: () => {},
    onDrain: () => {},
  });
  const authed = new Promise<Frame>((resolve) => (peer.onFrame = (f) => resolve(f)));
  peer.send({ id: 1, authenticate: { token: await tokenFor('ferry', user, BENCH_SECRET), deviceId: 'd' } });
  const first = await authed;
  if (first.body !== 'authResult') throw new Error(`${user}: ${JSON.stringify(first)}`);
  return peer;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface LevelResult {
  drop: number;
  datagramsSent: number;
  datagramsRefused: number;
  delivered: number;
  ratio: number;
  p50Ms: number;
  p99Ms: number;
  qos1Acked: number;
  qos1Delivered: number;
  qos1Lost: number;
  qos1Duplicates: number;
  relayDropped: { up: number; down: number };
}

async function runLevel(wtUrl: string, certHashes: string[], drop: number, n: number): Promise<LevelResult> {
  const target = new URL(wtUrl);
  const link = { drop, delayMs, jitterMs };
  const relay = new UdpRelay({ targetPort: Number(target.port), up: link, down: link, seed: 7 + n });
  const port = await relay.listen();
  const url = `https://127.0.0.1:${port}${target.pathname}`;
  const [from, to] = [`dg-from-${n}`, `dg-to-${n}`];
  const sender = await openPeer(url, certHashes, from);
  const receiver = await openPeer(url, certHashes, to);
  const latencies: number[] = [];
  const seenQos1 = new Map<string, number>();
  let delivered = 0;
  receiver.onFrame = (f) => {
    const d = f.deliver;
    if (d === undefined || d === null) return;
    const text = Buffer.from(d.payload ?? new Uint8Array()).toString();
    if (d.ephemeral === true) {
      delivered++;
      latencies.push(performance.now() - Number(text.split(' ')[1]));
    } else {
      seenQos1.set(text, (seenQos1.get(text) ?? 0) + 1);
      receiver.send({ ack: { seq: d.seq } });
    }
  };
  const acked = new Set<string>();
  sender.onFrame = (f) => {
    if (f.body === 'sendAck' && f.sendAck?.clientMsgId) acked.add(f.sendAck.clientMsgId);
  };
  let sent = 0;
  let refused = 0;
  let qos1Sent = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - start;
      const due = Math.min(Math.floor((elapsed * rate) / 1000), Math.floor((durationMs * rate) / 1000));
      for (; sent < due; sent++) {
        const frame = encodeFrame({
          send: { toUser: to, payload: Buffer.from(`${sent} ${performance.now()}`), ephemeral: true, qos: 0 },
        });
        if (!sender.session.sendDatagram(frame)) refused++;
      }
      const dueQ = Math.min(
        Math.floor((elapsed * qos1Rate) / 1000),
        Math.floor((durationMs * qos1Rate) / 1000),
      );
      for (; qos1Sent < dueQ; qos1Sent++) {
        const id = `q${qos1Sent}`;
        sender.send({
          id: 100 + qos1Sent,
          send: { toUser: to, payload: Buffer.from(id), qos: 1, clientMsgId: id },
        });
      }
      if (elapsed >= durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  // Let the stream catch up: QUIC retransmits what the relay dropped.
  const settleBy = performance.now() + 10_000;
  while (performance.now() < settleBy && [...acked].some((id) => !seenQos1.has(id))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 2 * (delayMs + jitterMs) + 50));
  const c = relay.counters();
  sender.session.close(0, 'bench done');
  receiver.session.close(0, 'bench done');
  await relay.close();
  latencies.sort((a, b) => a - b);
  return {
    drop,
    datagramsSent: sent,
    datagramsRefused: refused,
    delivered,
    ratio: sent > 0 ? delivered / sent : 0,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    qos1Acked: acked.size,
    qos1Delivered: [...acked].filter((id) => seenQos1.has(id)).length,
    qos1Lost: [...acked].filter((id) => !seenQos1.has(id)).length,
    qos1Duplicates: [...seenQos1.values()].filter((v) => v > 1).length,
    relayDropped: {
      up: c.up.received > 0 ? c.up.dropped / c.up.received : 0,
      down: c.down.received > 0 ? c.down.dropped / c.down.received : 0,
    },
  };
}

const node = await startWtNode();
const results: LevelResult[] = [];
try {
  for (const [n, drop] of levels.entries())
    results.push(await runLevel(node.urls.wt, node.certHashes, drop, n));
} finally {
  await node.stop();
}
printTable(
  `Ephemeral datagrams + QoS-1 stream through a lossy relay (${rate}/s + ${qos1Rate}/s, ${durationMs / 1000} s, ${delayMs}±${jitterMs} ms each way)`,
  [
    [
      'drop each way',
      'relay dropped up/down',
      'datagrams sent',
      'refused',
      'delivered',
      'ratio',
      'p50',
      'p99',
      'QoS-1 acked',
      'delivered',
      'lost',
      'dup',
    ],
    ...results.map((r) => [
      pct(r.drop),
      `${pct(r.relayDropped.up, 1)} / ${pct(r.relayDropped.down, 1)}`,
      String(r.datagramsSent),
      String(r.datagramsRefused),
      String(r.delivered),
      pct(r.ratio, 1),
      ms(r.p50Ms),
      ms(r.p99Ms),
      String(r.qos1Acked),
      String(r.qos1Delivered),
      String(r.qos1Lost),
      String(r.qos1Duplicates),
    ]),
  ],
);
console.log(
  `appended to ${appendResult('wt-datagrams', process.argv.slice(2), { rate, qos1Rate, durationMs, delayMs, jitterMs, results })}`,
);
