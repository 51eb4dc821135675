/**
 * Stateless address validation with Retry (RFC 9000 §8.1.2, §17.2.5). The server answers a client's
 * first Initial with a Retry carrying a token and a fresh connection id, and creates connection state
 * only when the Initial comes back with that token — so spoofed source addresses cost the server one
 * small packet and no memory, and the 3x amplification limit (§8.1) is lifted at once.
 *
 * Token layout (opaque to the client, §8.1.4):
 *   version (1) | issued-at ms (8, big endian) | odcid length (1) | odcid | HMAC-SHA256 tag (16)
 * The tag covers the layout's fields plus the client's address and the Retry's source connection id,
 * so a token only validates from the address it was issued to and for the connection id it named.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { QuicAddress } from './engine.js';

const TOKEN_VERSION = 1;
const TAG_BYTES = 16;
/** RFC 9000 §8.1.3: Retry tokens should be short-lived; they only cover one round trip. */
const DEFAULT_LIFETIME_MS = 10_000;
/** RFC 9000 §17.2: connection ids are at most 20 bytes. */
const MAX_CID_BYTES = 20;

/** What a valid token proves: the client's original destination connection id. */
export interface ValidatedToken {
  originalDcid: Uint8Array;
}

/** Mints and checks Retry tokens with a per-process random key. */
export class RetryTokens {
  private readonly key: Buffer;

  constructor(
    private readonly lifetimeMs = DEFAULT_LIFETIME_MS,
    key: Buffer = randomBytes(32),
    private readonly now: () => number = Date.now,
  ) {
    this.key = key;
  }

  /** A token for a client at `peer` whose first Initial was sent to `originalDcid`. */
  mint(peer: QuicAddress, originalDcid: Uint8Array, retryScid: Uint8Array): Buffer {
    const token = Buffer.allocUnsafe(1 + 8 + 1 + originalDcid.length + TAG_BYTES);
    token[0] = TOKEN_VERSION;
    token.writeBigUInt64BE(BigInt(this.now()), 1);
    token[9] = originalDcid.length;
    token.set(originalDcid, 10);
    const bodyLength = 10 + originalDcid.length;
    this.tag(token.subarray(0, bodyLength), peer, retryScid).copy(token, bodyLength);
    return token;
  }

  /**
   * Checks a token from an Initial sent by `peer` to `dcid` (the Retry's source connection id).
   * Returns null for forged, expired, foreign-address or malformed tokens.
   */
  validate(token: Uint8Array, peer: QuicAddress, dcid: Uint8Array): ValidatedToken | null {
    if (token.length < 10 + TAG_BYTES || token[0] !== TOKEN_VERSION) return null;
    const odcidLength = token[9] as number;
    if (odcidLength > MAX_CID_BYTES || token.length !== 10 + odcidLength + TAG_BYTES) return null;
    const bytes = Buffer.from(token.buffer, token.byteOffset, token.length);
    const issuedAt = Number(bytes.readBigUInt64BE(1));
    const age = this.now() - issuedAt;
    if (age < 0 || age > this.lifetimeMs) return null;
    const bodyLength = 10 + odcidLength;
    const expected = this.tag(bytes.subarray(0, bodyLength), peer, dcid);
    if (!timingSafeEqual(expected, bytes.subarray(bodyLength))) return null;
    return { originalDcid: Uint8Array.prototype.slice.call(bytes, 10, bodyLength) };
  }

  private tag(body: Uint8Array, peer: QuicAddress, retryScid: Uint8Array): Buffer {
    const mac = createHmac('sha256', this.key);
    mac.update(body);
    mac.update(`${peer.host}|${peer.port}|`);
    mac.update(retryScid);
    return mac.digest().subarray(0, TAG_BYTES);
  }
}
