/**
 * What a client tells the application: its states, the facts of an open connection, why a
 * connection ended, presence results, and the typed event map of `FerryClient`.
 */
import type { FerryClientError } from './errors.js';
import type { TransportAttempt } from './dialer.js';
import type { Message } from './inbox.js';
import type { SendResult } from './outbox.js';
import type { TransportKind } from './transports/transport.js';
import type { Frame } from './wire.js';

export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Facts about the open connection (from AuthResult). */
export interface OpenInfo {
  transport: TransportKind;
  url: string;
  userId: string;
  deviceId: string;
  sessionId: string;
  nodeId: string;
  heartbeatMs: number;
  maxFrameBytes: number;
  /** The server's resume point: QoS-1 user messages after it follow. */
  ackedSeq: number;
  /** Token expiry (Unix ms, 0 = none). */
  expiresAtMs: number;
  /**
   * The server's log no longer had the history this client processed (its store lost data, or it is
   * another deployment): `lastSeq` was reset to `ackedSeq`. Persist the new `lastSeq`.
   */
  logReset: boolean;
}

/** A connection ended. `willReconnect` says whether the client tries again, after `delayMs`. */
export interface DisconnectInfo {
  code: number;
  reason: string;
  willReconnect: boolean;
  delayMs: number;
  transport: TransportKind | null;
}

/** Presence of one user (docs/protocol.md §5.7). */
export interface UserPresence {
  userId: string;
  online: boolean;
  devices: { deviceId: string; transport: string; nodeId: string; sinceMs: number }[];
}

/** Every event a client emits, with its value type. */
export interface ClientEvents {
  state: { state: ClientState; previous: ClientState };
  open: OpenInfo;
  message: Message;
  /** A Send or Publish was accepted by the server (QoS 1: stored). */
  ack: SendResult;
  presence: UserPresence[];
  disconnect: DisconnectInfo;
  /** One transport attempt: which, and whether it opened (fallbacks are visible here). */
  transport: TransportAttempt;
  error: FerryClientError;
}

/** The OpenInfo of an AuthResult received over `transport` at `url`. */
export function openInfoOf(
  r: NonNullable<Frame['authResult']>,
  transport: TransportKind,
  url: string,
): OpenInfo {
  return {
    transport,
    url,
    userId: r.userId ?? '',
    deviceId: r.deviceId ?? '',
    sessionId: r.sessionId ?? '',
    nodeId: r.nodeId ?? '',
    heartbeatMs: r.heartbeatMs ?? 0,
    maxFrameBytes: r.maxFrameBytes ?? 0,
    ackedSeq: Number(r.ackedSeq ?? 0),
    expiresAtMs: Number(r.expiresAtMs ?? 0),
    logReset: r.logReset === true,
  };
}

/** The users of a PresenceResult reply. */
export function presenceOf(reply: Frame): UserPresence[] {
  return (reply.presenceResult?.users ?? []).map((u) => ({
    userId: u.userId ?? '',
    online: u.online === true,
    devices: (u.devices ?? []).map((d) => ({
      deviceId: d.deviceId ?? '',
      transport: d.transport ?? '',
      nodeId: d.nodeId ?? '',
      sinceMs: Number(d.sinceMs ?? 0),
    })),
  }));
}
