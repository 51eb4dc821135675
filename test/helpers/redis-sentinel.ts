/**
 * A Redis Sentinel deployment for fault tests: one primary, one replica (`--replicaof`) and three
 * sentinels (`redis-server <conf> --sentinel`, quorum 2), each a real process on a free loopback port
 * (test/helpers/redis-server.ts), with short `down-after-milliseconds` / `failover-timeout` so a
 * failover takes a few seconds. Failovers are awaited through the sentinels' `+switch-master` event
 * and `SENTINEL get-master-addr-by-name`, never by sleeping.
 */
import { createClient } from 'redis';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { TIME_FACTOR } from './time-factor.js';

/** Options of startSentinelDeployment. */
export interface SentinelDeploymentOptions {
  /** The name the sentinels monitor the primary under. Default `ferry-primary`. */
  masterName?: string;
  /** A primary silent this long is subjectively down. Default 1000 ms. */
  downAfterMs?: number;
  /** Sentinel's failover-timeout. Default 3000 ms. */
  failoverTimeoutMs?: number;
}

/** Where a Redis server listens. */
export interface RedisAddress {
  host: string;
  port: number;
}

/** A running primary + replica + three sentinels. */
export interface SentinelDeployment {
  readonly masterName: string;
  /** The servers as started: `primary` began as the primary, `replica` as its replica. */
  readonly primary: RedisServer;
  readonly replica: RedisServer;
  readonly sentinels: readonly RedisServer[];
  /** `host:port,host:port,host:port` of the sentinels, for `--redis-sentinel`. */
  readonly sentinelList: string;
  /** The primary as the sentinels report it now. */
  currentPrimary(): Promise<RedisAddress>;
  /**
   * Resolves with the new primary once the sentinels switched away from `from` (`+switch-master`,
   * checked with `SENTINEL get-master-addr-by-name`) and it answers as a primary. Subscribes before it
   * checks, so a switch cannot slip between the two.
   */
  waitForSwitch(from: RedisAddress, timeoutMs?: number): Promise<RedisAddress>;
  /** The server of the deployment listening on `addr`. */
  serverAt(addr: RedisAddress): RedisServer;
  /** Resolves once `server` is a replica whose link to its primary is up (INFO replication). */
  waitForReplica(server: RedisServer, timeoutMs?: number): Promise<void>;
  /**
   * Makes the replica fall behind: the primary drops its link, and a password the primary does not
   * have (masterauth) keeps it from syncing again, so writes from now on reach the primary only.
   * Resolves once the primary has no replica. Sentinel still counts it as a candidate for promotion.
   */
  cutReplica(): Promise<void>;
  /** Stops every process and removes their dirs. Idempotent. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 50 ms until it returns true (a state to reach, not a time to wait). */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `redis-cli` prints an array reply one element per line. */
function lines(out: string): string[] {
  return out.split('\n').map((l) => l.trim());
}

/** A field of a `SENTINEL MASTER`-style reply (name and value on alternate lines). */
function field(out: string, name: string): string | undefined {
  const l = lines(out);
  const i = l.indexOf(name);
  return i >= 0 ? l[i + 1] : undefined;
}

/** Starts the deployment and resolves once every sentinel knows the replica and the other sentinels. */
export async function startSentinelDeployment(
  opts: SentinelDeploymentOptions = {},
): Promise<SentinelDeployment> {
  const name = opts.masterName ?? 'ferry-primary';
  const started: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.stop()));
  };
  try {
    // No delay before a full sync: the replica is usable at once (Redis waits 5 s by default).
    const primary = await startRedisServer({ extraArgs: ['--repl-diskless-sync-delay', '0'] });
    started.push(primary);
    const replica = await startRedisServer({
      extraArgs: ['--repl-diskless-sync-delay', '0', '--replicaof', primary.host, String(primary.port)],
    });
    started.push(replica);
    const conf = [
      `sentinel monitor ${name} ${primary.host} ${primary.port} 2`,
      `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${name} ${opts.failoverTimeoutMs ?? 3000}`,
      `sentinel parallel-syncs ${name} 1`,
      // Sentinels learn replicas from the primary's INFO every 10 s: name it so a failover soon after
      // start has a candidate.
      `sentinel known-replica ${name} ${replica.host} ${replica.port}`,
      '',
    ].join('\n');
    const sentinels: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await startRedisServer({ sentinelConfig: conf });
      started.push(s);
      sentinels.push(s);
    }
    const deployment = new Deployment(name, primary, replica, sentinels, stop);
    await deployment.waitForReplica(replica);
    for (const s of sentinels) {
      await until(
        `sentinel ${s.port} to see the replica and the other sentinels`,
        20_000 * TIME_FACTOR,
        async () => {
          const m = await s.cli('SENTINEL', 'MASTER', name);
          const r = await s.cli('SENTINEL', 'REPLICAS', name);
          return (
            field(m, 'num-other-sentinels') === '2' &&
            field(m, 'num-slaves') === '1' &&
            field(r, 'master-link-status') === 'ok'
          );
        },
      );
    }
    return deployment;
  } catch (err) {
    await stop();
    throw err;
  }
}

