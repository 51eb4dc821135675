/**
 * Micro-benchmark of the wire codec (src/protocol): encoding and decoding a Deliver frame with a
 * 100-byte payload, and StreamFrameReader splitting a stream delivered in 1-byte and in 64 KiB chunks.
 *
 *   node --import tsx bench/codec.bench.ts            (BENCH_MS=2000 for longer runs)
 *
 * Prints operations per second and, per operation, the bytes allocated on the JS heap and in
 * ArrayBuffers (Buffers), measured as process.memoryUsage() deltas over a short GC-free batch after a
 * forced GC. Allocation figures are estimates: V8 allocates some objects lazily, and pooled Buffers
 * (Buffer.allocUnsafe below 4 KiB) are charged an 8 KiB slab at a time, so small numbers are noisy.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decodeFrame, encodeFrame, encodeFramePrefixed, type FrameInit } from '../src/protocol/codec.js';
import { encodeDeliverFrame, type DeliverFields } from '../src/protocol/deliver-codec.js';
import { StreamFrameReader } from '../src/protocol/stream-reader.js';

const RUN_MS = Number(process.env.BENCH_MS ?? 1000);
const MAX_FRAME = 64 * 1024;

// Expose gc() without requiring --expose-gc on the command line (the flag must be set before the
// first context that reads it is created, hence a fresh vm context).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;

/** Keeps results observable so V8 cannot drop the work being measured. */
let sink = 0;

interface Result {
  name: string;
  opsPerSec: number;
  nsPerOp: number;
  heapBytesPerOp: number;
  bufferBytesPerOp: number;
  extra?: string;
}

/** Runs `fn` (which performs `opsPerCall` operations) for RUN_MS after a warm-up. */
async function measure(
  name: string,
  opsPerCall: number,
  fn: () => void,
  extra?: (opsPerSec: number) => string,
): Promise<Result> {
  const warmUntil = performance.now() + Math.min(300, RUN_MS / 3);
  while (performance.now() < warmUntil) fn();

  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < RUN_MS) {
    for (let i = 0; i < 64; i++) fn();
    calls += 64;
    now = performance.now();
  }
  const opsPerSec = (calls * opsPerCall) / ((now - start) / 1000);
  const [heapBytesPerOp, bufferBytesPerOp] = await allocationPerOp(fn, opsPerCall);
  return {
    name,
    opsPerSec,
    nsPerOp: 1e9 / opsPerSec,
    heapBytesPerOp,
    bufferBytesPerOp,
    extra: extra?.(opsPerSec),
  };
}

/**
 * Median over 7 batches of the heap and ArrayBuffer growth per operation. Each batch is small enough
 * (~2000 operations) not to trigger a scavenge, and starts after a full GC and a turn of the event
 * loop, so that ArrayBuffer backing stores freed by the previous GC are released first.
 */
async function allocationPerOp(fn: () => void, opsPerCall: number): Promise<[number, number]> {
  if (gc === undefined) return [Number.NaN, Number.NaN];
  const batch = Math.max(1, Math.floor(2000 / opsPerCall));
  const heap: number[] = [];
  const buffers: number[] = [];
  for (let round = 0; round < 7; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const before = process.memoryUsage();
    for (let i = 0; i < batch; i++) fn();
    const after = process.memoryUsage();
    heap.push((after.heapUsed - before.heapUsed) / (batch * opsPerCall));
    buffers.push((after.arrayBuffers - before.arrayBuffers) / (batch * opsPerCall));
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  return [median(heap), median(buffers)];
}

// ---- the frames ----

const deliver: FrameInit = {
  deliver: {
    serverId: 'n1-lx3k2p-000042',
    seq: 123_456,
    fromUser: 'user-000123',
    fromDevice: 'phone',
    payload: Buffer.alloc(100, 0x61),
    timestampMs: Date.now(),
    qos: 1,
    clientMsgId: '3f2b9c1e-8d4a-4f6e-9b1a-2c3d4e5f6a7b',
  },
};
/** The same Deliver as the bus's Envelope carries it (every field present), for the hand encoder. */
const deliverFields: DeliverFields = {
  topic: '',
  ephemeral: false,
  fromService: '',
  ...(deliver.deliver as Omit<DeliverFields, 'topic' | 'ephemeral' | 'fromService'>),
};
const deliverBytes = encodeFrame(deliver);
const deliverPrefixed = encodeFramePrefixed(deliver);

// A stream of Deliver frames, about 1 MiB long.
const framesInStream = Math.ceil((1024 * 1024) / deliverPrefixed.length);
const stream = Buffer.concat(Array.from({ length: framesInStream }, () => deliverPrefixed));
// A stream of one maximum-size frame (a Send with a payload filling 64 KiB).
const bigFrame = encodeFramePrefixed({
  send: { toUser: 'user-000123', payload: Buffer.alloc(MAX_FRAME - 64, 0x62), qos: 0 },
});

function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < bytes.length; off += size) out.push(bytes.subarray(off, off + size));
  return out;
}

