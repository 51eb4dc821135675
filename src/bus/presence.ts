import type { TransportKind } from '../transport/transport.js';

/** One device of a user that is connected somewhere in the cluster. */
export interface PresenceEntry {
  userId: string;
  deviceId: string;
  sessionId: string;
  nodeId: string;
  transport: TransportKind;
  sinceMs: number;
}

/** A device came online or went offline somewhere in the cluster. */
export interface PresenceEvent {
  kind: 'online' | 'offline';
  entry: PresenceEntry;
}

/** Receives presence events; must not throw (errors are the listener's own business). */
export type PresenceListener = (event: PresenceEvent) => void;

/**
 * Where users are connected. Single node: the local registry is the whole truth (memory presence);
 * cluster: a shared view in Redis.
 */
export interface Presence {
  /** Records a device as online. */
  add(entry: PresenceEntry): Promise<void>;
  /** Removes a device's entry if it still belongs to `sessionId` (a newer session is left alone). */
  remove(userId: string, deviceId: string, sessionId: string): Promise<void>;
  /** Online devices of each requested user (users with none map to an empty list). */
  query(userIds: readonly string[]): Promise<Map<string, PresenceEntry[]>>;
  /**
   * Calls `listener` for every online/offline change from now on, on every node's changes (cluster
   * wide); an offline event carries the entry that was removed. Returns the unsubscribe function.
   */
  watch(listener: PresenceListener): () => void;
  close(): Promise<void>;
}
