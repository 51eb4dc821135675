/**
 * The embedded QoS-1 log: everything in this process's memory, saved to a snapshot on drain.
 *
 * Layout: one `Log` per recipient user and per topic, each a deque (array + head index) of entries
 * whose seqs are contiguous, so a read seeks in O(1). Every entry is also in one global queue in
 * append order. Eviction only ever removes the oldest entry of a log (count cap), or the globally
 * oldest entry (age, byte cap), which is the oldest of its own log too; so logs stay contiguous and
 * every append costs amortised O(1) however much it evicts. Entries a log evicted on its own stay in
 * the global queue as "stale" until popped, or until a compaction when stale ones outnumber live ones.
 */
import type { Envelope } from '../bus/bus.js';
import { ConfigError, StoreError } from '../errors.js';
import { dedupSender, type AppendResult, type MessageStore, type NewMessage } from './message-store.js';
import {
  readSnapshot,
  writeSnapshot,
  type DedupRecord,
  type LogKind,
  type SnapshotSink,
  type SnapshotView,
} from './memory-snapshot.js';

export { SnapshotError } from './memory-snapshot.js';

/** Limits and hooks of a MemoryMessageStore; the first four mirror `FerryConfig.store`. */
export interface MemoryMessageStoreOptions {
  /** Prefix of every serverId this store assigns. */
  nodeId: string;
  /** Entries kept per user log and per topic log (>= 1); the oldest go first. */
  maxMessagesPerLog: number;
  /** Entries older than this are dropped (Infinity = never). */
  retentionMs: number;
  /** A repeated (sender, clientMsgId) within this window is a duplicate (0 = no dedup). */
  dedupWindowMs: number;
  /** Cap on stored bytes across all logs (payload + strings + fixed overhead); oldest go first. */
  maxBytes: number;
  /** Cap on remembered (sender, clientMsgId) pairs; the oldest are forgotten first. Default 200 000. */
  maxDedupEntries?: number;
  /** Period of the background sweep that frees expired entries when idle (0 = only on access). */
  sweepIntervalMs?: number;
  /** Clock, injectable for tests. Default Date.now. */
  now?: () => number;
}

/** `MessageStore.stats()` plus the dedup table's size. */
export interface MemoryStoreStats {
  users: number;
  topics: number;
  messages: number;
  bytes: number;
  dedupEntries: number;
}

/**
 * Per-entry bookkeeping counted against maxBytes besides the payload: the frozen envelope and its
 * strings, the payload's own Buffer object, queue slots and the dedup entry. bench/RESULTS.md measured
 * ~1 KB of RSS per stored 100-byte message, so maxBytes approximates real memory rather than payload.
 */
const ENTRY_OVERHEAD_BYTES = 768;
/** Deques compact once this many slots (and at least as many as are live) are dead. */
const COMPACT_MIN = 64;

interface Log {
  readonly kind: LogKind;
  readonly key: string;
  /** Last seq handed out; never decreases, also when the log is empty. */
  lastSeq: number;
  entries: Array<Entry | undefined>;
  head: number;
  /** Per-device acked positions (user logs only). */
  cursors: Map<string, number> | undefined;
}

interface Entry {
  readonly env: Envelope;
  readonly bytes: number;
  readonly log: Log;
}

interface DedupEntry {
  readonly serverId: string;
  readonly seq: number;
  readonly timestampMs: number;
}

/** What a message counts against `maxBytes`: payload, strings (1 byte per char) and a fixed overhead. */
export function storedBytes(m: NewMessage): number {
  const strings =
    m.fromUser.length +
    m.fromDevice.length +
    m.toUser.length +
    m.topic.length +
    m.clientMsgId.length +
    m.fromService.length;
  return ENTRY_OVERHEAD_BYTES + m.payload.byteLength + strings;
}

/** `${kind}${fromUser.length}:${fromUser}${clientMsgId}`: length-prefixed, so no two pairs collide. */
function makeDedupKey(kind: LogKind, fromUser: string, clientMsgId: string): string {
  return `${kind}${fromUser.length}:${fromUser}${clientMsgId}`;
}

