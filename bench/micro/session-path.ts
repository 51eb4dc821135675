/**
 * What the session layer costs per QoS-0 message, in one process with no sockets: a Send with an id
 * from one session (-> router -> memory bus -> local delivery) to another, its SendAck and the
 * Deliver, through the same harness the session unit tests use (in-memory store, bus and presence,
 * fake connections). CPU time per message (process.cpuUsage), per round of 200,000 messages after a
 * warm-up round; the median is the figure to compare. `ROOT` measures another checkout (its test/
 * helpers and src/), so two builds can be compared in one sitting (issue 15's before/after).
 *
 *   node --import tsx bench/micro/session-path.ts [ROOT] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const { values, positionals } = parseArgs({
  options: { rounds: { type: 'string', default: '5' } },
  allowPositionals: true,
});
const root = resolve(positionals[0] ?? fileURLToPath(new URL('../..', import.meta.url)));
const rounds = Number(values.rounds);
const PER_ROUND = 200_000;
const BATCH = 100;

type Conn = { handler: { onData(b: Uint8Array): void }; written: Uint8Array[] };
const harness = (await import(`${root}/test/helpers/session-harness.ts`)) as {
  SessionHarness: {
    create(o: { config: (c: { limits: Record<string, number> }) => void }): Promise<{
      login(user: string): Promise<Conn>;
      close(): Promise<void>;
    }>;
  };
  settle(): Promise<void>;
};
const { encodeFrame } = (await import(`${root}/src/protocol/codec.ts`)) as {
  encodeFrame(f: unknown): Uint8Array;
};

// The manual clock never advances: rate limits would hold every frame after the first second's worth.
const h = await harness.SessionHarness.create({
  config: (c) => {
    c.limits.framesPerSecond = 1e9;
    c.limits.bytesPerSecond = 1e12;
  },
});
const alice = await h.login('alice');
const bob = await h.login('bob');
const payload = new Uint8Array(100);
const frames = Array.from({ length: 1000 }, (_, i) =>
  encodeFrame({ id: i + 1, send: { toUser: 'bob', payload, qos: 0, clientMsgId: '' } }),
);

async function run(n: number): Promise<void> {
  for (let i = 0; i < n; i += BATCH) {
    for (let j = 0; j < BATCH; j++) alice.handler.onData(frames[(i + j) % frames.length]!);
    await harness.settle();
    alice.written.length = 0;
    bob.written.length = 0;
  }
}

await run(PER_ROUND);
const ns: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t0 = process.cpuUsage();
  await run(PER_ROUND);
  const d = process.cpuUsage(t0);
  ns.push(((d.user + d.system) * 1000) / PER_ROUND);
}
ns.sort((a, b) => a - b);
const median = ns[Math.floor(ns.length / 2)]!;
console.log(
  `${root}: CPU ns per message, rounds sorted ${ns.map((x) => x.toFixed(0)).join(' ')}; median ${median.toFixed(0)}`,
);
await h.close();
