/**
 * Presence in Redis: one hash per user, `{user:<id>}:presence`, device -> [sessionId, nodeId,
 * transport, sinceMs] (JSON). Adds and removes are Lua scripts, so "replace the device's entry" and
 * "remove only if it is still this session's" are atomic, and they PUBLISH the online/offline events
 * that watch() listeners on every node receive. The key has a TTL that the nodes holding sessions of
 * the user refresh (every TTL/3); entries of nodes whose liveness key has expired are ignored on read
 * and deleted (with an offline event).
 *
 * For routing, the bus asks `cachedNodes` (no Redis round trip; entries live `presenceCacheMs` and are
 * dropped on any presence event of the user) or `lookupNodes` (a fresh read, used for QoS 1: a QoS-1
 * message is routed on a read issued after it was stored, so a device that connected meanwhile either
 * shows up here or finds the message in its replay — see docs/cluster.md, "Ordering of presence and
 * replay"). The Redis message store reads the hash inside each user append (`noteAppendRead`), which
 * is such a read without a round trip of its own: `lookupNodes(user, seq)` uses it.
 */
import { GatewayError, PresenceUnavailableError } from '../errors.js';
import type { Presence, PresenceEntry, PresenceEvent, PresenceListener } from '../bus/presence.js';
import type { Logger } from '../observability/logger.js';
import type { TransportKind } from '../transport/transport.js';
import type { ClusterKeys } from './keys.js';
import type { NodeLiveness } from './node-liveness.js';
import type { RedisLink } from './redis-link.js';

// KEYS[1] hash; ARGV device, value, ttlMs, channel, userId. Replaces the device's entry; announces both.
const ADD_SCRIPT = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if old then redis.call('PUBLISH', ARGV[4], cjson.encode({'offline', ARGV[5], ARGV[1], old})) end
redis.call('PUBLISH', ARGV[4], cjson.encode({'online', ARGV[5], ARGV[1], ARGV[2]}))
return 1`;

// KEYS[1] hash; ARGV device, sessionId, channel, userId. Removes only the named session's entry.
const REMOVE_SCRIPT = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
local ok, v = pcall(cjson.decode, old)
if ok and type(v) == 'table' and v[1] ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[3], cjson.encode({'offline', ARGV[4], ARGV[1], old}))
return 1`;

// KEYS[1] hash; ARGV device, value, ttlMs. Re-asserts this node's entry unless another session took it.
const REFRESH_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cur ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/** Constructor options of RedisPresence. */
export interface RedisPresenceOptions {
  link: RedisLink;
  keys: ClusterKeys;
  nodeId: string;
  liveness: NodeLiveness;
  ttlMs: number;
  cacheMs: number;
  logger: Logger;
  onError: (op: string, err: unknown) => void;
}

/** Most users kept in the routing cache; past it the cache starts over (it is only a cache). */
const MAX_CACHED_USERS = 200_000;
/** Most unused append-time reads kept; each is normally used within a turn of being noted. */
const MAX_APPEND_READS = 10_000;
/** Refresh scripts sent per event-loop turn, so a node with many users does not flood Redis. */
const REFRESH_CHUNK = 500;

interface Cached {
  nodes: readonly string[];
  atMs: number;
}

/** A user's presence hash as read by the store right after appending `seq` to the user's log. */
interface AppendRead {
  seq: number;
  hash: readonly Buffer[];
}

/** Cluster-wide Presence on Redis. Call start() before use. */
export class RedisPresence implements Presence {
  private readonly o: RedisPresenceOptions;
  private sub: RedisLink | null = null;
  private readonly listeners = new Set<PresenceListener>();
  /** Entries added through this instance (this node's sessions): refreshed, and answer hasLocal(). */
  private readonly local = new Map<string, Map<string, string>>();
  private readonly cache = new Map<string, Cached>();
  private readonly appendReads = new Map<string, AppendRead>();
  /** Bumped on every presence event: a look-up that saw a bump while in flight is not cached. */
  private epoch = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(opts: RedisPresenceOptions) {
    this.o = opts;
  }

  /** Subscribes to presence events and starts the TTL refresher. */
  async start(): Promise<void> {
    this.sub = await this.o.link.duplicate('presence-events');
    await this.sub.subscribe(this.o.keys.presenceChannel(), (m) => this.onEvent(m));
    this.timer = setInterval(() => void this.refresh(), Math.max(1000, Math.floor(this.o.ttlMs / 3)));
    this.timer.unref();
  }

  async add(entry: PresenceEntry): Promise<void> {
    this.assertOpen();
    const value = encodeValue(entry);
    let devices = this.local.get(entry.userId);
    if (devices === undefined) this.local.set(entry.userId, (devices = new Map()));
    devices.set(entry.deviceId, value);
    const { keys, ttlMs } = this.o;
    const key = keys.presence(entry.userId);
    const args = [entry.deviceId, value, String(ttlMs), keys.presenceChannel(), entry.userId];
    await this.track(this.o.link.call(key, ['EVAL', ADD_SCRIPT, '1', key, ...args]));
  }

