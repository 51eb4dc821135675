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
  /**
   * Resolves once `server` (started, or restarted, as a replica) logs that it synced with its
   * primary; `timeoutMs` is scaled by FERRY_TEST_TIME_FACTOR.
   */
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

/** Throws `what` with `detail` unless `ok`: a state the preceding event guarantees, checked once. */
function check(ok: boolean, what: string, detail: string): void {
  if (!ok) throw new Error(`${what}:\n${detail}`);
}

/** What a replica logs once its link to the primary is up (a full or a partial resync). */
const SYNCED_LINE =
  /MASTER <-> REPLICA sync: Finished with success|Successful partial resynchronization|Master accepted a Partial Resynchronization/;

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
    // Synced before the sentinels start: their first INFO of the replica finds its link up.
    await replica.waitForLog(SYNCED_LINE, 'the replica to sync', 20_000);
    const sentinels: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await startRedisServer({ sentinelConfig: conf });
      started.push(s);
      sentinels.push(s);
    }
    const deployment = new Deployment(name, primary, replica, sentinels, stop);
    // Each sentinel logs `+sentinel` as it discovers another through the hello channel (every 2 s),
    // by which time it has had the primary's and the replica's INFO.
    for (const s of sentinels) {
      for (const other of sentinels.filter((o) => o !== s)) {
        const seen = new RegExp(
          `\\+sentinel sentinel \\S+ ${other.host.replace(/\./g, '\\.')} ${other.port} @`,
        );
        await s.waitForLog(seen, `sentinel ${s.port} to discover ${other.port}`, 20_000);
      }
      const m = await s.cli('SENTINEL', 'MASTER', name);
      const r = await s.cli('SENTINEL', 'REPLICAS', name);
      check(
        field(m, 'num-other-sentinels') === '2' &&
          field(m, 'num-slaves') === '1' &&
          field(r, 'master-link-status') === 'ok',
        `sentinel ${s.port} does not see the replica and the other sentinels`,
        `${m}\n${r}`,
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
      // A sentinel announces +switch-master only after it saw the replica report itself a primary.
      const role = await this.serverAt(now).cli('ROLE');
      check(role.startsWith('master'), `${now.port} does not answer as the primary`, role);
      return now;
    } finally {
      sub.destroy();
    }
  }

  async cutReplica(): Promise<void> {
    await this.replica.cli('CONFIG', 'SET', 'masterauth', 'not-the-primary-password');
    // CLIENT KILL frees the replica's connection before it replies; the replica's reconnection fails
    // its AUTH, so it never becomes a replica again.
    await this.primary.cli('CLIENT', 'KILL', 'TYPE', 'replica');
    const info = await this.primary.cli('INFO', 'replication');
    check(info.includes('connected_slaves:0'), 'the primary still has a replica', info);
  }

  async waitForReplica(server: RedisServer, timeoutMs = 20_000): Promise<void> {
    await server.waitForLog(SYNCED_LINE, 'the replica to sync', timeoutMs);
    const info = await server.cli('INFO', 'replication');
    check(
      info.includes('role:slave') && info.includes('master_link_status:up'),
      `${server.port} synced but is not a replica with its link up`,
      info,
    );
  }
}
