/**
 * What the router needs from the sessions of this node, as narrow interfaces, so routing never imports
 * the session layer (style.md: imports point downward; session/ implements these).
 */
import type { Envelope } from '../bus/bus.js';
import { encodeFrame, prefixLength } from '../protocol/codec.js';
import type { Framing } from '../transport/transport.js';

/**
 * A Deliver frame encoded at most once per framing and shared by every local recipient of one
 * envelope: the frame has no per-recipient field (a user message's seq is per user, so all devices of
 * the user see the same seq; a topic message's seq is the topic offset), so N subscribers cost one
 * protobuf encode instead of N.
 */
export class EncodedDeliver {
  readonly env: Envelope;
  private message: Uint8Array | null = null;
  private stream: Uint8Array | null = null;

  constructor(env: Envelope) {
    this.env = env;
  }

  /** The frame bytes for `framing` ('stream' adds the 4-byte length prefix). Cached. */
  bytesFor(framing: Framing): Uint8Array {
    if (framing === 'message') return (this.message ??= encodeDeliver(this.env));
    // The prefixed form reuses the unprefixed encoding when a message-framed recipient already made it.
    return (this.stream ??= prefixLength((this.message ??= encodeDeliver(this.env))));
  }
}

/**
 * Encodes an envelope as a Deliver frame. The Envelope is a superset of Deliver's fields (plus
 * `toUser`, which the encoder ignores), so it is passed as is: no per-message copy.
 */
export function encodeDeliver(env: Envelope): Uint8Array {
  return encodeFrame({ deliver: env });
}

/** One local session as the router sees it. */
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

/** The local session directory the router fans out to (session/registry.ts implements it). */
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
