/**
 * The two-node clusters under test in bench/cluster.ts, each with its own fresh redis-server:
 * two `ferry start --redis …` nodes (bench/lib/servers.ts's startFerry, with the load-test flags), two
 * bench/lib/socketio-node.ts processes sharing one Redis Streams adapter stream, or two
 * bench/lib/minimal-forward-node.ts processes, each reading its own inbox stream and writing the other's.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ClusterTarget } from './cluster-load.js';
import { startBenchRedis, type BenchRedis } from './cluster-redis.js';
import { FERRY_LOAD_ARGS, FERRY_LOAD_ENV, startFerry } from './servers.js';

export interface ClusterNode {
  label: string;
  pid: number;
  /** The URL the generator's clients connect to. */
  url: string;
  stderr(): string;
  /**
   * What the node logged at warn level or above so far (Ferry: by message, with counts; the others:
   * stderr lines).
   */
  warnings(): Record<string, number>;
  stop(): Promise<number | null>;
}

export interface RunningCluster {
  target: ClusterTarget;
  redis: BenchRedis;
  /** Ferry with store.durability ack-after-replica: the primary's replica. */
  replica?: BenchRedis;
  nodes: [ClusterNode, ClusterNode];
  stop(): Promise<void>;
}

export interface ClusterStartOptions {
  /** Socket.IO adapter MAXLEN (its default is 10,000). */
  sioMaxLen: number;
  logLevel: string;
  /** Ferry's store.durability; ack-after-replica adds a replica of the redis-server. */
  durability?: 'ack-after-write' | 'ack-after-replica';
}

async function startFerryNode(redisUrl: string, label: string, o: ClusterStartOptions): Promise<ClusterNode> {
  const s = await startFerry({
    extraArgs: [
      ...FERRY_LOAD_ARGS,
      ...['--redis', redisUrl, '--node-id', label],
      ...['--durability', o.durability ?? 'ack-after-write'],
    ],
    env: FERRY_LOAD_ENV,
    logLevel: o.logLevel,
  });
  const counts: Record<string, number> = {};
  let last: Record<string, unknown> | undefined;
  // servers.ts keeps only the last 5,000 records: tally what came after the last record seen (call
  // this after every step so nothing scrolls out unseen).
  const warnings = (): Record<string, number> => {
    const from = last === undefined ? 0 : s.logs.lastIndexOf(last) + 1;
    for (const rec of s.logs.slice(from)) {
      if (typeof rec.level === 'number' && rec.level >= 40) {
        const err = rec.err as { message?: unknown } | string | undefined;
        const why = typeof err === 'string' ? err : typeof err?.message === 'string' ? err.message : '';
        const key = `${String(rec.msg ?? '?')}${why !== '' ? `: ${why.slice(0, 160)}` : ''}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
    }
    last = s.logs.at(-1) ?? last;
    return { ...counts };
  };
  return { label, pid: s.pid, url: s.urls.ws, stderr: s.stderr, warnings, stop: () => s.stop() };
}

/**
 * Starts `script` (a bench/lib/ module: the transpiled .js beside this file, or the .ts under tsx) and
 * resolves once it prints its JSON `readyMsg` line with `addresses.ws.url`; its stderr lines are its
 * warnings.
 */
function startScriptNode(
  label: string,
  name: string,
  args: string[],
  readyMsg: string,
): Promise<ClusterNode> {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const script = join(dirname(here), `${name}${ts ? '.ts' : '.js'}`);
  // The same ad-hoc node flags as Ferry's nodes get (servers.ts), e.g. --cpu-prof or --trace-gc.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const proc = spawn(process.execPath, [...nodeArgs, ...(ts ? ['--import', 'tsx'] : []), script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // BENCH_NODE_STDOUT=dir: each such node's stdout (e.g. --trace-gc lines) also goes to dir/<name>-<label>-<pid>.log.
  const stdoutDir = process.env.BENCH_NODE_STDOUT;
  if (stdoutDir !== undefined && stdoutDir !== '')
    proc.stdout?.pipe(createWriteStream(join(stdoutDir, `${name}-${label}-${proc.pid}.log`)));
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-64 * 1024)));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} ${label} not ready after 30 s:\n${stderr}`));
    }, 30_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} ${label} exited with ${code} before ready:\n${stderr}`));
    });
    createInterface({ input: proc.stdout! }).on('line', (line: string) => {
      if (!line.includes(`"${readyMsg}"`)) return;
      clearTimeout(timer);
      const rec = JSON.parse(line) as { addresses: { ws: { url: string } } };
      resolve({
        label,
        pid: proc.pid!,
        url: rec.addresses.ws.url,
        stderr: () => stderr,
        warnings: () => {
          const counts: Record<string, number> = {};
          for (const line of stderr.split('\n').filter((l) => l.trim() !== '')) {
            const key = line.slice(0, 200);
            counts[key] = (counts[key] ?? 0) + 1;
          }
          return counts;
        },
        stop: async () => {
          if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
          proc.kill('SIGCONT');
          proc.kill('SIGTERM');
          const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
          const code = await exited;
          clearTimeout(timer);
          return code;
        },
      });
    });
  });
}

/** Inbox stream of a minimal-forward node. */
const minimalInbox = (label: string): string => `min:inbox:${label}`;

function startNode(
  target: ClusterTarget,
  redisUrl: string,
  label: string,
  o: ClusterStartOptions,
): Promise<ClusterNode> {
  switch (target) {
    case 'ferry':
      return startFerryNode(redisUrl, label, o);
    case 'socketio':
      return startScriptNode(
        label,
        'socketio-node',
        ['--redis', redisUrl, '--max-len', String(o.sioMaxLen)],
        'socketio ready',
      );
    case 'minimal': {
      const peer = label === 'node1' ? 'node2' : 'node1';
      const args = ['--redis', redisUrl, '--node', label, '--inbox', minimalInbox(label)];
      return startScriptNode(
        label,
        'minimal-forward-node',
        [...args, '--peer-inbox', minimalInbox(peer)],
        'minimal ready',
      );
    }
  }
}

/** A fresh redis-server and two nodes of `target` on it (stopped again if any fails to start). */
export async function startCluster(target: ClusterTarget, o: ClusterStartOptions): Promise<RunningCluster> {
  const redis = await startBenchRedis();
  const started: ClusterNode[] = [];
  let replica: BenchRedis | undefined;
  try {
    if (target === 'ferry' && o.durability === 'ack-after-replica') {
      replica = await startBenchRedis({ replicaOf: redis.port });
      await replicaLinkUp(replica);
    }
    for (const label of ['node1', 'node2']) {
      started.push(await startNode(target, redis.url, label, o));
    }
  } catch (err) {
    await Promise.all(started.map((n) => n.stop()));
    await replica?.stop();
    await redis.stop();
    throw err;
  }
  const nodes = started as [ClusterNode, ClusterNode];
  return {
    target,
    redis,
    ...(replica !== undefined ? { replica } : {}),
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await replica?.stop();
      await redis.stop();
    },
  };
}

/** Resolves once the replica finished its first sync (INFO replication, polled for up to 20 s). */
async function replicaLinkUp(replica: BenchRedis): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await replica.command('INFO', 'replication')).includes('master_link_status:up')) {
    if (Date.now() > deadline) throw new Error('the bench replica never synced');
    await new Promise((r) => setTimeout(r, 50));
  }
}