function parseDedupKey(key: string): { kind: LogKind; fromUser: string; clientMsgId: string } {
  const colon = key.indexOf(':');
  const end = colon + 1 + Number(key.slice(1, colon));
  return { kind: key[0] as LogKind, fromUser: key.slice(colon + 1, end), clientMsgId: key.slice(end) };
}

function liveCount(log: Log): number {
  return log.entries.length - log.head;
}

function firstSeq(log: Log): number {
  return log.lastSeq - liveCount(log) + 1;
}

/** In-process MessageStore with per-log seqs, dedup, retention, device cursors and snapshots. */
export class MemoryMessageStore implements MessageStore {
  private readonly opts: Required<MemoryMessageStoreOptions>;
  private readonly now: () => number;
  private readonly users = new Map<string, Log>();
  private readonly topics = new Map<string, Log>();
  /** Keyed by makeDedupKey(). */
  private readonly dedup = new Map<string, DedupEntry>();
  /**
   * Dedup entries oldest first. Evicting through the Map's own iterator is not O(1): V8 leaves deleted
   * slots in place, and every `keys().next()` walks over them (7 -> 184 us per append at 200k entries).
   */
  private dedupOrder: Array<{ key: string; entry: DedupEntry } | undefined> = [];
  private dedupHead = 0;
  private queue: Array<Entry | undefined> = [];
  private queueHead = 0;
  private stale = 0;
  private messages = 0;
  private bytes = 0;
  private counter = 0;
  private closed = false;
  private sweepTimer: NodeJS.Timeout | undefined;

  /** Throws ConfigError when a limit is out of range. */
  constructor(opts: MemoryMessageStoreOptions) {
    this.opts = { maxDedupEntries: 200_000, sweepIntervalMs: 5_000, now: Date.now, ...opts };
    const o = this.opts;
    if (!Number.isInteger(o.maxMessagesPerLog) || o.maxMessagesPerLog < 1) {
      throw new ConfigError(`store.maxMessagesPerLog must be a positive integer, got ${o.maxMessagesPerLog}`);
    }
    if (!(o.retentionMs > 0)) throw new ConfigError(`store.retentionMs must be > 0, got ${o.retentionMs}`);
    if (!(o.dedupWindowMs >= 0))
      throw new ConfigError(`store.dedupWindowMs must be >= 0, got ${o.dedupWindowMs}`);
    if (!(o.maxBytes > 0)) throw new ConfigError(`store.maxBytes must be > 0, got ${o.maxBytes}`);
    this.now = o.now;
    if (o.sweepIntervalMs > 0) {
      this.sweepTimer = setInterval(() => this.sweep(), o.sweepIntervalMs);
      this.sweepTimer.unref(); // never keeps the process alive on its own
    }
  }

  /**
   * Loads the snapshot at `path` into a new store with limits `opts` (which apply at once: a smaller
   * cap trims on load). A missing file gives an empty store; an unreadable or corrupt one rejects with
   * a SnapshotError naming the file (`reason` 'corrupt' or 'io'). The file is left in place: delete
   * it after a successful load, or a crash before the next drain would restore it again and reuse
   * sequence numbers handed out since.
   */
  static async loadSnapshot(path: string, opts: MemoryMessageStoreOptions): Promise<MemoryMessageStore> {
    const store = new MemoryMessageStore(opts);
    try {
      await readSnapshot(path, store.restoreSink());
    } catch (err) {
      await store.close();
      throw err;
    }
    store.sweep();
    return store;
  }

  /**
   * Writes logs, seq counters, cursors and dedup entries to `path` atomically (temporary file, fsync,
   * rename). The state is captured synchronously, so appends during the write are simply not in it.
   * Works after close() too. Rejects with a SnapshotError (`reason` 'io').
   */
  async saveSnapshot(path: string): Promise<void> {
    await writeSnapshot(path, this.view());
  }

