/**
 * What a QoS-1 append costs the Redis message store, without the gateway around it: one
 * RedisMessageStore on its own redis-server (no persistence), wired as a cluster node wires it (one
 * script call per turn for all appends, EVALSHA, the recipient's presence hash read in each append),
 * open-loop appends of 100-byte messages with a client_msg_id to `--users` users in 1-ms ticks.
 * Per step: Redis CPU per append (/proc/<pid>/stat), this process's CPU per append
 * (process.cpuUsage: the store, node-redis and the loop), append latency, Redis commands per append
 * (INFO commandstats, reset before the step), and Redis memory and keys after the step. `ROOT`
 * measures another checkout (its src/ and test/helpers/), for before/after in one sitting. Run it in
 * the high-share cgroup; the redis-server it starts inherits it.
 *
 *   /tmp/prio.sh node --import tsx bench/micro/store-append.ts [ROOT] [--rates 2000,10000,20000]
 *     [--seconds 4] [--users 500] [--acks]
 *
 * `--acks` also acks every append (one device per user), as a recipient acking each message would.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';

const { values, positionals } = parseArgs({
  options: {
    rates: { type: 'string', default: '2000,10000,20000' },
    seconds: { type: 'string', default: '4' },
    users: { type: 'string', default: '500' },
    acks: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const root = resolve(positionals[0] ?? fileURLToPath(new URL('../..', import.meta.url)));
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const users = Number(values.users);

interface Store {
  appendToUser(m: unknown): Promise<{ seq: number }>;
  ackUser(user: string, device: string, seq: number): Promise<void>;
  close(): Promise<void>;
}
const { startRedisServer } = (await import(`${root}/test/helpers/redis-server.ts`)) as {
  startRedisServer(): Promise<{
    url: string;
    pid: number;
    cli(...a: string[]): Promise<string>;
    stop(): Promise<void>;
  }>;
};
const { RedisMessageStore } = (await import(`${root}/src/store/redis/redis-store.ts`)) as {
  RedisMessageStore: new (o: Record<string, unknown>) => Store;
};

const server = await startRedisServer();
const client = createClient({ url: server.url });
await client.connect();
const prefix = 'bench';
const presenceKey = (u: string): string => `${prefix}:{u:${u}}:presence`;
const names = Array.from({ length: users }, (_, i) => `user${i}`);
for (const u of names) {
  await client.hSet(presenceKey(u), 'dev', JSON.stringify(['s1', 'node-b', 'ws', Date.now()]));
}
let noted = 0;
const store = new RedisMessageStore({
  client,
  nodeId: 'node-a',
  maxMessagesPerLog: 1000,
  retentionMs: 86_400_000,
  dedupWindowMs: 600_000,
  maxBytes: 1 << 20,
  keyPrefix: prefix,
  commandTimeoutMs: Infinity,
  connectionEpoch: () => 1,
  appendGroup: () => 0,
  appendReadsHash: { key: presenceKey, onRead: () => void noted++ },
  recentAppends: 100_000,
});

const CLK_TCK = 100;
function redisCpuMs(): number {
  const f = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}
/** Calls and µs spent inside each command (a script's own time includes its commands'). */
async function commandCalls(): Promise<Map<string, { calls: number; usec: number }>> {
  const text = await server.cli('INFO', 'commandstats');
  const calls = new Map<string, { calls: number; usec: number }>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    calls.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return calls;
}
async function info(field: string): Promise<number> {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(await server.cli('INFO', 'memory'));
  return Number(m?.[1] ?? NaN);
}

const payload = new Uint8Array(100);
let msgId = 0;
function message(to: string): Record<string, unknown> {
  return {
    fromUser: 'sender',
    fromDevice: 'd1',
    fromService: '',
    toUser: to,
    topic: '',
    payload,
    qos: 1,
    clientMsgId: `m${++msgId}`,
    ephemeral: false,
  };
}

async function step(rate: number): Promise<void> {
  await server.cli('CONFIG', 'RESETSTAT');
  const lat: number[] = [];
  let sent = 0;
  let done = 0;
  let failed = 0;
  const total = rate * seconds;
  const cpu0 = process.cpuUsage();
  const r0 = redisCpuMs();
  const t0 = performance.now();
  await new Promise<void>((resolveStep) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
      for (; sent < due; sent++) {
        const user = names[sent % users]!;
        const start = performance.now();
        store.appendToUser(message(user)).then(
          (r) => {
            lat.push(performance.now() - start);
            if (values.acks) store.ackUser(user, 'dev', r.seq).catch(() => failed++);
            if (++done === total) resolveStep();
          },
          () => {
            failed++;
            if (++done === total) resolveStep();
          },
        );
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const redisMs = redisCpuMs() - r0;
  const calls = await commandCalls();
  lat.sort((a, b) => a - b);
  const q = (p: number): string => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2);
  const perAppend = [...calls]
    .filter(([name]) => !['config|resetstat', 'info'].includes(name))
    .sort((a, b) => b[1].usec - a[1].usec)
    .map(([name, c]) => `${name} ${(c.calls / total).toFixed(2)} (${(c.usec / total).toFixed(1)} µs)`)
    .join(', ');
  const keys = Number((await server.cli('DBSIZE')).trim());
  console.log(
    `rate ${rate}/s: ${total} appends in ${(wall / 1000).toFixed(2)} s, failed ${failed}; ` +
      `Redis ${((redisMs * 1000) / total).toFixed(1)} µs/append, ` +
      `node ${(((cpu.user + cpu.system) / total) | 0).toString()} µs/append; ` +
      `p50 ${q(0.5)} p99 ${q(0.99)} ms`,
  );
  console.log(`  commands per append (µs inside them per append): ${perAppend}`);
  console.log(
    `  after: keys ${keys}, used_memory ${((await info('used_memory')) / 2 ** 20).toFixed(1)} MiB, ` +
      `rss ${((await info('used_memory_rss')) / 2 ** 20).toFixed(1)} MiB`,
  );
}

console.log(`root ${root}, ${users} users, ${seconds} s per step${values.acks ? ', acks' : ''}`);
for (const rate of rates) await step(rate);
await store.close();
await client.close();
await server.stop();
