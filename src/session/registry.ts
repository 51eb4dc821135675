/**
 * The directory of this node's authenticated sessions: by user (each user's devices), and by topic
 * (subscribers). It enforces the duplicate-device policy and mirrors every change into Presence, the
 * cluster-wide view. The router fans out through it (it implements routing's LocalSessions).
 */
import type { Presence } from '../bus/presence.js';
import { DisconnectCode } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { DeliveryTarget, LocalSessions } from '../routing/local-sessions.js';
import type { TransportKind } from '../transport/transport.js';

/** Reason sent with 4505 REPLACED (fits a WebSocket close frame). */
export const REPLACED_REASON = 'replaced by a newer connection of the same device';

/** A session as the registry keeps it. */
export interface RegisteredSession extends DeliveryTarget {
  readonly transport: TransportKind;
  /** When the session was authenticated, ms since the epoch (presence `since`). */
  readonly sinceMs: number;
  /** Highest QoS-1 user seq handed to this connection (0 = none). */
  readonly sentSeq: number;
}

/** Constructor dependencies of a SessionRegistry. */
export interface SessionRegistryDeps {
  nodeId: string;
  presence: Presence;
  logger: Logger;
}

/** Sizes for /stats. */
export interface RegistryCounts {
  users: number;
  sessions: number;
  topics: number;
  subscriptions: number;
}

/** User -> devices -> session, and topic -> subscribers, for one node. */
export class SessionRegistry implements LocalSessions {
  private readonly nodeId: string;
  private readonly presence: Presence;
  private readonly log: Logger;
  /**
   * A user's sessions as a small array (users have a few devices; an array is far smaller than a Map
   * per user). Copy-on-write: a published array is never mutated, so fan-out may iterate it while a
   * delivery disconnects one of its sessions.
   */
  private readonly byUser = new Map<string, readonly RegisteredSession[]>();
  private readonly byTopic = new Map<string, Set<RegisteredSession>>();
  private sessionCount = 0;
  private subscriptionCount = 0;

  constructor(deps: SessionRegistryDeps) {
    this.nodeId = deps.nodeId;
    this.presence = deps.presence;
    this.log = deps.logger;
  }

  /**
   * Registers `s` under (user, device) and records it in Presence. When the device already has a
   * session here: policy 'replace-old' swaps the new one in and disconnects the old one with 4505
   * REPLACED; 'reject-new' leaves everything as it was and returns 'rejected' (the caller refuses the
   * new session with 4505).
   */
  add(s: RegisteredSession, policy: 'replace-old' | 'reject-new'): 'added' | 'rejected' {
    const list = this.byUser.get(s.userId);
    const at = list === undefined ? -1 : list.findIndex((x) => x.deviceId === s.deviceId);
    if (at >= 0 && policy === 'reject-new') return 'rejected';
    let old: RegisteredSession | undefined;
    if (list === undefined) {
      this.byUser.set(s.userId, [s]);
    } else if (at < 0) {
      this.byUser.set(s.userId, [...list, s]);
    } else {
      old = list[at];
      const next = list.slice();
      next[at] = s;
      this.byUser.set(s.userId, next);
    }
    if (old === undefined) this.sessionCount++;
    this.presence
      .add({
        userId: s.userId,
        deviceId: s.deviceId,
        sessionId: s.sessionId,
        nodeId: this.nodeId,
        transport: s.transport,
        sinceMs: s.sinceMs,
      })
      .catch((err: unknown) => this.log.warn({ err, userId: s.userId }, 'presence add failed'));
    // After the swap: the old session's own removal then finds nothing to remove, and its presence
    // removal is keyed by its session id, so the new entry survives it.
    old?.disconnect(DisconnectCode.REPLACED, REPLACED_REASON);
    return 'added';
  }

  /** Unregisters `s` (if it is still the registered session of its device) and clears its presence. */
  remove(s: RegisteredSession): void {
    const list = this.byUser.get(s.userId);
    const at = list === undefined ? -1 : list.indexOf(s);
    if (list === undefined || at < 0) return;
    if (list.length === 1) this.byUser.delete(s.userId);
    else
      this.byUser.set(
        s.userId,
        list.filter((x) => x !== s),
      );
    this.sessionCount--;
    this.presence
      .remove(s.userId, s.deviceId, s.sessionId)
      .catch((err: unknown) => this.log.warn({ err, userId: s.userId }, 'presence remove failed'));
  }

  /** The session registered for (user, device), if any. */
  get(userId: string, deviceId: string): RegisteredSession | undefined {
    return this.byUser.get(userId)?.find((x) => x.deviceId === deviceId);
  }

  /** Adds `s` to the topic's subscribers; returns false when it already was one. */
  subscribe(topic: string, s: RegisteredSession): boolean {
    let set = this.byTopic.get(topic);
    if (set === undefined) {
      set = new Set();
      this.byTopic.set(topic, set);
    } else if (set.has(s)) {
      return false;
    }
    set.add(s);
    this.subscriptionCount++;
    return true;
  }

  /** Removes `s` from the topic's subscribers; returns false when it was not one. */
  unsubscribe(topic: string, s: RegisteredSession): boolean {
    const set = this.byTopic.get(topic);
    if (set === undefined || !set.delete(s)) return false;
    if (set.size === 0) this.byTopic.delete(topic);
    this.subscriptionCount--;
    return true;
  }

  sessionsOfUser(userId: string): readonly RegisteredSession[] | undefined {
    return this.byUser.get(userId);
  }

  subscribersOf(topic: string): ReadonlySet<RegisteredSession> | undefined {
    return this.byTopic.get(topic);
  }

  kick(userId: string, deviceId: string | undefined, code: number, reason: string): number {
    const list = this.byUser.get(userId);
    if (list === undefined) return 0;
    let n = 0;
    // `list` is never mutated (copy-on-write), so disconnecting while iterating is safe.
    for (const s of list) {
      if (deviceId !== undefined && s.deviceId !== deviceId) continue;
      s.disconnect(code, reason);
      n++;
    }
    return n;
  }

  replace(userId: string, deviceId: string, keepSessionId: string): number {
    const list = this.byUser.get(userId);
    if (list === undefined) return 0;
    let n = 0;
    for (const s of list) {
      if (s.deviceId !== deviceId || s.sessionId === keepSessionId) continue;
      s.disconnect(DisconnectCode.REPLACED, REPLACED_REASON);
      n++;
    }
    return n;
  }

  /**
   * Each user with sessions here, with the highest QoS-1 user seq any of them was sent (users whose
   * sessions were sent none are left out): what this node knows its users' logs reached, the
   * evidence it checks when Redis may have lost data.
   */
  sentSeqs(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const [userId, sessions] of this.byUser) {
      let max = 0;
      for (const s of sessions) if (s.sentSeq > max) max = s.sentSeq;
      if (max > 0) out.push([userId, max]);
    }
    return out;
  }

  counts(): RegistryCounts {
    return {
      users: this.byUser.size,
      sessions: this.sessionCount,
      topics: this.byTopic.size,
      subscriptions: this.subscriptionCount,
    };
  }
}
