/**
 * The QoS-1 log in Redis, shared by every gateway node of a cluster: a user reconnecting to any node
 * is replayed from the cursor its device acked on any other.
 *
 * Key layout 2 (prefix `ferry` by default; `<U>`/`<T>` are the user id / topic with `%{}` %-escaped):
 *   ferry:{u:<U>}:log   stream, one entry per stored message, entry id `<seq>-0`; TTL renewed to
 *                       1.25x retention once below retention
 *   ferry:{u:<U>}:seq   string, last seq assigned (INCR; a new counter starts at the clock floor,
 *                       see scripts.ts); never expires
 *   ferry:{u:<U>}:cur   hash deviceId -> acked seq
 *   ferry:{u:<U>}:dd    hash `<len(sender)>:<sender><clientMsgId>` -> "ts|seq|serverId" of the
 *                       current dedup window, `@` -> its start; TTL two windows
 *   ferry:{u:<U>}:dd0   the same for the window before (scripts.ts APPEND_SCRIPT)
 *   ferry:{t:<T>}:log / :seq / :dd / :dd0   the same for a topic (no cursors)
 * Layout 1 had a string key per message instead of the dedup hashes (keys.ts).
 * The hash tag keeps one log's keys on one Cluster slot, so each operation is one Lua script (one
 * round trip) over keys of one slot: append = dedup look-up + INCR + XADD + dedup HSET + trim;
 * read = trim + XRANGE COUNT; ack = clamp to seq + move the cursor forward only. See scripts.ts.
 *
 * Differences from MemoryMessageStore, by design:
 *  - dedup is per (log, sender, clientMsgId): an atomic check must live on the log's slot;
 *  - `maxBytes` caps one message, not the whole store (a global oldest-first cap would need every
 *    slot; size Redis with `maxmemory` and rely on count and age retention);
 *  - stats() is synchronous, so it is this instance's local view (see RedisStoreStats).
 * Every Redis failure (refused, timed out, disconnected) rejects with a StoreError, which the router
 * answers with 107 UNAVAILABLE (retryable). With a client that has an offline queue, commands carry
 * a timeout (`commandTimeoutMs`) so a Redis outage fails callers quickly instead of parking them until
 * reconnection; a retry after such a timeout is safe because appends dedup. node-redis only applies it
 * while a command waits to be written (never once sent), and each one costs an AbortSignal timer that
 * later fires and builds a DOMException: a client without an offline queue (the cluster link) fails
 * at once when disconnected, so the gateway passes Infinity and a busy node queues instead of refusing.
 */
import { RESP_TYPES } from 'redis';
import type { Envelope } from '../../bus/bus.js';
import { ConfigError, StoreError } from '../../errors.js';
import { storedBytes } from '../memory.js';
import { type AppendResult, type MessageStore, type NewMessage } from '../message-store.js';
import { checkKeyPrefix, logKeys, type LogKeys, type LogKind } from './keys.js';
import { RecentAppends, type RecentLog } from './recent-appends.js';
import { AppendBatcher } from './append-batcher.js';
import type { ReplicaTicket, ReplicaWait } from './replica-wait.js';
import { APPEND_ARGS, APPEND_HEAD, APPEND_KEYS, SCRIPTS, type Script } from './scripts.js';

type Arg = string | Buffer;

/**
 * What the store needs of a node-redis client. Both `createClient()` and `createCluster()` results
 * fit; the caller connects and closes it (the store never does).
 */
export interface RedisScriptClient {
  withCommandOptions(options: object): unknown;
  eval(script: string, options: { keys: string[]; arguments: Arg[] }): Promise<unknown>;
  evalSha(sha1: string, options: { keys: string[]; arguments: Arg[] }): Promise<unknown>;
  get(key: string): Promise<unknown>;
  hGet(key: string, field: string): Promise<unknown>;
}

