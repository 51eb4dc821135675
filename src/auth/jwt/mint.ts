import { SignJWT } from 'jose';
import { PRESENCE_CLAIM, TOPICS_CLAIM, type Grants } from '../grants.js';
import { DEFAULT_RESERVED_USER_IDS, identifierProblem, ReservedUserIds } from '../../protocol/identifier.js';
import { importHmacKey, MIN_HMAC_SECRET_BYTES } from './key-ring.js';

/** What to put in a development token. */
export interface MintTokenOptions {
  /** Becomes `sub`; a valid identifier (docs/protocol.md §5.9) that is not reserved. */
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
  /** Longest user and device id in UTF-8 bytes, as the verifier's `limits.maxUserIdLength` (default 128). */
  maxIdBytes?: number;
  /** The verifier's `auth.reservedUserIds` (default ["system"]); `$`-prefixed ids are always reserved. */
  reservedUserIds?: readonly string[];
  /** Clock override for tests (ms since the epoch); defaults to Date.now(). */
  nowMs?: number;
  /** Becomes the `topics` and `presence` claims (docs/security.md) when non-empty. */
  grants?: Grants;
}

/**
 * Signs an HS256 JWT that JwtAuthenticator accepts when configured with the same secret: `sub`, `iat`,
 * `exp` (always: the verifier refuses tokens without one; rounded up to the next second so a short ttl
 * never yields an already-expired token), and `did`, `iss`, `aud` when given. For development and
 * tests; production tokens come from the operator's identity provider. Throws RangeError on arguments
 * the verifier would refuse anyway (the identifier rule, reserved user ids, a non-positive ttl).
 */
export async function mintToken(opts: MintTokenOptions): Promise<string> {
  const maxIdBytes = opts.maxIdBytes ?? 128;
  const userProblem = identifierProblem(opts.userId, maxIdBytes);
  if (userProblem !== null) throw new RangeError(`user id ${userProblem}`);
  const reserved = new ReservedUserIds(opts.reservedUserIds ?? DEFAULT_RESERVED_USER_IDS);
  const reservedProblem = reserved.problem(opts.userId);
  if (reservedProblem !== null)
    throw new RangeError(`user id ${JSON.stringify(opts.userId)} ${reservedProblem}`);
  const deviceProblem = opts.deviceId ? identifierProblem(opts.deviceId, maxIdBytes) : null;
  if (deviceProblem !== null) throw new RangeError(`device id ${deviceProblem}`);
  const claims: Record<string, unknown> = {};
  if (opts.deviceId) claims.did = opts.deviceId;
  if (opts.grants !== undefined && opts.grants.topics.length > 0) claims[TOPICS_CLAIM] = opts.grants.topics;
  if (opts.grants !== undefined && opts.grants.presence.length > 0)
    claims[PRESENCE_CLAIM] = opts.grants.presence;
  return signHs256(claims, opts);
}

/** How `signHs256` signs: subject, lifetime, key, and the optional issuer and audience. */
export interface Hs256Signing {
  userId: string;
  ttlMs: number;
  secret: string;
  kid?: string;
  issuer?: string;
  audience?: string;
  nowMs?: number;
}

/**
 * Signs `claims` as an HS256 JWT with `sub`, `iat`, `exp` (rounded up to the next second) and `iss` /
 * `aud` when given: the one place Ferry's development and subscription tokens are put together.
 * Throws RangeError for a non-positive ttl or a secret shorter than RFC 7518 §3.2 allows.
 */
export async function signHs256(claims: Record<string, unknown>, opts: Hs256Signing): Promise<string> {
  if (!Number.isFinite(opts.ttlMs) || opts.ttlMs <= 0)
    throw new RangeError('ttlMs must be a positive number');
  const bytes = new TextEncoder().encode(opts.secret);
  if (bytes.length < MIN_HMAC_SECRET_BYTES) {
    throw new RangeError(`HS256 secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes`);
  }
  const now = opts.nowMs ?? Date.now();
  const jwt = new SignJWT(claims)
    .setProtectedHeader(opts.kid ? { alg: 'HS256', typ: 'JWT', kid: opts.kid } : { alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.userId)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.ceil((now + opts.ttlMs) / 1000));
  if (opts.issuer) jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt.setAudience(opts.audience);
  return jwt.sign(await importHmacKey(bytes));
}
