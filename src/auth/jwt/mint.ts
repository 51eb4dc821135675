import { SignJWT } from 'jose';
import { PRESENCE_CLAIM, TOPICS_CLAIM, type Grants } from '../grants.js';
import { importHmacKey, MIN_HMAC_SECRET_BYTES } from './key-ring.js';

/** What to put in a development token. */
export interface MintTokenOptions {
  /** Becomes `sub`; 1-128 characters. */
  userId: string;
  /** Becomes the `did` claim (binds the token to one device) when given and non-empty. */
  deviceId?: string;
  /** Lifetime in ms; must be positive. */
  ttlMs: number;
  /** HS256 secret text; its UTF-8 bytes are the key, at least 32 bytes (RFC 7518 §3.2). */
  secret: string;
  /** `kid` header; omitted when '' or undefined (the verifier then uses its kid-less key). */
  kid?: string;
  issuer?: string;
  audience?: string;
  /** Clock override for tests (ms since the epoch); defaults to Date.now(). */
  nowMs?: number;
  /** Becomes the `topics` and `presence` claims (docs/security.md) when non-empty. */
  grants?: Grants;
}

/**
 * Signs an HS256 JWT that JwtAuthenticator accepts when configured with the same secret: `sub`, `iat`,
 * `exp` (rounded up to the next second so a short ttl never yields an already-expired token), and
 * `did`, `iss`, `aud` when given. For development and tests; production tokens come from the operator's
 * identity provider. Throws RangeError on arguments the verifier would refuse anyway.
 */
export async function mintToken(opts: MintTokenOptions): Promise<string> {
  if (opts.userId.length === 0 || opts.userId.length > 128) {
    throw new RangeError('userId must be 1-128 characters');
  }
  if (!Number.isFinite(opts.ttlMs) || opts.ttlMs <= 0)
    throw new RangeError('ttlMs must be a positive number');
  const bytes = new TextEncoder().encode(opts.secret);
  if (bytes.length < MIN_HMAC_SECRET_BYTES) {
    throw new RangeError(`HS256 secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes`);
  }
  const now = opts.nowMs ?? Date.now();
  const claims: Record<string, unknown> = {};
  if (opts.deviceId) claims.did = opts.deviceId;
  if (opts.grants !== undefined && opts.grants.topics.length > 0) claims[TOPICS_CLAIM] = opts.grants.topics;
  if (opts.grants !== undefined && opts.grants.presence.length > 0)
    claims[PRESENCE_CLAIM] = opts.grants.presence;
  const jwt = new SignJWT(claims)
    .setProtectedHeader(opts.kid ? { alg: 'HS256', typ: 'JWT', kid: opts.kid } : { alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.userId)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.ceil((now + opts.ttlMs) / 1000));
  if (opts.issuer) jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt.setAudience(opts.audience);
  return jwt.sign(await importHmacKey(bytes));
}
