/**
 * Presence for a single node: user -> device -> entry, in this process. With one node the local
 * session registry already knows who is online; this keeps the same Presence contract as the Redis
 * implementation (the Redis one serves a cluster) so the gRPC GetPresence/WatchPresence code does not care which it has.
 */
import { PresenceUnavailableError } from '../errors.js';
import type { Presence, PresenceEntry, PresenceEvent, PresenceListener } from './presence.js';

/** In-process Presence: one entry per (user, device), the latest add() wins. */
export class MemoryPresence implements Presence {
  /**
   * A user's devices as a small array (a user has a few devices; a Map per user cost ~500 B per idle
   * connection in bench/RESULTS.md). Arrays are replaced, never mutated, so query results stay valid.
   */
  private readonly users = new Map<string, readonly PresenceEntry[]>();
  private devices = 0;
  private closed = false;
  private readonly listeners = new Set<PresenceListener>();

  /**
   * Records `entry`, replacing any entry of the same (user, device), e.g. an older session that the
   * new one is about to replace. Stores a frozen copy, so the caller's object stays its own.
   */
  async add(entry: PresenceEntry): Promise<void> {
    if (this.closed) throw new PresenceUnavailableError('presence is closed');
    const devices = this.users.get(entry.userId) ?? [];
    // A literal (not a spread) so every entry shares one hidden class.
    const copy: PresenceEntry = Object.freeze({
      userId: entry.userId,
      deviceId: entry.deviceId,
      sessionId: entry.sessionId,
      nodeId: entry.nodeId,
      transport: entry.transport,
      sinceMs: entry.sinceMs,
    });
    const i = devices.findIndex((d) => d.deviceId === entry.deviceId);
    if (i >= 0) this.emit('offline', devices[i]!);
    if (i < 0) {
      this.devices++;
      this.users.set(entry.userId, [...devices, copy]);
    } else {
      this.users.set(
        entry.userId,
        devices.map((d, j) => (j === i ? copy : d)),
      );
    }
    this.emit('online', copy);
  }

  /**
   * Removes the device's entry only if it still belongs to `sessionId`: when a device reconnects, the
   * new session's add() can land before the old session's remove(), which must then leave it alone.
   * A no-op after close(), so session teardown during shutdown needs no special case.
   */
  async remove(userId: string, deviceId: string, sessionId: string): Promise<void> {
    const devices = this.users.get(userId);
    const i = devices?.findIndex((d) => d.deviceId === deviceId && d.sessionId === sessionId) ?? -1;
    if (devices === undefined || i < 0) return;
    const removed = devices[i]!;
    this.devices--;
    if (devices.length === 1) this.users.delete(userId);
    else
      this.users.set(
        userId,
        devices.filter((_, j) => j !== i),
      );
    this.emit('offline', removed);
  }

  watch(listener: PresenceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(kind: PresenceEvent['kind'], entry: PresenceEntry): void {
    if (this.listeners.size === 0) return;
    const event: PresenceEvent = { kind, entry };
    for (const l of this.listeners) l(event);
  }

  /** Every requested user maps to its entries (frozen; empty list when offline), in insertion order. */
  async query(userIds: readonly string[]): Promise<Map<string, PresenceEntry[]>> {
    if (this.closed) throw new PresenceUnavailableError('presence is closed');
    const out = new Map<string, PresenceEntry[]>();
    for (const userId of userIds) {
      const devices = this.users.get(userId);
      out.set(userId, devices === undefined ? [] : [...devices]);
    }
    return out;
  }

  /** Online users and devices, for /stats. */
  stats(): { users: number; devices: number } {
    return { users: this.users.size, devices: this.devices };
  }

  /** Forgets everything; later add() and query() reject, remove() does nothing. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.users.clear();
    this.devices = 0;
  }
}
