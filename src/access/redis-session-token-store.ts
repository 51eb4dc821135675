/**
 * SessionTokenStore in Redis, shared by every node of a cluster: a Logout through any node makes the
 * session's tokens refused at every node's Authenticate as soon as Logout has returned (no cache of
 * "not revoked" answers, so the bound is zero while Redis is up; a connect costs one GET).
 *
 * Keys (docs/cluster.md, "Keys"); every call looks a session up by its id alone, so a session's two
 * keys share the tag `{ls:<sid>}` and each script touches one slot of a Redis Cluster:
 * - `<p>:{ls:<sid>}:session`  hash of the record, PEXPIREAT its expiry;
 * - `<p>:{ls:<sid>}:revoked`  string (revoked until, ms), PXAT that time;
 * - `<p>:{u:<user>}:login-sessions` sorted set sid -> expiry (ListSessions), PEXPIREAT the newest;
 * - `<p>:{login-sessions}:active` sorted set sid -> expiry of every live session (Stats' count).
 *
 * Redis failures: writes and lookups other than isRevoked throw StoreError (gRPC UNAVAILABLE, retry
 * advised). isRevoked fails OPEN: while Redis is unreachable a token is refused only if this node
 * already knows its session is revoked (it revoked it, or saw the revocation in Redis); the failure is
 * logged (at most every 5 s) and counted. Refusing every session token instead would turn a Redis
 * outage into a login outage for the message nodes that ask this node (ValidateToken).
 */
