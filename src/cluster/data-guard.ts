/**
 * The data guard: this node's watch over what Redis may have forgotten (docs/cluster.md, "When Redis
 * loses data"). Redis cannot say what it lost, so the node checks, on every connection change (a
 * restart or failover always breaks the connection) and every `redis.dataCheckMs`:
 *  - a data marker per Redis shard (keys.ts `dataMarker`), a random value the first node to find it
 *    missing writes: gone or replaced means that shard lost its data (restart without persistence,
 *    FLUSHALL, a replica promoted that never had it);
 *  - the shard's `run_id` (INFO server): another value means another server process answers, which
 *    may lack the last writes of the one before (AOF everysec, an asynchronous replica).
 * On either, before this node appends again (the store waits at `gate`), it raises the seq floor above
 * the Redis clock, so no seq a rolled-back counter could hand out again is ever used twice (the store's
 * new counters start at the clock by themselves, scripts.ts), and it collects its evidence of loss:
 * users whose sessions here were sent seqs their counter no longer reaches, and the appends it made
 * lately that their logs no longer hold. What it finds is counted in metrics and logged as one error
 * line; a change that lost nothing it can see is logged as a warning.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AppendGuard, StoreAudit } from '../store/redis/redis-store.js';
import { SEQ_EPOCH_S } from '../store/redis/scripts.js';
import { keySlot, SLOT_COUNT, type ClusterKeys } from './keys.js';
import { isConnectionError, type RedisLink } from './redis-link.js';

/** What the guard checks besides Redis itself; wired once the store and the sessions exist. */
export interface LossEvidence {
  /**
   * The store's audit of its recent appends (RedisMessageStore.auditRecent). It must take its
   * snapshot synchronously, before it first awaits: the gate opens right after the call.
   */
  auditStore(): Promise<StoreAudit>;
  /** Users with sessions here and the highest seq each was sent (SessionRegistry.sentSeqs). */
  sentSeqs(): Array<[string, number]>;
  /** A user's last assigned seq, 0 when its counter is gone (MessageStore.lastUserSeq). */
  lastUserSeq(userId: string): Promise<number>;
}

/** Constructor options of DataGuard. */
export interface DataGuardOptions {
  link: RedisLink;
  /**
   * Another link to the same Redis whose connection changes also close the gate: the appends' own
   * link in ack-after-replica mode (it may reach a promoted primary before `link` notices).
   */
  alsoWatch?: RedisLink | null;
  keys: ClusterKeys;
  nodeId: string;
  /** Period of the background check in ms; 0 = only on connection changes. */
  intervalMs: number;
  logger: Logger;
  metrics: Metrics;
  onError: (op: string, err: unknown) => void;
}

/**
 * Added to the Redis clock when the floor is raised: a new server whose clock runs up to this much
 * behind the old one's still hands out seqs above the old server's.
 */
export const FLOOR_MARGIN_US = 60_000_000;

/** Users named in the error line, at most (the count is always complete). */
const NAMED_USERS = 10;

/**
 * KEYS: marker. ARGV: a new value. Returns {created 0/1, the marker's value, run_id ('' when INFO is
 * refused), TIME seconds, TIME microseconds}, writing ARGV[1] first when the marker was missing (one
 * script, so two nodes finding it missing agree on one value). All of it from the shard that holds
 * the marker: a script runs where its key lives, while a client may send a keyless INFO anywhere.
 */
const MARKER_SCRIPT = `
local v, created = redis.call('GET', KEYS[1]), 0
if not v then
  v, created = ARGV[1], 1
  redis.call('SET', KEYS[1], v)
end
local run = ''
local ok, info = pcall(redis.call, 'INFO', 'server')
if ok then run = string.match(info, 'run_id:(%x+)') or '' end
local t = redis.call('TIME')
return {created, v, run, t[1], t[2]}
`;

/** What one shard said in one check. */
interface ShardReading {
  key: string;
  marker: string;
  created: boolean;
  /** '' when INFO is refused (a managed Redis may rename it): the marker check still runs. */
  runId: string;
  /** Microseconds since SEQ_EPOCH_S by that shard's clock. */
  clockUs: number;
}

/** What a check found changed since the previous one. */
interface Change {
  /** Marker keys whose marker was gone or replaced. */
  lost: string[];
  /** Marker keys whose server process changed (run_id). */
  restarted: string[];
}