  async remove(userId: string, deviceId: string, sessionId: string): Promise<void> {
    const devices = this.local.get(userId);
    const mine = devices?.get(deviceId);
    if (mine !== undefined && decodeValue(userId, deviceId, mine)?.sessionId === sessionId) {
      devices!.delete(deviceId);
      if (devices!.size === 0) this.local.delete(userId);
    }
    if (this.closed) return;
    await this.track(this.removeScript(userId, deviceId, sessionId));
  }

  private removeScript(userId: string, deviceId: string, sessionId: string): Promise<unknown> {
    const { keys } = this.o;
    const key = keys.presence(userId);
    const args = [deviceId, sessionId, keys.presenceChannel(), userId];
    return this.o.link.call(key, ['EVAL', REMOVE_SCRIPT, '1', key, ...args]);
  }

  async query(userIds: readonly string[]): Promise<Map<string, PresenceEntry[]>> {
    this.assertOpen();
    const out = new Map<string, PresenceEntry[]>();
    let found: PresenceEntry[][];
    try {
      found = await this.track(this.readUsers(userIds));
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw new PresenceUnavailableError('redis presence: reading presence failed', { cause: err });
    }
    userIds.forEach((u, i) => out.set(u, found[i]!));
    return out;
  }

  watch(listener: PresenceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True when a session of `userId` was added through this node and not removed. */
  hasLocal(userId: string): boolean {
    return this.local.has(userId);
  }

  /** Local (user, device) count, for /stats. */
  localCounts(): { users: number; devices: number } {
    let devices = 0;
    for (const d of this.local.values()) devices += d.size;
    return { users: this.local.size, devices };
  }

  /** Live nodes holding `userId` from the cache, or undefined when not cached (or expired). */
  cachedNodes(userId: string): readonly string[] | undefined {
    const c = this.cache.get(userId);
    if (c === undefined) return undefined;
    if (Date.now() - c.atMs >= this.o.cacheMs) {
      this.cache.delete(userId);
      return undefined;
    }
    return c.nodes;
  }

  /**
   * The store read `userId`'s presence hash atomically after appending `seq` (RedisMessageStore
   * `appendReadsHash`). Kept for the look-up that routes that message; a later seq replaces it.
   */
  noteAppendRead(userId: string, seq: number, hash: readonly Buffer[]): void {
    const prev = this.appendReads.get(userId);
    if (prev !== undefined && prev.seq > seq) return;
    if (prev === undefined && this.appendReads.size >= MAX_APPEND_READS) this.appendReads.clear();
    this.appendReads.set(userId, { seq, hash });
  }

  /**
   * Live nodes holding `userId`, read from Redis now (and cached when no event raced the read). With
   * `afterSeq`, a read the store made after appending that seq (or a later one) of the user's log
   * answers instead: it is as fresh as the QoS-1 routing rule needs. It is kept for a message of a
   * later seq it also follows (appends to one user in one script call, whose reads come back together)
   * and dropped once the message of its own seq used it.
   */
  async lookupNodes(userId: string, afterSeq = 0): Promise<readonly string[]> {
    const noted = this.appendReads.get(userId);
    if (noted !== undefined && afterSeq > 0 && noted.seq >= afterSeq) {
      if (noted.seq === afterSeq) this.appendReads.delete(userId);
      const [entries] = await this.liveOnly([entriesOfFlat(userId, noted.hash)]);
      return nodesOf(entries!);
    }
    const epoch = this.epoch;
    const [entries] = await this.readUsers([userId]);
    const nodes = nodesOf(entries!);
    if (epoch === this.epoch && this.o.cacheMs > 0) {
      if (this.cache.size >= MAX_CACHED_USERS) this.cache.clear();
      this.cache.set(userId, { nodes, atMs: Date.now() });
    }
    return nodes;
  }

  /** Reads the users' hashes (pipelined), drops and cleans entries of dead nodes. */
  private async readUsers(userIds: readonly string[]): Promise<PresenceEntry[][]> {
    const { link, keys } = this.o;
    const raw = await Promise.all(
      userIds.map((u) => link.call<Record<string, string>>(keys.presence(u), ['HGETALL', keys.presence(u)])),
    );
    return this.liveOnly(
      raw.map((hash, i) => {
        const entries: PresenceEntry[] = [];
        for (const [deviceId, value] of Object.entries(hash ?? {})) {
          const e = decodeValue(userIds[i]!, deviceId, value);
          if (e !== null) entries.push(e);
        }
        return entries;
      }),
    );
  }

  /** Drops (and cleans) entries of dead nodes. */
  private async liveOnly(parsed: PresenceEntry[][]): Promise<PresenceEntry[][]> {
    const nodeIds = new Set<string>();
    for (const entries of parsed) for (const e of entries) nodeIds.add(e.nodeId);
    if (nodeIds.size === 0) return parsed;
    const alive = await this.o.liveness.aliveOf(nodeIds);
    return parsed.map((entries) =>
      entries.filter((e) => {
        if (alive.has(e.nodeId)) return true;
        this.clean(e);
        return false;
      }),
    );
  }

  /**
   * A dead node cannot remove its own entries: do it for it (announcing the device offline), after
   * asking Redis again without the cache — a node that was only cut off for a moment re-asserts its
   * entries when it is back (NodeLiveness onRevived), and a stale "dead" must not undo that.
   */
  private clean(e: PresenceEntry): void {
    this.o.liveness
      .confirmedDead(e.nodeId)
      .then((dead) => (dead ? this.removeScript(e.userId, e.deviceId, e.sessionId) : undefined))
      .catch((err: unknown) => this.o.onError('presence-clean', err));
  }

  private onEvent(message: string): void {
    this.epoch++;
    let v: unknown;
    try {
      v = JSON.parse(message);
    } catch {
      return;
    }
    if (!Array.isArray(v) || v.length !== 4 || !v.every((x) => typeof x === 'string')) return;
    const [kind, userId, deviceId, value] = v as string[];
    this.cache.delete(userId!);
    if (kind !== 'online' && kind !== 'offline') return;
    const entry = decodeValue(userId!, deviceId!, value!);
    if (entry === null || this.listeners.size === 0) return;
    const event: PresenceEvent = { kind, entry };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.o.logger.warn({ err }, 'presence watcher threw');
      }
    }
  }

  /** Re-asserts every local entry and its key's TTL now (after this node was presumed dead). */
  refreshNow(): void {
    if (this.closed) return;
    void this.refresh();
    // Once more after other nodes' liveness caches (1 s) have surely expired: a node that still
    // had this one cached as dead may have cleaned an entry just after the first refresh.
    setTimeout(() => {
      if (!this.closed) void this.refresh();
    }, 2500).unref();
  }

  /** Re-asserts every local entry and its key's TTL, a chunk per turn. */
  private async refresh(): Promise<void> {
    const { link, keys, ttlMs } = this.o;
    const now = Date.now();
    for (const [user, c] of this.cache) if (now - c.atMs >= this.o.cacheMs) this.cache.delete(user);
    const work: Promise<unknown>[] = [];
    for (const [userId, devices] of [...this.local]) {
      const key = keys.presence(userId);
      for (const [deviceId, value] of devices) {
        work.push(link.call(key, ['EVAL', REFRESH_SCRIPT, '1', key, deviceId, value, String(ttlMs)]));
      }
      if (work.length >= REFRESH_CHUNK) {
        const failed = await Promise.all(work.splice(0)).then(
          () => false,
          (err: unknown) => (this.o.onError('presence-refresh', err), true),
        );
        if (failed || this.closed) return;
      }
    }
    await Promise.all(work).catch((err: unknown) => this.o.onError('presence-refresh', err));
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = (): void => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private assertOpen(): void {
    if (this.closed) throw new PresenceUnavailableError('presence is closed');
  }

  /**
   * Waits for adds and removes already sent (a session closing during shutdown still clears its
   * entry), then stops listening. Later add() and query() reject; remove() does nothing. Idempotent.
   */
  /**
   * Forgets every cached route. Called when Redis connections had trouble: presence events published
   * meanwhile may never have arrived, and the cache relies on them to drop changed users early.
   */
  dropCache(): void {
    this.cache.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    await Promise.allSettled([...this.inflight]);
    this.listeners.clear();
    this.local.clear();
    this.cache.clear();
    this.appendReads.clear();
    await this.sub?.close();
  }
}