  appendToUser(msg: NewMessage): Promise<AppendResult> {
    return this.append(msg, 'u', msg.toUser, this.users);
  }

  appendToTopic(msg: NewMessage): Promise<AppendResult> {
    return this.append(msg, 't', msg.topic, this.topics);
  }

  async readUser(userId: string, afterSeq: number, limit: number): Promise<Envelope[]> {
    return this.read(this.users.get(userId), afterSeq, limit);
  }

  async readTopic(topic: string, afterSeq: number, limit: number): Promise<Envelope[]> {
    return this.read(this.topics.get(topic), afterSeq, limit);
  }

  /** Cumulative: a lower seq is ignored; a seq past lastUserSeq is clamped to it. */
  async ackUser(userId: string, deviceId: string, seq: number): Promise<void> {
    this.assertOpen();
    const log = this.users.get(userId);
    if (log === undefined) return; // nothing was ever stored: the clamp makes any ack 0
    const target = Math.min(Math.floor(seq), log.lastSeq);
    log.cursors ??= new Map();
    if (target > (log.cursors.get(deviceId) ?? 0)) log.cursors.set(deviceId, target);
  }

  async userCursor(userId: string, deviceId: string): Promise<number> {
    this.assertOpen();
    return this.users.get(userId)?.cursors?.get(deviceId) ?? 0;
  }

  async lastUserSeq(userId: string): Promise<number> {
    this.assertOpen();
    return this.users.get(userId)?.lastSeq ?? 0;
  }

  async lastTopicSeq(topic: string): Promise<number> {
    this.assertOpen();
    return this.topics.get(topic)?.lastSeq ?? 0;
  }

  /** `users`/`topics` count logs that ever held a message (their seq counters are kept forever). */
  stats(): MemoryStoreStats {
    const { users, topics, messages, bytes, dedup } = this;
    return { users: users.size, topics: topics.size, messages, bytes, dedupEntries: dedup.size };
  }

  /** Stops the sweep; later operations reject. Data stays readable by saveSnapshot(). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Drops what is past retention: expired entries and dedup entries. Runs on a timer and on access. */
  sweep(): void {
    const now = this.now();
    this.expireEntries(now);
    this.expireDedup(now);
  }

  private async append(msg: NewMessage, kind: LogKind, key: string, logs: Map<string, Log>) {
    this.assertOpen();
    if (msg.qos !== 1) throw new StoreError('only QoS-1 messages are stored');
    if (key === '')
      throw new StoreError(kind === 'u' ? 'user message without toUser' : 'topic message without topic');
    const now = this.now();
    this.expireDedup(now);
    const dedupKey = msg.clientMsgId === '' ? '' : makeDedupKey(kind, dedupSender(msg), msg.clientMsgId);
    if (dedupKey !== '' && this.opts.dedupWindowMs > 0) {
      const first = this.dedup.get(dedupKey);
      if (first !== undefined) return { ...first, duplicate: true };
    }
    const { payload, fromUser, fromDevice, toUser, topic, clientMsgId, fromService } = msg;
    const bytes = storedBytes(msg);
    if (bytes > this.opts.maxBytes) {
      throw new StoreError(`message of ${bytes} bytes exceeds store.maxBytes (${this.opts.maxBytes})`);
    }
    let log = logs.get(key);
    if (log === undefined) {
      log = { kind, key, lastSeq: 0, entries: [], head: 0, cursors: undefined };
      logs.set(key, log);
    }
    const seq = ++log.lastSeq;
    const serverId = `${this.opts.nodeId}-${now.toString(36)}-${(this.counter++).toString(36)}`;
    const env: Envelope = Object.freeze({
      serverId,
      seq,
      fromUser,
      fromDevice,
      toUser,
      topic,
      // A private copy: the caller's bytes may be a view into a larger, reused receive buffer.
      payload: new Uint8Array(payload),
      timestampMs: now,
      qos: 1 as const,
      clientMsgId,
      ephemeral: msg.ephemeral,
      fromService,
    });
    this.push(log, { env, bytes, log });
    if (dedupKey !== '' && this.opts.dedupWindowMs > 0) {
      this.rememberDedup(dedupKey, { serverId, seq, timestampMs: now });
      while (this.dedup.size > this.opts.maxDedupEntries) this.dropOldestDedup();
    }
    this.expireEntries(now);
    return { serverId, seq, timestampMs: now, duplicate: false };
  }

