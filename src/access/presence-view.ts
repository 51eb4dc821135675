/**
 * Presence as the access API shows it: entries to `Device` messages, and the WatchPresence filter.
 */
import type { PresenceEntry, PresenceEvent } from '../bus/presence.js';
import type { TransportKind } from '../transport/transport.js';

/** The proto `Device` message (camelCase, as @grpc/proto-loader maps it). */
export interface DeviceMessage {
  userId: string;
  deviceId: string;
  connectionId: string;
  nodeId: string;
  transport: string;
  sinceMs: number;
}

const TRANSPORT_NAMES: Record<TransportKind, string> = {
  ws: 'TRANSPORT_WEBSOCKET',
  tcp: 'TRANSPORT_TCP',
  wt: 'TRANSPORT_WEBTRANSPORT',
};

export function deviceMessage(e: PresenceEntry): DeviceMessage {
  return {
    userId: e.userId,
    deviceId: e.deviceId,
    connectionId: e.sessionId,
    nodeId: e.nodeId,
    transport: TRANSPORT_NAMES[e.transport] ?? 'TRANSPORT_UNSPECIFIED',
    sinceMs: e.sinceMs,
  };
}

/** The proto `PresenceEvent`. */
export interface PresenceEventMessage {
  kind: 'PRESENCE_EVENT_KIND_ONLINE' | 'PRESENCE_EVENT_KIND_OFFLINE';
  device: DeviceMessage;
  atMs: number;
}

/** What a watcher asked for; empty sets mean "any". */
export interface PresenceFilter {
  userIds: ReadonlySet<string>;
  nodeIds: ReadonlySet<string>;
  kind: 'online' | 'offline' | 'any';
}

export function matches(filter: PresenceFilter, event: PresenceEvent): boolean {
  if (filter.kind !== 'any' && filter.kind !== event.kind) return false;
  if (filter.userIds.size > 0 && !filter.userIds.has(event.entry.userId)) return false;
  if (filter.nodeIds.size > 0 && !filter.nodeIds.has(event.entry.nodeId)) return false;
  return true;
}

export function eventMessage(event: PresenceEvent, atMs: number): PresenceEventMessage {
  return {
    kind: event.kind === 'online' ? 'PRESENCE_EVENT_KIND_ONLINE' : 'PRESENCE_EVENT_KIND_OFFLINE',
    device: deviceMessage(event.entry),
    atMs,
  };
}