import { escapeTagPart } from '../store/redis/keys.js';
import { StoreError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { LoginSessionRecord, SessionTokenStore } from './session-token-store.js';

/** The one Redis call this store needs (RedisLink implements it): a command routed by `key`. */
export interface RedisCommandLink {
  call<T>(key: string | undefined, args: string[]): Promise<T>;
}

export interface RedisSessionTokenStoreOptions {
  link: RedisCommandLink;
  /** `redis.keyPrefix` (no braces). */
  keyPrefix: string;
  logger: Logger;
  /** Called for every Redis error (the cluster's Redis error counter). */
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** Record fields in hash order (HMGET reads them back in this order). */
const FIELDS = ['userId', 'deviceId', 'createdAtMs', 'expiresAtMs', 'lastSeenMs', 'createdBy', 'labels'];

/** Replaces the record and sets its expiry. KEYS: session. ARGV: FIELDS values in order. */
const SAVE = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'userId', ARGV[1], 'deviceId', ARGV[2], 'createdAtMs', ARGV[3],
  'expiresAtMs', ARGV[4], 'lastSeenMs', ARGV[5], 'createdBy', ARGV[6], 'labels', ARGV[7])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return 1`;

/**
 * Moves expiry and last-seen forward only (as the memory store does). KEYS: session, revoked.
 * ARGV: new expiry or '', new last-seen or ''. Returns false when unknown, else {userId, expiry, revoked}.
 */
const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local exp = tonumber(redis.call('HGET', KEYS[1], 'expiresAtMs'))
if ARGV[1] ~= '' and tonumber(ARGV[1]) > exp then
  exp = tonumber(ARGV[1])
  redis.call('HSET', KEYS[1], 'expiresAtMs', ARGV[1])
  redis.call('PEXPIREAT', KEYS[1], exp)
end
if ARGV[2] ~= '' and tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'lastSeenMs')) then
  redis.call('HSET', KEYS[1], 'lastSeenMs', ARGV[2])
end
return {redis.call('HGET', KEYS[1], 'userId'), tostring(exp), redis.call('EXISTS', KEYS[2])}`;

/**
 * Revokes until max(ARGV[1], the current revocation). KEYS: session, revoked. ARGV: until, now.
 * Returns {1 if it was already revoked else 0, userId or ''}. A time already past revokes nothing
 * (its tokens have expired anyway) and SET PXAT would refuse it.
 */
const REVOKE = `
local cur = redis.call('GET', KEYS[2])
local untilMs = tonumber(ARGV[1])
if cur and tonumber(cur) > untilMs then untilMs = tonumber(cur) end
if untilMs > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], tostring(untilMs), 'PXAT', untilMs)
end
return {cur and 1 or 0, redis.call('HGET', KEYS[1], 'userId') or ''}`;

/**
 * Adds (ARGV[3] = 'add') or removes a session in a user's index, drops expired members and keeps the
 * key alive until its newest member expires. KEYS: user index. ARGV: sid, expiry, mode, now.
 */
const INDEX = `
if ARGV[3] == 'add' then redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
else redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
local newest = redis.call('ZRANGE', KEYS[1], 0, 0, 'REV', 'WITHSCORES')
if newest[2] then redis.call('PEXPIREAT', KEYS[1], newest[2]) end
return 1`;

/** How often an unreachable Redis is logged by isRevoked. */
const LOG_EVERY_MS = 5000;
/** How often revocations known locally are swept. */
const SWEEP_MS = 60_000;

/** SessionTokenStore shared through Redis (standalone or Redis Cluster). */
export class RedisSessionTokenStore implements SessionTokenStore {
  private readonly link: RedisCommandLink;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly onError: (err: unknown) => void;
  private readonly now: () => number;
  /** Revocations this node made or read (sid -> until): what isRevoked answers while Redis is down. */
  private readonly knownRevoked = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private lastLogMs = 0;

  constructor(opts: RedisSessionTokenStoreOptions) {
    this.link = opts.link;
    this.prefix = opts.keyPrefix;
    this.log = opts.logger;
    this.onError = opts.onError ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  async save(r: LoginSessionRecord): Promise<void> {
    const key = this.sessionKey(r.sessionId);
    const values = [
      r.userId,
      r.deviceId,
      String(r.createdAtMs),
      String(r.expiresAtMs),
      String(r.lastSeenMs),
      r.createdBy,
      JSON.stringify(r.labels),
    ];
    await this.run('save', async () => {
      await this.eval(key, SAVE, [key], values);
      await this.index(r.userId, r.sessionId, r.expiresAtMs, 'add');
      await this.link.call(this.activeKey(), ['ZADD', this.activeKey(), String(r.expiresAtMs), r.sessionId]);
    });
  }

  async get(sessionId: string): Promise<LoginSessionRecord | undefined> {
    const record = await this.run('get', () => this.read(sessionId));
    return record !== undefined && record.expiresAtMs > this.now() ? record : undefined;
  }

  async listByUser(userId: string): Promise<LoginSessionRecord[]> {
    const key = this.userKey(userId);
    const now = this.now();
    return this.run('list', async () => {
      const ids = await this.link.call<string[]>(key, ['ZRANGE', key, `(${now}`, '+inf', 'BYSCORE']);
      const found = await Promise.all(
        ids.map(async (sid) => {
          const [record, revoked] = await Promise.all([this.read(sid), this.readRevoked(sid)]);
          const live = record !== undefined && record.userId === userId && record.expiresAtMs > now;
          return live && !revoked ? record : undefined;
        }),
      );
      return found.filter((r) => r !== undefined).sort((a, b) => a.createdAtMs - b.createdAtMs);
    });
  }

  async update(sessionId: string, change: { expiresAtMs?: number; lastSeenMs?: number }): Promise<void> {
    const keys = [this.sessionKey(sessionId), this.revokedKey(sessionId)];
    const args = [String(change.expiresAtMs ?? ''), String(change.lastSeenMs ?? '')];
    await this.run('update', async () => {
      const res = await this.eval<[string, string, number] | null>(keys[0]!, UPDATE, keys, args);
      if (res === null || change.expiresAtMs === undefined || res[2] === 1) return;
      // A refresh moves the session's place in both indexes (GT: never backwards).
      await this.index(res[0], sessionId, Number(res[1]), 'add');
      await this.link.call(this.activeKey(), ['ZADD', this.activeKey(), 'GT', res[1], sessionId]);
    });
  }

  async revoke(sessionId: string, untilMs: number): Promise<boolean> {
    const now = this.now();
    // Known here before Redis is asked: this node refuses the session even if the write fails.
    if (untilMs > now)
      this.knownRevoked.set(sessionId, Math.max(untilMs, this.knownRevoked.get(sessionId) ?? 0));
    const keys = [this.sessionKey(sessionId), this.revokedKey(sessionId)];
    return this.run('revoke', async () => {
      const [already, userId] = await this.eval<[number, string]>(keys[0]!, REVOKE, keys, [
        String(untilMs),
        String(now),
      ]);
      if (userId !== '') await this.index(userId, sessionId, 0, 'remove');
      await this.link.call(this.activeKey(), ['ZREM', this.activeKey(), sessionId]);
      return already !== 1;
    });
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    try {
      return await this.readRevoked(sessionId);
    } catch (err) {
      this.onError(err);
      const now = this.now();
      if (now - this.lastLogMs >= LOG_EVERY_MS) {
        this.lastLogMs = now;
        this.log.warn(
          { err: (err as Error).message },
          'session store unreachable: accepting session tokens not known to be revoked',
        );
      }
      return (this.knownRevoked.get(sessionId) ?? 0) > now;
    }
  }

  async activeCount(): Promise<number> {
    const key = this.activeKey();
    return this.run('count', async () => {
      await this.link.call(key, ['ZREMRANGEBYSCORE', key, '-inf', String(this.now())]);
      return Number(await this.link.call<number>(key, ['ZCARD', key]));
    });
  }

  /** Stops the sweep; the Redis connection belongs to the cluster layer. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.timer);
  }

  /** Drops local revocations whose tokens have expired. */
  sweep(): void {
    const now = this.now();
    for (const [id, until] of this.knownRevoked) if (until <= now) this.knownRevoked.delete(id);
  }

  private async read(sessionId: string): Promise<LoginSessionRecord | undefined> {
    const key = this.sessionKey(sessionId);
    const v = await this.link.call<(string | null)[]>(key, ['HMGET', key, ...FIELDS]);
    const [userId, deviceId, createdAtMs, expiresAtMs, lastSeenMs, createdBy, labels] = v;
    if (userId == null || expiresAtMs == null) return undefined;
    return {
      sessionId,
      userId,
      deviceId: deviceId ?? '',
      createdAtMs: Number(createdAtMs),
      expiresAtMs: Number(expiresAtMs),
      lastSeenMs: Number(lastSeenMs),
      createdBy: createdBy ?? '',
      labels: parseLabels(labels),
    };
  }

  /** One GET: the value is the revocation's end, remembered locally for the fail-open path. */
  private async readRevoked(sessionId: string): Promise<boolean> {
    const key = this.revokedKey(sessionId);
    const until = await this.link.call<string | null>(key, ['GET', key]);
    if (until === null) return false;
    this.knownRevoked.set(sessionId, Number(until));
    return true;
  }

  private index(
    userId: string,
    sessionId: string,
    expiresAtMs: number,
    mode: 'add' | 'remove',
  ): Promise<unknown> {
    const key = this.userKey(userId);
    return this.eval(key, INDEX, [key], [sessionId, String(expiresAtMs), mode, String(this.now())]);
  }

  private eval<T>(route: string, script: string, keys: string[], args: string[]): Promise<T> {
    return this.link.call<T>(route, ['EVAL', script, String(keys.length), ...keys, ...args]);
  }

  /** Runs Redis work; any failure becomes a retryable StoreError (gRPC UNAVAILABLE). */
  private async run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.onError(err);
      throw new StoreError(`session store unavailable (${op}): ${(err as Error).message}`, { cause: err });
    }
  }

  private sessionKey(sessionId: string): string {
    return `${this.prefix}:{ls:${escapeTagPart(sessionId)}}:session`;
  }

  private revokedKey(sessionId: string): string {
    return `${this.prefix}:{ls:${escapeTagPart(sessionId)}}:revoked`;
  }

  private userKey(userId: string): string {
    return `${this.prefix}:{u:${escapeTagPart(userId)}}:login-sessions`;
  }

  private activeKey(): string {
    return `${this.prefix}:{login-sessions}:active`;
  }
}

/** Labels as saved (a JSON object of strings); anything else reads as no labels. */
function parseLabels(text: string | null | undefined): Record<string, string> {
  if (text == null) return {};
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    return Object.fromEntries(
      Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  } catch {
    return {};
  }
}