  /** Adds an entry (seq already assigned) and enforces the count and byte caps. */
  private push(log: Log, entry: Entry): void {
    log.entries.push(entry);
    this.queue.push(entry);
    this.messages++;
    this.bytes += entry.bytes;
    while (liveCount(log) > this.opts.maxMessagesPerLog) {
      this.dropFront(log);
      this.stale++; // its global-queue slot is now dead
    }
    while (this.bytes > this.opts.maxBytes) this.removeOldest(this.peekOldest()!); // bytes > 0: not empty
    this.maybeCompactQueue();
  }

  private read(log: Log | undefined, afterSeq: number, limit: number): Envelope[] {
    this.assertOpen();
    // Expire first, whatever the read asks for: every access sees retention applied (stats included).
    this.expireEntries(this.now());
    if (log === undefined || !(limit >= 1)) return [];
    const skip = afterSeq >= 0 ? Math.max(0, Math.floor(afterSeq) + 1 - firstSeq(log)) : 0;
    const from = log.head + skip;
    const to = from + Math.floor(Math.min(limit, log.entries.length - from));
    const out: Envelope[] = [];
    for (let i = from; i < to; i++) out.push(log.entries[i]!.env);
    return out;
  }

  /** Removes the oldest live entry of `log`. */
  private dropFront(log: Log): void {
    const entry = log.entries[log.head]!;
    log.entries[log.head++] = undefined;
    this.messages--;
    this.bytes -= entry.bytes;
    const live = liveCount(log);
    if (live === 0) {
      log.entries = [];
      log.head = 0;
    } else if (log.head >= COMPACT_MIN && log.head >= live) {
      // Amortised O(1): the copy moves `live` slots after at least `live` evictions.
      log.entries.copyWithin(0, log.head);
      log.entries.length = live;
      log.head = 0;
    }
  }

  /** Skips dead slots at the front of the age queue; returns the oldest live entry, left in place. */
  private peekOldest(): Entry | undefined {
    while (this.queueHead < this.queue.length) {
      const entry = this.queue[this.queueHead]!;
      if (entry.env.seq >= firstSeq(entry.log)) return entry;
      this.queue[this.queueHead++] = undefined;
      this.stale--;
    }
    return undefined;
  }

  /** Removes what peekOldest() returned; being the oldest of all, it is the oldest of its log too. */
  private removeOldest(entry: Entry): void {
    this.queue[this.queueHead++] = undefined;
    this.dropFront(entry.log);
  }

  private expireEntries(now: number): void {
    const horizon = now - this.opts.retentionMs;
    for (let e = this.peekOldest(); e !== undefined && e.env.timestampMs <= horizon; e = this.peekOldest()) {
      this.removeOldest(e);
    }
    this.maybeCompactQueue();
  }