const stream64k = chunksOf(stream, 64 * 1024);
const stream1b = chunksOf(stream.subarray(0, deliverPrefixed.length * 64), 1); // 64 frames
const big1b = chunksOf(bigFrame, 1);

function readAll(chunks: Uint8Array[], decode: boolean): void {
  const reader = new StreamFrameReader(MAX_FRAME);
  for (const chunk of chunks) {
    reader.push(chunk, (body) => {
      sink += decode ? decodeFrame(body, MAX_FRAME).id : body.length;
    });
  }
}

const mbps = (bytesPerOp: number) => (opsPerSec: number) =>
  `${((opsPerSec * bytesPerOp) / (1024 * 1024)).toFixed(1)} MiB/s`;

const results: Result[] = [];
results.push(
  await measure('encodeFrame(Deliver, 100 B payload)', 1, () => {
    sink += encodeFrame(deliver).length;
  }),
);
results.push(
  await measure('encodeFramePrefixed(Deliver)', 1, () => {
    sink += encodeFramePrefixed(deliver).length;
  }),
);
results.push(
  await measure('encodeDeliverFrame(Deliver) (deliver-codec.ts)', 1, () => {
    sink += encodeDeliverFrame(deliverFields, false).length;
  }),
);
results.push(
  await measure('encodeDeliverFrame(Deliver, prefixed)', 1, () => {
    sink += encodeDeliverFrame(deliverFields, true).length;
  }),
);
results.push(
  await measure('decodeFrame(Deliver)', 1, () => {
    sink += decodeFrame(deliverBytes, MAX_FRAME).deliver?.seq ?? 0;
  }),
);
results.push(
  await measure(
    `StreamFrameReader, 64 KiB chunks (per frame, ${framesInStream}/op)`,
    framesInStream,
    () => readAll(stream64k, false),
    mbps(deliverPrefixed.length),
  ),
);
results.push(
  await measure(
    'StreamFrameReader + decodeFrame, 64 KiB chunks (per frame)',
    framesInStream,
    () => readAll(stream64k, true),
    mbps(deliverPrefixed.length),
  ),
);
results.push(
  await measure('StreamFrameReader, Deliver frames in 1-byte chunks (per byte)', stream1b.length, () =>
    readAll(stream1b, false),
  ),
);
results.push(
  await measure(
    'StreamFrameReader, one 64 KiB frame in 1-byte chunks (per frame)',
    1,
    () => readAll(big1b, false),
    mbps(bigFrame.length),
  ),
);

const fmt = (n: number, digits = 0): string =>
  Number.isNaN(n) ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits });

console.log(`node ${process.version}, ${RUN_MS} ms per case, Deliver frame = ${deliverBytes.length} bytes`);
console.log(gc ? '' : '(gc unavailable: allocation figures omitted)');
for (const r of results) {
  console.log(
    `${r.name.padEnd(66)} ${fmt(r.opsPerSec).padStart(12)} ops/s ${fmt(r.nsPerOp, 1).padStart(9)} ns/op` +
      `  heap ${fmt(r.heapBytesPerOp).padStart(6)} B/op  buffers ${fmt(r.bufferBytesPerOp).padStart(6)} B/op` +
      (r.extra ? `  ${r.extra}` : ''),
  );
}
if (sink === 0.5) console.log('unreachable'); // keep `sink` live