export interface RedisMessageStoreOptions {
  client: RedisScriptClient;
  /** Prefix of every serverId this store assigns. */
  nodeId: string;
  /** Entries kept per user log and per topic log (>= 1); the oldest go first. */
  maxMessagesPerLog: number;
  /** Entries older than this are dropped (Infinity = never). */
  retentionMs: number;
  /** A repeated (sender, clientMsgId) within this window is a duplicate (0 = no dedup). */
  dedupWindowMs: number;
  /** Largest message accepted, counted as MemoryMessageStore counts it (storedBytes). */
  maxBytes: number;
  /** First part of every key. Default 'ferry'. */
  keyPrefix?: string;
  /**
   * Most time a command may wait in the client's write queue (which includes node-redis's offline
   * queue); Infinity = no timeout (for clients with `disableOfflineQueue`). Default 2000.
   */
  commandTimeoutMs?: number;
  /** Clock for timestamps, age retention and the dedup window. Default Date.now. */
  now?: () => number;
  /**
   * Changes whenever the client's connection does (see RedisLink.connectionEpoch). When given, a
   * script that ran by EVAL on the current connection is called by EVALSHA from then on (ScriptRunner).
   * Only for a standalone client without an offline queue; without it every call is an EVAL.
   */
  connectionEpoch?: () => number;
  /**
   * A hash of the recipient user read inside each user append (same hash tag, so same slot), handed
   * to `onRead` before the append resolves. The cluster uses it for presence: the read is atomic with
   * and after the append, which a QoS-1 forward needs (docs/cluster.md), without a second round trip.
   */
  appendReadsHash?: AppendHashRead;
  /**
   * The node's watch over Redis (the cluster's data guard): appends wait at `gate` until the current
   * connection has been checked, and every seq they assign is above `floor` (see scripts.ts).
   */
  appendGuard?: AppendGuard;
  /** Appends remembered for `auditRecent` (0 = none). Default 0. */
  recentAppends?: number;
  /**
   * The ack-after-replica durability mode: appends go over `client` (a connection of their own, as
   * WAIT blocks the connection it runs on; with `connectionEpoch` as above) and resolve only once
   * `wait` confirmed them on the replicas (replica-wait.ts). Without it an append resolves once Redis
   * has it (ack-after-write).
   */
  replicated?: ReplicatedAppends;
  /**
   * Which appends may share one script call (append-batcher.ts): those whose log keys give the same
   * value. Every key of a call must be on one slot, so for a Redis Cluster client it is the key's slot;
   * on a standalone Redis one value for all. Default: the log key itself (only appends to the same
   * log share a call), which is right for either.
   */
  appendGroup?: (logKey: string) => string | number;
  /** Most appends in one script call. Default 128. */
  maxAppendBatch?: number;
}

/** See RedisMessageStoreOptions.replicated. */
export interface ReplicatedAppends {
  client: RedisScriptClient;
  connectionEpoch?: () => number;
  wait: ReplicaWait;
}

/** See RedisMessageStoreOptions.appendGuard. */
export interface AppendGuard {
  /**
   * Null when appends may go ahead; otherwise a promise that settles once they may (it rejects when
   * the check failed, and the append fails with it). Called on every append: must not allocate when
   * it returns null.
   */
  gate(): Promise<void> | null;
  /** A seq every new append must exceed (0 = none). */
  floor(): number;
}

/** What `auditRecent` found: this node's recent appends that Redis no longer has. */
export interface StoreAudit {
  /** Appends checked. */
  checked: number;
  /** Of those, how many are gone from their log. */
  missing: number;
  /** Users whose log lost at least one of them. */
  users: string[];
  /** Topics whose log lost at least one of them. */
  topics: string[];
}

/**
 * Appends per script call: a call holds Redis for all of them (about 10-20 µs each), so this bounds
 * the stall one call adds for every other client of that Redis to a few ms.
 */
const DEFAULT_MAX_APPEND_BATCH = 128;

/** Seqs per MISSING script call: bounds the time one call holds Redis. */
const AUDIT_CHUNK = 512;
/** Logs audited at once (one script call each in flight). */
const AUDIT_PARALLEL = 64;

/** See RedisMessageStoreOptions.appendReadsHash. */
export interface AppendHashRead {
  /** The hash key of `userId`; must carry the user's hash tag (`{u:<escaped id>}`, keys.ts). */
  key(userId: string): string;
  /** The hash as HGETALL returns it (field, value, field, value, ...), as of right after `seq`. */
  onRead(userId: string, seq: number, fieldsAndValues: readonly Buffer[]): void;
}

/**
 * This instance's view, not the cluster's: users/topics = logs whose seq counter this instance
 * created (its first append); messages/bytes = what it appended minus what its own trims removed
 * (another node's trims and Redis key expiry are not seen). Summed over all nodes, messages and
 * bytes approximate the store's contents.
 */