  /**
   * Rebuilds the age queue without dead slots (popped ones before the head, stale ones after it)
   * once they outnumber the live ones: amortised O(1), since each rebuild costs < 2x the dead slots.
   */
  private maybeCompactQueue(): void {
    const dead = this.queueHead + this.stale;
    if (dead < COMPACT_MIN || dead <= this.messages) return;
    const kept: Array<Entry | undefined> = [];
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      if (e.env.seq >= firstSeq(e.log)) kept.push(e);
    }
    this.queue = kept;
    this.queueHead = 0;
    this.stale = 0;
  }

  private expireDedup(now: number): void {
    const horizon = now - this.opts.dedupWindowMs;
    while (this.dedupHead < this.dedupOrder.length) {
      const first = this.dedupOrder[this.dedupHead];
      if (first !== undefined && first.entry.timestampMs > horizon) break;
      this.dropOldestDedup();
    }
  }

  private rememberDedup(key: string, entry: DedupEntry): void {
    this.dedup.set(key, entry);
    this.dedupOrder.push({ key, entry });
  }

  /** Forgets the oldest dedup entry (unless its key was re-used since, by a newer entry). */
  private dropOldestDedup(): void {
    const first = this.dedupOrder[this.dedupHead];
    this.dedupOrder[this.dedupHead++] = undefined;
    if (first !== undefined && this.dedup.get(first.key) === first.entry) this.dedup.delete(first.key);
    if (this.dedupHead > 1024 && this.dedupHead * 2 > this.dedupOrder.length) {
      this.dedupOrder = this.dedupOrder.slice(this.dedupHead);
      this.dedupHead = 0;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('message store is closed');
  }

  private view(): SnapshotView {
    const logs: SnapshotView['logs'] = [];
    const cursors: SnapshotView['cursors'] = [];
    for (const log of [...this.users.values(), ...this.topics.values()]) {
      logs.push([log.kind, log.key, log.lastSeq]);
      for (const [device, seq] of log.cursors ?? []) cursors.push([log.key, device, seq]);
    }
    const messages: SnapshotView['messages'] = [];
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      if (e.env.seq >= firstSeq(e.log)) messages.push([e.log.kind, e.env]);
    }
    const dedup: DedupRecord[] = [];
    for (const [key, d] of this.dedup) {
      dedup.push({ ...parseDedupKey(key), ...d });
    }
    const { nodeId } = this.opts;
    return { nodeId, savedAtMs: this.now(), counter: this.counter, logs, messages, cursors, dedup };
  }

  /** Rebuilds state record by record; throws (= corrupt file) on anything the writer cannot produce. */
  private restoreSink(): SnapshotSink {
    const logsOf = (kind: LogKind) => (kind === 'u' ? this.users : this.topics);
    const saved = new Map<Log, number>();
    return {
      header: (counter) => {
        this.counter = counter;
      },
      log: (kind, key, lastSeq) => {
        if (key === '' || logsOf(kind).has(key))
          throw new Error(`bad or repeated log ${JSON.stringify(key)}`);
        const log: Log = { kind, key, lastSeq: 0, entries: [], head: 0, cursors: undefined };
        logsOf(kind).set(key, log);
        saved.set(log, lastSeq);
      },
      message: (kind, env) => {
        const log = logsOf(kind).get(kind === 'u' ? env.toUser : env.topic);
        if (log === undefined) throw new Error('message before its log');
        // While loading, lastSeq tracks the newest loaded entry so the log stays contiguous (push()
        // relies on it); end() checks it against the saved counter and restores that.
        if (env.seq < 1 || env.seq > saved.get(log)! || (log.lastSeq !== 0 && env.seq !== log.lastSeq + 1)) {
          throw new Error(`seq ${env.seq} out of order in log ${JSON.stringify(log.key)}`);
        }
        log.lastSeq = env.seq;
        this.push(log, { env: Object.freeze(env), bytes: storedBytes(env), log });
      },
      cursor: (userId, deviceId, seq) => {
        const log = this.users.get(userId);
        if (log === undefined || seq > saved.get(log)!) throw new Error('cursor without its log');
        (log.cursors ??= new Map()).set(deviceId, seq);
      },
      dedup: (d) => {
        const { serverId, seq, timestampMs } = d;
        this.rememberDedup(makeDedupKey(d.kind, d.fromUser, d.clientMsgId), { serverId, seq, timestampMs });
      },
      end: () => {
        for (const [log, lastSeq] of saved) {
          // The newest entry of a log is never evicted before older ones, so the saved counter is it.
          if (log.lastSeq !== 0 && log.lastSeq !== lastSeq)
            throw new Error(`log ${JSON.stringify(log.key)} ends early`);
          log.lastSeq = lastSeq;
        }
      },
    };
  }
}
