/**
 * What local delivery needs from the sessions of this node, as narrow interfaces, so routing never
 * imports the session layer (style.md: imports point downward; session/ implements these).
 */
import type { Envelope } from '../bus/bus.js';
import type { EncodedDeliver } from './encoded-deliver.js';

/** One local session as local delivery sees it. */
export interface DeliveryTarget {
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
  /**
   * Hands one envelope to the session. Never throws and never blocks: the session queues, sheds, or
   * (for QoS-1 user messages out of order) fetches the gap from the store itself.
   */
  deliver(env: Envelope, encoded: EncodedDeliver): void;
  /** Ends the session with a Disconnect frame (kick, replace). Idempotent. */
  disconnect(code: number, reason: string): void;
}

/** The local session directory LocalDelivery fans out to (session/registry.ts implements it). */
export interface LocalSessions {
  /**
   * The sessions of `userId` on this node, or undefined. The array is never mutated after it is
   * returned (the registry copies on write), so callers may iterate while deliveries disconnect.
   */
  sessionsOfUser(userId: string): readonly DeliveryTarget[] | undefined;
  /** Subscribers of `topic` on this node, or undefined. Safe to iterate while sessions leave. */
  subscribersOf(topic: string): ReadonlySet<DeliveryTarget> | undefined;
  /** Disconnects the user's sessions (one device, or all when `deviceId` is undefined); returns how many. */
  kick(userId: string, deviceId: string | undefined, code: number, reason: string): number;
  /** Disconnects sessions of (user, device) other than `keepSessionId` with 4505 REPLACED; returns how many. */
  replace(userId: string, deviceId: string, keepSessionId: string): number;
}