export interface RedisStoreStats {
  users: number;
  topics: number;
  messages: number;
  bytes: number;
}

/**
 * Some node-redis errors have an empty message (its TimeoutError for a command that waited
 * `commandTimeoutMs` to be written): name the error class then, so an operator's log says why.
 */
export function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message !== '') return err.message;
  const name = err.constructor.name;
  return name === 'TimeoutError' ? 'TimeoutError (command not sent within commandTimeoutMs)' : name;
}

/** Raised inside the store when Redis answers something the scripts never return. */
class ReplyShapeError extends Error {}

/** One append of a batched script call failed in Redis (its text is Redis's error). */
class AppendFailedError extends Error {}

/**
 * An append queued for the next script call of its group (append-batcher.ts): what scripts.ts
 * APPEND_SCRIPT takes per append, kept as fields and copied into the call's arguments when it is sent.
 */
interface PendingAppend {
  kind: LogKind;
  name: string;
  bytes: number;
  keys: LogKeys;
  /** The presence hash read with the append, when `companion` is set. */
  hashKey: string | undefined;
  companion: AppendHashRead | undefined;
  dedup: boolean;
  msg: NewMessage;
  timestampMs: number;
  serverId: string;
  ticket: ReplicaTicket | undefined;
  resolve: (r: AppendResult) => void;
  reject: (err: unknown) => void;
}

/** The flags argument of an append: ephemeral, dedup, read the presence hash (index = bits 4, 2, 1). */
const FLAGS = ['000', '001', '010', '011', '100', '101', '110', '111'] as const;

/** A log's keys as the store caches them. */
interface CachedKeys {
  log: LogKeys;
  /** The presence hash read with a user append (appendReadsHash), if any. */
  hash: string | undefined;
}

/** Logs whose keys are kept built (per kind); past this the cache starts over. */
const MAX_CACHED_KEYS = 10_000;

function toText(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  throw new ReplyShapeError(`unexpected reply element ${typeof v}`);
}

function toNumber(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(toText(v));
  if (!Number.isFinite(n)) throw new ReplyShapeError('unexpected non-numeric reply');
  return n;
}

function asArray(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new ReplyShapeError('unexpected non-array reply');
  return v;
}

/**
 * One client's script calls. EVALSHA only once an EVAL of the script succeeded on the current
 * connection: a connection's commands run in order, so every EVALSHA sent after that finds the
 * script, and a fresh or restarted Redis (a new connection) gets EVALs until one succeeds. Recovering
 * from NOSCRIPT by retrying with EVAL would not do: the retry runs behind appends pipelined after it,
 * which gave a sender's messages seqs out of send order. NOSCRIPT can then only come from a SCRIPT
 * FLUSH on a live connection; that call fails with a StoreError (107, retryable: the client resends,
 * dedup keeps it once) and EVAL takes over again. Without `epochOf` every call is an EVAL.
 */
class ScriptRunner {
  /** Script -> connection epoch in which it ran by EVAL (so EVALSHA finds it). */
  private readonly loaded = new Map<Script, number>();

  constructor(
    readonly redis: RedisScriptClient,
    private readonly epochOf: (() => number) | undefined,
  ) {}

  run(s: Script, keys: string[], args: Arg[]): Promise<unknown> {
    const epochOf = this.epochOf;
    const options = { keys, arguments: args };
    if (epochOf === undefined) return this.guard(() => this.redis.eval(s.source, options));
    const epoch = epochOf();
    if (this.loaded.get(s) === epoch) return this.guard(() => this.redis.evalSha(s.sha, options));
    return this.guard(async () => {
      const reply = await this.redis.eval(s.source, options);
      if (epochOf() === epoch) this.loaded.set(s, epoch);
      return reply;
    });
  }

  /** Every Redis failure becomes a StoreError (107 UNAVAILABLE, retryable, at the router). */
  async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      const why = describeCause(err);
      // SCRIPT FLUSH dropped every script: EVAL until each has run again (see `run`).
      if (why.startsWith('NOSCRIPT')) this.loaded.clear();
      throw new StoreError(`redis message store unavailable: ${why}`, { cause: err });
    }
  }
}