function nodesOf(entries: readonly PresenceEntry[]): string[] {
  const nodes: string[] = [];
  for (const e of entries) if (!nodes.includes(e.nodeId)) nodes.push(e.nodeId);
  return nodes;
}

/** Entries of an HGETALL reply in its flat form (field, value, ...), as a Lua script returns it. */
function entriesOfFlat(userId: string, flat: readonly Buffer[]): PresenceEntry[] {
  const entries: PresenceEntry[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const e = decodeValue(userId, flat[i]!.toString(), flat[i + 1]!.toString());
    if (e !== null) entries.push(e);
  }
  return entries;
}

function encodeValue(e: PresenceEntry): string {
  return JSON.stringify([e.sessionId, e.nodeId, e.transport, e.sinceMs]);
}

function decodeValue(userId: string, deviceId: string, value: string): PresenceEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return null;
  }
  if (!Array.isArray(v) || v.length !== 4) return null;
  const [sessionId, nodeId, transport, sinceMs] = v as unknown[];
  if (typeof sessionId !== 'string' || typeof nodeId !== 'string' || typeof sinceMs !== 'number') return null;
  if (transport !== 'ws' && transport !== 'tcp' && transport !== 'wt') return null;
  return { userId, deviceId, sessionId, nodeId, transport: transport as TransportKind, sinceMs };
}
