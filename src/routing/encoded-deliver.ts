/**
 * The Deliver frame a bus envelope becomes, encoded once per envelope and framing and shared by every
 * local recipient (LocalDelivery builds one per envelope; sessions queue its bytes).
 */
import type { Envelope } from '../bus/bus.js';
import { encodeDeliverFrame } from '../protocol/deliver-codec.js';
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
    if (framing === 'message') return (this.message ??= encodeDeliverFrame(this.env, false));
    return (this.stream ??= encodeDeliverFrame(this.env, true));
  }
}

/**
 * Encodes an envelope as a Deliver frame. The Envelope is a superset of Deliver's fields (plus
 * `toUser`, which the encoder ignores), so it is passed as is: no per-message copy.
 */
export function encodeDeliver(env: Envelope): Uint8Array {
  return encodeDeliverFrame(env, false);
}