/** Redis MessageStore; see the file comment for the key layout and semantics. */
export class RedisMessageStore implements MessageStore {
  private readonly redis: RedisScriptClient;
  /** Reads, acks and cursors; and appends unless `replicated` gave them a client of their own. */
  private readonly scripts: ScriptRunner;
  private readonly appends: ScriptRunner;
  private readonly replicaWait: ReplicaWait | undefined;
  private readonly prefix: string;
  private readonly nodeId: string;
  private readonly maxLen: string;
  /** '0' = never. */
  private readonly retention: string;
  /** '0' = no dedup, '-1' = forever. */
  private readonly dedupWindow: string;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly appendReadsHash: AppendHashRead | undefined;
  private readonly appendGuard: AppendGuard | undefined;
  private readonly recent: RecentAppends;
  private readonly appendGroup: (logKey: string) => string | number;
  private readonly batcher: AppendBatcher<PendingAppend>;
  /** The guard's floor as last seen, and as the script argument (built once per change). */
  private floorSeen = 0;
  private floorArg = '0';
  private counter = 0;
  /** The last append's timestamp and its base-36 form (part of every serverId). */
  private lastNow = -1;
  private lastNow36 = '';
  private readonly keyCache = { u: new Map<string, CachedKeys>(), t: new Map<string, CachedKeys>() };
  private closed = false;
  private readonly local = { users: 0, topics: 0, messages: 0, bytes: 0 };