/** Watches Redis for lost data; see the file comment. */
export class DataGuard implements AppendGuard {
  private readonly o: DataGuardOptions;
  private readonly log: Logger;
  /** Marker key -> the marker value and run_id seen last. */
  private readonly known = new Map<string, { marker: string; runId: string }>();
  private floorUs = 0;
  /** `link.changes` as of the last successful check. */
  private verified = -1;
  /** Checks run one at a time; `pending` is the queued or running one for `pendingFor`. */
  private chain: Promise<void> = Promise.resolve();
  private pending: Promise<void> | null = null;
  private pendingFor = -1;
  private evidence: LossEvidence | null = null;
  /** Audits run after the gate opened; close() waits for them. */
  private audits = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private infoWarned = false;
  private closed = false;

  constructor(opts: DataGuardOptions) {
    this.o = opts;
    this.log = opts.logger;
  }

  /** The links' connection changes, summed: any change of either moves it. */
  private changes(): number {
    return this.o.link.changes + (this.o.alsoWatch?.changes ?? 0);
  }

  /** AppendGuard: null while the current connection has been checked, else the check to wait for. */
  gate(): Promise<void> | null {
    if (this.changes() === this.verified) return null;
    return this.checkNow();
  }

  /** AppendGuard: every seq assigned from now on exceeds this (0 until Redis changed under the node). */
  floor(): number {
    return this.floorUs;
  }

  /** Supplies the evidence an audit checks (the store and the sessions are made after the guard). */
  attach(evidence: LossEvidence): void {
    this.evidence = evidence;
  }

  /** The first check (learns each shard's marker and run_id), then the periodic one. Rejects when Redis does not answer. */
  async start(): Promise<void> {
    await this.checkNow();
    if (this.o.intervalMs > 0) {
      this.timer = setInterval(() => {
        this.checkNow().catch((err: unknown) => this.o.onError('data-guard', err));
      }, this.o.intervalMs);
      this.timer.unref();
    }
  }

  /**
   * Checks every shard now, or joins the check already queued for the current connection state.
   * Resolves once the floor is set and the gate open; the audit, if any, runs on (see `audited`).
   */
  checkNow(): Promise<void> {
    const changes = this.changes();
    if (this.pending !== null && this.pendingFor === changes) return this.pending;
    const p = this.chain.then(() => this.check());
    this.chain = p.catch(() => undefined);
    this.pending = p;
    this.pendingFor = changes;
    void this.chain.then(() => {
      if (this.pending === p) this.pending = null;
    });
    return p;
  }

  /** Resolves when every audit started so far has been reported (tests, shutdown). */
  async audited(): Promise<void> {
    await Promise.all([...this.audits]);
  }

  /** Stops the periodic check and waits for a running check and audit. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.chain;
    await this.audited();
  }

  private async check(): Promise<void> {
    if (this.closed) return;
    const changes = this.changes();
    const readings = await this.readAll(this.markerKeys());
    const change: Change = { lost: [], restarted: [] };
    let clockUs = 0;
    for (const r of readings) {
      clockUs = Math.max(clockUs, r.clockUs);
      const before = this.known.get(r.key);
      this.known.set(r.key, { marker: r.marker, runId: r.runId });
      if (before === undefined) {
        if (r.created)
          this.log.info(
            { marker: r.key },
            'created the data marker: a new Redis, or one that lost its data while no node watched it',
          );
      } else if (r.marker !== before.marker) change.lost.push(r.key);
      else if (r.runId !== '' && before.runId !== '' && r.runId !== before.runId)
        change.restarted.push(r.key);
    }
    if (change.lost.length === 0 && change.restarted.length === 0) {
      this.verified = changes;
      return;
    }
    // Before any append of this node goes on: above every seq the old server could have handed out.
    this.floorUs = Math.max(this.floorUs, clockUs + FLOOR_MARGIN_US);
    this.o.metrics.storeRedisChanges.inc(change.lost.length + change.restarted.length);
    const evidence = this.evidence;
    // Sessions first, while this node's appends still wait: a counter below what a session here
    // was sent has lost writes (other nodes' appends may lift it meanwhile: a lower bound).
    // A failure here must not lose the report: the marker and run_id are already recorded as seen.
    const behind = evidence === null ? [] : await this.usersBehind(evidence).catch(() => []);
    // The store takes its snapshot of recent appends synchronously, before the gate opens.
    const audit = evidence === null ? Promise.resolve(null) : evidence.auditStore();
    this.verified = changes;
    const reported = this.report(change, behind, audit);
    this.audits.add(reported);
    void reported.then(() => this.audits.delete(reported));
  }

  /**
   * Readings of the shards that answer. A shard that cannot be reached is left for a later check
   * (its reconnection is a connection change, which checks again before appends go on), so one shard
   * down does not hold up appends to the others; rejects only when no shard answers.
   */
  private async readAll(keys: string[]): Promise<ShardReading[]> {
    const settled = await Promise.allSettled(keys.map((key) => this.read(key)));
    const readings: ShardReading[] = [];
    let failure: unknown = null;
    for (const r of settled) {
      if (r.status === 'fulfilled') readings.push(r.value);
      else if (isConnectionError(r.reason)) failure ??= r.reason;
      else throw r.reason;
    }
    if (readings.length === 0 && failure !== null) throw failure;
    return readings;
  }

