/**
 * Login sessions opened through the access gateway, and their revocation. A session lives until its
 * newest token expires; a revoked session is remembered until then too, so that every token of it is
 * refused for as long as it could otherwise be used (revocation TTL = token lifetime).
 *
 * Single node: MemorySessionTokenStore. In a cluster every node must see the same revocations (a
 * token revoked through node 1 must be refused at node 2's Authenticate), so the Redis implementation
 * keeps one hash per session with PEXPIREAT at its expiry, a per-user set of session ids, and a
 * `revoked:<sid>` key with the same expiry; `isRevoked` is one EXISTS.
 */

/** One login session. */
export interface LoginSessionRecord {
  sessionId: string;
  userId: string;
  deviceId: string;
  createdAtMs: number;
  /** Expiry of the newest token issued for it. */
  expiresAtMs: number;
  lastSeenMs: number;
  /** API key name or client certificate subject that opened it. */
  createdBy: string;
  labels: Record<string, string>;
}

/** Where login sessions and revocations are kept (shared across the cluster when it is Redis). */
export interface SessionTokenStore {
  /** Records a new session (or replaces one with the same id). */
  save(record: LoginSessionRecord): Promise<void>;
  /** The session, unless it is unknown or expired (revoked sessions are returned: check isRevoked). */
  get(sessionId: string): Promise<LoginSessionRecord | undefined>;
  /** The user's sessions that are neither expired nor revoked. */
  listByUser(userId: string): Promise<LoginSessionRecord[]>;
  /** Moves the session's expiry (RefreshToken) and/or last-seen time (Heartbeat). No-op when unknown. */
  update(sessionId: string, change: { expiresAtMs?: number; lastSeenMs?: number }): Promise<void>;
  /** Revokes the session until `untilMs`. Resolves false when it was already revoked. */
  revoke(sessionId: string, untilMs: number): Promise<boolean>;
  isRevoked(sessionId: string): Promise<boolean>;
  /** Sessions currently active (for Stats). */
  activeCount(): Promise<number>;
  close(): Promise<void>;
}

/** How often expired entries are swept out of memory. */
const SWEEP_MS = 60_000;

/** In-process SessionTokenStore: exact for one node, and the embedded default. */
export class MemorySessionTokenStore implements SessionTokenStore {
  private readonly sessions = new Map<string, LoginSessionRecord>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly revoked = new Map<string, number>();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  async save(record: LoginSessionRecord): Promise<void> {
    this.sessions.set(record.sessionId, { ...record, labels: { ...record.labels } });
    let set = this.byUser.get(record.userId);
    if (set === undefined) this.byUser.set(record.userId, (set = new Set()));
    set.add(record.sessionId);
  }

  async get(sessionId: string): Promise<LoginSessionRecord | undefined> {
    const r = this.sessions.get(sessionId);
    if (r === undefined || r.expiresAtMs <= this.now()) return undefined;
    return { ...r, labels: { ...r.labels } };
  }

  async listByUser(userId: string): Promise<LoginSessionRecord[]> {
    const out: LoginSessionRecord[] = [];
    const now = this.now();
    for (const id of this.byUser.get(userId) ?? []) {
      const r = this.sessions.get(id);
      if (r !== undefined && r.expiresAtMs > now && !this.revokedAt(id, now))
        out.push({ ...r, labels: { ...r.labels } });
    }
    return out.sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  async update(sessionId: string, change: { expiresAtMs?: number; lastSeenMs?: number }): Promise<void> {
    const r = this.sessions.get(sessionId);
    if (r === undefined) return;
    if (change.expiresAtMs !== undefined) r.expiresAtMs = Math.max(r.expiresAtMs, change.expiresAtMs);
    if (change.lastSeenMs !== undefined) r.lastSeenMs = Math.max(r.lastSeenMs, change.lastSeenMs);
  }

  async revoke(sessionId: string, untilMs: number): Promise<boolean> {
    const already = this.revokedAt(sessionId, this.now());
    this.revoked.set(sessionId, Math.max(untilMs, this.revoked.get(sessionId) ?? 0));
    return !already;
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return this.revokedAt(sessionId, this.now());
  }

  async activeCount(): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const [id, r] of this.sessions) if (r.expiresAtMs > now && !this.revokedAt(id, now)) n++;
    return n;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
  }

  /** Drops expired sessions and revocations (a revocation is useless once its tokens have expired). */
  sweep(): void {
    const now = this.now();
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
    for (const [id, r] of this.sessions) {
      if (r.expiresAtMs > now) continue;
      this.sessions.delete(id);
      const set = this.byUser.get(r.userId);
      set?.delete(id);
      if (set?.size === 0) this.byUser.delete(r.userId);
    }
  }

  private revokedAt(sessionId: string, now: number): boolean {
    const until = this.revoked.get(sessionId);
    return until !== undefined && until > now;
  }
}