  /** Throws ConfigError when a limit is out of range. */
  constructor(opts: RedisMessageStoreOptions) {
    const { maxMessagesPerLog, retentionMs, dedupWindowMs, maxBytes } = opts;
    if (!Number.isInteger(maxMessagesPerLog) || maxMessagesPerLog < 1) {
      throw new ConfigError(`store.maxMessagesPerLog must be a positive integer, got ${maxMessagesPerLog}`);
    }
    if (!(retentionMs > 0)) throw new ConfigError(`store.retentionMs must be > 0, got ${retentionMs}`);
    if (!(dedupWindowMs >= 0))
      throw new ConfigError(`store.dedupWindowMs must be >= 0, got ${dedupWindowMs}`);
    if (!(maxBytes > 0)) throw new ConfigError(`store.maxBytes must be > 0, got ${maxBytes}`);
    const timeout = opts.commandTimeoutMs ?? 2000;
    if (!(timeout > 0)) throw new ConfigError(`store command timeout must be > 0, got ${timeout}`);
    this.prefix = opts.keyPrefix ?? 'ferry';
    checkKeyPrefix(this.prefix);
    this.nodeId = opts.nodeId;
    // The scripts parse these digit by digit (scripts.ts INT): plain integer strings, never 1e+21.
    this.maxLen = intArg(maxMessagesPerLog);
    this.retention = Number.isFinite(retentionMs) ? intArg(Math.max(1, retentionMs)) : '0';
    this.dedupWindow = !Number.isFinite(dedupWindowMs)
      ? '-1'
      : dedupWindowMs > 0
        ? intArg(Math.max(1, dedupWindowMs))
        : '0';
    this.maxBytes = maxBytes;
    this.now = opts.now ?? Date.now;
    this.appendReadsHash = opts.appendReadsHash;
    this.appendGuard = opts.appendGuard;
    this.recent = new RecentAppends(opts.recentAppends ?? 0);
    // Payloads are binary: every blob string comes back as a Buffer and is decoded field by field.
    const typeMapping = { [RESP_TYPES.BLOB_STRING]: Buffer };
    const commandOptions = Number.isFinite(timeout) ? { timeout, typeMapping } : { typeMapping };
    this.redis = opts.client.withCommandOptions(commandOptions) as RedisScriptClient;
    this.scripts = new ScriptRunner(this.redis, opts.connectionEpoch);
    const r = opts.replicated;
    this.appends =
      r === undefined
        ? this.scripts
        : new ScriptRunner(
            r.client.withCommandOptions(commandOptions) as RedisScriptClient,
            r.connectionEpoch,
          );
    this.replicaWait = r?.wait;
    this.appendGroup = opts.appendGroup ?? ((logKey) => logKey);
    const maxBatch = opts.maxAppendBatch ?? DEFAULT_MAX_APPEND_BATCH;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new ConfigError(`the store's append batch must be a positive integer, got ${maxBatch}`);
    }
    this.batcher = new AppendBatcher({ send: (items) => this.sendAppends(items), maxBatch });
  }

  appendToUser(msg: NewMessage): Promise<AppendResult> {
    return this.append(msg, 'u', msg.toUser);
  }

  appendToTopic(msg: NewMessage): Promise<AppendResult> {
    return this.append(msg, 't', msg.topic);
  }

  readUser(userId: string, afterSeq: number, limit: number): Promise<Envelope[]> {
    return this.read('u', userId, afterSeq, limit);
  }

  readTopic(topic: string, afterSeq: number, limit: number): Promise<Envelope[]> {
    return this.read('t', topic, afterSeq, limit);
  }

  /** Cumulative: a lower seq is ignored; a seq past lastUserSeq is clamped to it. */
  async ackUser(userId: string, deviceId: string, seq: number): Promise<void> {
    this.assertOpen();
    if (!(seq >= 1)) return; // 0, negative or NaN can never move a cursor
    const k = logKeys(this.prefix, 'u', userId);
    await this.scripts.run(SCRIPTS.ack, [k.cursors, k.seq], [deviceId, intArg(seq)]);
  }

  async userCursor(userId: string, deviceId: string): Promise<number> {
    this.assertOpen();
    const k = logKeys(this.prefix, 'u', userId);
    return this.readNumber(() => this.redis.hGet(k.cursors, deviceId));
  }

  lastUserSeq(userId: string): Promise<number> {
    return this.lastSeq('u', userId);
  }

  lastTopicSeq(topic: string): Promise<number> {
    return this.lastSeq('t', topic);
  }

  /** This instance's approximate view; see RedisStoreStats. */
  stats(): RedisStoreStats {
    const { users, topics, messages, bytes } = this.local;
    return { users, topics, messages: Math.max(0, messages), bytes: Math.max(0, bytes) };
  }

  /**
   * Checks whether the appends this instance made lately (the last `recentAppends`) are still in
   * their logs, and forgets them, so each is counted by one audit only. Run after Redis may have
   * lost data; what is missing was acknowledged to its sender and is gone. Rejects with StoreError
   * when Redis does not answer (the appends not yet checked are forgotten too).
   */
  async auditRecent(): Promise<StoreAudit> {
    this.assertOpen();
    const logs = this.recent.take();
    const result: StoreAudit = { checked: 0, missing: 0, users: [], topics: [] };
    for (let i = 0; i < logs.length; i += AUDIT_PARALLEL) {
      const group = logs.slice(i, i + AUDIT_PARALLEL);
      const missing = await Promise.all(group.map((log) => this.missingOf(log)));
      group.forEach((log, j) => {
        result.checked += log.seqs.length;
        result.missing += missing[j]!;
        if (missing[j]! > 0) (log.kind === 'u' ? result.users : result.topics).push(log.name);
      });
    }
    return result;
  }

  /** How many of `log.seqs` its log no longer holds. */
  private async missingOf(log: RecentLog): Promise<number> {
    const key = logKeys(this.prefix, log.kind, log.name).log;
    let missing = 0;
    for (let i = 0; i < log.seqs.length; i += AUDIT_CHUNK) {
      const chunk = log.seqs.slice(i, i + AUDIT_CHUNK).map(intArg);
      const reply = await this.scripts.run(SCRIPTS.missing, [key], chunk);
      missing += this.decode(() => toNumber(reply));
    }
    return missing;
  }

  /** Later operations reject. The Redis client stays open: its owner closes it. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private append(msg: NewMessage, kind: LogKind, name: string): Promise<AppendResult> {
    try {
      this.assertOpen();
      if (msg.qos !== 1) throw new StoreError('only QoS-1 messages are stored');
      if (name === '') {
        throw new StoreError(kind === 'u' ? 'user message without toUser' : 'topic message without topic');
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const bytes = storedBytes(msg);
    if (bytes > this.maxBytes) {
      return Promise.reject(
        new StoreError(`message of ${bytes} bytes exceeds store.maxBytes (${this.maxBytes})`),
      );
    }
    const now = Math.floor(this.now());
    if (now !== this.lastNow) {
      this.lastNow = now;
      this.lastNow36 = now.toString(36);
    }
    const cached = this.keysOf(kind, name);
    const keys = cached.log;
    const companion = kind === 'u' ? this.appendReadsHash : undefined;
    return new Promise<AppendResult>((resolve, reject) => {
      const item: PendingAppend = {
        kind,
        name,
        bytes,
        keys,
        hashKey: cached.hash,
        companion,
        dedup: msg.clientMsgId !== '' && this.dedupWindow !== '0',
        msg,
        timestampMs: now,
        serverId: `${this.nodeId}-${this.lastNow36}-${(this.counter++).toString(36)}`,
        ticket: undefined,
        resolve,
        reject,
      };
      this.batcher.add(this.appendGroup(keys.log), item);
    });
  }

  /** The keys of a log (and its user's presence hash), built once while among the recently used. */
  private keysOf(kind: LogKind, name: string): CachedKeys {
    const cache = this.keyCache[kind];
    let k = cache.get(name);
    if (k === undefined) {
      if (cache.size >= MAX_CACHED_KEYS) cache.clear();
      const hash = kind === 'u' ? this.appendReadsHash?.key(name) : undefined;
      k = { log: logKeys(this.prefix, kind, name), hash };
      cache.set(name, k);
    }
    return k;
  }

  /**
   * Sends one batch of appends as one script call (append-batcher.ts) and settles each append. The
   * guard's gate is passed before, and its floor read right before, the call is sent.
   */
  private async sendAppends(items: PendingAppend[]): Promise<void> {
    const guard = this.appendGuard;
    if (guard !== undefined) {
      const wait = guard.gate();
      if (wait !== null) {
        try {
          await wait;
        } catch (err) {
          const e = new StoreError(`redis message store unavailable: ${describeCause(err)}`, { cause: err });
          for (const it of items) it.reject(e);
          return;
        }
      }
      const floor = guard.floor();
      if (floor !== this.floorSeen) {
        this.floorSeen = floor;
        this.floorArg = intArg(floor);
      }
    }
    const n = items.length;
    const keys = new Array<string>(n * APPEND_KEYS);
    const args = new Array<Arg>(APPEND_HEAD + n * APPEND_ARGS);
    args[0] = String(n);
    args[1] = this.dedupWindow;
    args[2] = this.maxLen;
    args[3] = this.retention;
    args[4] = this.floorArg;
    const replicas = this.replicaWait;
    for (let i = 0; i < n; i++) {
      const it = items[i]!;
      const k = it.keys;
      const msg = it.msg;
      let j = i * APPEND_KEYS;
      keys[j] = k.log;
      keys[j + 1] = k.seq;
      keys[j + 2] = it.dedup ? k.dedup : k.log;
      keys[j + 3] = it.dedup ? k.dedupPrev : k.log;
      keys[j + 4] = it.hashKey ?? k.log;
      j = APPEND_HEAD + i * APPEND_ARGS;
      args[j] = String(it.timestampMs);
      args[j + 1] = it.serverId;
      args[j + 2] = String(it.bytes);
      args[j + 3] = msg.fromUser;
      args[j + 4] = msg.fromDevice;
      args[j + 5] = msg.clientMsgId;
      args[j + 6] = FLAGS[(msg.ephemeral ? 4 : 0) + (it.dedup ? 2 : 0) + (it.hashKey !== undefined ? 1 : 0)]!;
      const p = msg.payload;
      args[j + 7] = Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
      args[j + 8] = msg.fromService;
      if (replicas !== undefined) it.ticket = replicas.ticket(k.log);
    }
    let reply: unknown;
    try {
      reply = await this.appends.run(SCRIPTS.append, keys, args);
    } catch (err) {
      for (const it of items) it.reject(err);
      return;
    }
    if (!Array.isArray(reply) || reply.length !== n) {
      const what = Array.isArray(reply)
        ? `${reply.length} replies to ${n} appends`
        : 'unexpected non-array reply';
      const e = new StoreError(`redis message store: ${what}`, { cause: new ReplyShapeError(what) });
      for (const it of items) it.reject(e);
      return;
    }
    for (let i = 0; i < n; i++) this.settleAppend(items[i]!, reply[i]);
  }

  /** Settles one append from its part of the script's reply (scripts.ts APPEND_SCRIPT). */
  private settleAppend(it: PendingAppend, reply: unknown): void {
    const { kind, name, bytes, companion } = it;
    let result: AppendResult;
    try {
      result = this.decode(() => {
        const r = asArray(reply);
        const status = r[0];
        let hash: unknown;
        let out: AppendResult;
        if (status === 0) {
          const seq = r[1] as number;
          this.local.messages += 1 - (r[2] as number);
          this.local.bytes += bytes - (r[3] as number);
          if (r[5] === 1) this.local[kind === 'u' ? 'users' : 'topics']++;
          this.recent.record(kind, name, seq);
          hash = r[4];
          out = { serverId: it.serverId, seq, timestampMs: it.timestampMs, duplicate: false };
        } else if (status === 1) {
          hash = r[2];
          out = { serverId: toText(r[4]), seq: toNumber(r[1]), timestampMs: toNumber(r[3]), duplicate: true };
        } else if (status === -1) {
          throw new AppendFailedError(toText(r[1]));
        } else {
          throw new ReplyShapeError('unexpected append status');
        }
        if (typeof out.seq !== 'number') throw new ReplyShapeError('unexpected non-numeric seq');
        // Not an array when the read failed (see the script): the bus then reads presence itself.
        if (companion !== undefined && Array.isArray(hash)) companion.onRead(name, out.seq, hash as Buffer[]);
        return out;
      });
    } catch (err) {
      it.reject(
        err instanceof StoreError && err.cause instanceof AppendFailedError
          ? new StoreError(`redis message store unavailable: ${err.cause.message}`, { cause: err.cause })
          : err,
      );
      return;
    }
    const replicas = this.replicaWait;
    // ack-after-replica: a duplicate waits too (its first append may never have been confirmed).
    if (replicas === undefined) it.resolve(result);
    else replicas.confirm(it.keys.log, it.ticket!).then(() => it.resolve(result), it.reject);
  }

  private async read(kind: LogKind, name: string, afterSeq: number, limit: number): Promise<Envelope[]> {
    this.assertOpen();
    if (!(limit >= 1)) return [];
    const from = afterSeq >= 0 ? Math.floor(Math.min(afterSeq, 2 ** 53)) + 1 : 1;
    const k = logKeys(this.prefix, kind, name);
    const count = String(Math.floor(Math.min(limit, 2 ** 31)));
    const args = [intArg(this.now()), this.maxLen, this.retention, `${from}-0`, count];
    const reply = await this.scripts.run(SCRIPTS.read, [k.log], args);
    return this.decode(() => {
      const [removed, removedBytes, entries] = asArray(reply);
      this.local.messages -= toNumber(removed);
      this.local.bytes -= toNumber(removedBytes);
      return asArray(entries).map((e) => this.entryToEnvelope(kind, name, e));
    });
  }

  private entryToEnvelope(kind: LogKind, name: string, entry: unknown): Envelope {
    const [id, fieldList] = asArray(entry);
    const fields = asArray(fieldList);
    const f = new Map<string, unknown>();
    for (let i = 0; i + 1 < fields.length; i += 2) f.set(toText(fields[i]), fields[i + 1]);
    const payload = f.get('p');
    return {
      serverId: toText(f.get('s')),
      seq: Number.parseInt(toText(id), 10),
      fromUser: toText(f.get('f')),
      fromDevice: toText(f.get('d')),
      toUser: kind === 'u' ? name : '',
      topic: kind === 't' ? name : '',
      payload: Buffer.isBuffer(payload) ? new Uint8Array(payload) : new TextEncoder().encode(toText(payload)),
      timestampMs: toNumber(f.get('t')),
      qos: 1,
      clientMsgId: toText(f.get('c')),
      ephemeral: toText(f.get('e')) === '1',
      // Absent in entries of client messages and in entries written before the field existed.
      fromService: f.has('v') ? toText(f.get('v')) : '',
    };
  }

  private async lastSeq(kind: LogKind, name: string): Promise<number> {
    this.assertOpen();
    const k = logKeys(this.prefix, kind, name);
    return this.readNumber(() => this.redis.get(k.seq));
  }

  private async readNumber(fetch: () => Promise<unknown>): Promise<number> {
    const v = await this.scripts.guard(fetch);
    return v === null || v === undefined ? 0 : this.decode(() => toNumber(v));
  }

  private decode<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new StoreError(`redis message store: ${(err as Error).message}`, { cause: err });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('message store is closed');
  }
}

/** A non-negative integer as the scripts read it: decimal digits only, clamped to 2^53. */
function intArg(n: number): string {
  return String(Math.floor(Math.min(Math.max(n, 0), 2 ** 53)));
}