class Deployment implements SentinelDeployment {
  readonly sentinelList: string;

  constructor(
    readonly masterName: string,
    readonly primary: RedisServer,
    readonly replica: RedisServer,
    readonly sentinels: readonly RedisServer[],
    readonly stop: () => Promise<void>,
  ) {
    this.sentinelList = sentinels.map((s) => `${s.host}:${s.port}`).join(',');
  }

  async currentPrimary(): Promise<RedisAddress> {
    for (const s of this.sentinels) {
      const out = await s.cli('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName).catch(() => '');
      const [host, port] = lines(out);
      if (host && port) return { host, port: Number(port) };
    }
    throw new Error('no sentinel answered get-master-addr-by-name');
  }

  serverAt(addr: RedisAddress): RedisServer {
    const s = [this.primary, this.replica].find((x) => x.port === addr.port);
    if (s === undefined) throw new Error(`no server of the deployment on port ${addr.port}`);
    return s;
  }

  async waitForSwitch(from: RedisAddress, timeoutMs = 30_000 * TIME_FACTOR): Promise<RedisAddress> {
    const s = this.sentinels[0]!;
    const sub = createClient({ socket: { host: s.host, port: s.port, reconnectStrategy: false } });
    sub.on('error', () => undefined);
    await sub.connect();
    try {
      const switched = new Promise<void>((resolve) => {
        void sub.subscribe('+switch-master', (message) => {
          // "<name> <old ip> <old port> <new ip> <new port>"
          if (message.split(' ')[0] === this.masterName) resolve();
        });
      });
      const moved = async (): Promise<boolean> => (await this.currentPrimary()).port !== from.port;
      if (!(await moved())) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          switched,
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no +switch-master within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]).finally(() => clearTimeout(timer));
      }
      const now = await this.currentPrimary();
      if (now.port === from.port)
        throw new Error('+switch-master seen, but the sentinels still name the old primary');
      const server = this.serverAt(now);
      await until(`${now.port} to answer as the primary`, timeoutMs, async () =>
        (await server.cli('ROLE')).startsWith('master'),
      );
      return now;
    } finally {
      sub.destroy();
    }
  }

  async cutReplica(): Promise<void> {
    await this.replica.cli('CONFIG', 'SET', 'masterauth', 'not-the-primary-password');
    await this.primary.cli('CLIENT', 'KILL', 'TYPE', 'replica');
    await until('the primary to lose its replica', 10_000 * TIME_FACTOR, async () =>
      (await this.primary.cli('INFO', 'replication')).includes('connected_slaves:0'),
    );
  }

  async waitForReplica(server: RedisServer, timeoutMs = 20_000 * TIME_FACTOR): Promise<void> {
    await until(`${server.port} to be a replica with its link up`, timeoutMs, async () => {
      const info = await server.cli('INFO', 'replication');
      return info.includes('role:slave') && info.includes('master_link_status:up');
    });
  }
}