  /** Marker, run_id and clock of the shard that serves `key`. Rejects when that shard does not answer. */
  private async read(key: string): Promise<ShardReading> {
    const value = `${this.o.nodeId}/${Date.now()}/${randomBytes(8).toString('hex')}`;
    const r = await this.o.link.call<[number, string, string, string, string]>(key, [
      'EVAL',
      MARKER_SCRIPT,
      '1',
      key,
      value,
    ]);
    const runId = String(r[2]);
    if (runId === '' && !this.infoWarned) {
      // Some managed Redis services rename or forbid INFO: carry on with the marker alone.
      this.infoWarned = true;
      this.log.warn(
        'INFO is refused: a Redis restart that kept its data marker cannot be noticed by its run_id',
      );
    }
    const clockUs = (Number(r[3]) - SEQ_EPOCH_S) * 1_000_000 + Number(r[4]);
    return { key, marker: String(r[1]), created: Number(r[0]) === 1, runId, clockUs };
  }

  /**
   * One marker key per Redis shard. A single Redis: marker 0. A cluster: for each master the first
   * marker whose slot it serves, so the same master keeps the same marker while the slot map stays.
   */
  private markerKeys(): string[] {
    const owners = this.o.link.slotMasters();
    if (owners === null) return [this.o.keys.dataMarker(0)];
    const masters = new Set(owners.filter((m): m is string => m !== undefined));
    const keys: string[] = [];
    for (let n = 0; masters.size > 0 && n < SLOT_COUNT * 16; n++) {
      const key = this.o.keys.dataMarker(n);
      const master = owners[keySlot(key)];
      if (master !== undefined && masters.delete(master)) keys.push(key);
    }
    return keys;
  }

  /** Users with sessions here whose counter is gone or below the seq their sessions were sent. */
  private async usersBehind(evidence: LossEvidence): Promise<string[]> {
    const sent = evidence.sentSeqs();
    const lasts = await Promise.all(sent.map(([userId]) => evidence.lastUserSeq(userId)));
    return sent.filter(([, seq], i) => lasts[i]! < seq).map(([userId]) => userId);
  }

  /** Counts what the check and the audit found and logs it in one line. Never rejects. */
  private async report(change: Change, behind: string[], audit: Promise<StoreAudit | null>): Promise<void> {
    let a: StoreAudit | null = null;
    let auditError: string | null = null;
    try {
      a = await audit;
    } catch (err) {
      auditError = String(err);
    }
    const users = new Set(behind);
    for (const u of a?.users ?? []) users.add(u);
    const missing = a?.missing ?? 0;
    const fields = {
      users: users.size,
      messages: missing,
      checkedMessages: a?.checked ?? 0,
      topics: a?.topics.length ?? 0,
      markersLost: change.lost.length,
      serversChanged: change.restarted.length,
      someUsers: [...users].slice(0, NAMED_USERS),
      ...(auditError !== null ? { auditError } : {}),
    };
    const lost = change.lost.length > 0 || users.size > 0 || missing > 0 || (a?.topics.length ?? 0) > 0;
    if (!lost) {
      if (auditError === null)
        this.log.warn(
          fields,
          'Redis changed under this node (restart or failover): no stored message this node checked is missing',
        );
      else
        this.log.error(
          fields,
          'Redis changed under this node (restart or failover) and the audit of its recent appends failed: whether stored messages were lost is unknown',
        );
      return;
    }
    const m = this.o.metrics;
    m.storeDataLoss.inc({ cause: change.lost.length > 0 ? 'marker' : 'audit' });
    m.storeMessagesLost.inc(missing);
    m.storeUsersAffected.inc(users.size);
    const messages = auditError !== null ? 'an unknown number of' : String(missing);
    this.log.error(
      fields,
      `Redis lost data: ${users.size} users affected, ${messages} stored messages missing (of those this node checked)`,
    );
  }
}
