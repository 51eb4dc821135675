import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { FerryConfig } from '../../config/schema.js';
import { AuthError, ConfigError, DisconnectCode } from '../../errors.js';
import type { Authenticator, Identity, SubscriptionGrant } from '../authenticator.js';
import { grantsFromClaims } from '../grants.js';
import { SUBSCRIPTION_TOKEN_TYPE, subscriptionGrant } from './subscription-token.js';
import { DEFAULT_RESERVED_USER_IDS, identifierProblem, ReservedUserIds } from '../../protocol/identifier.js';
import { loadOrCreateDevSecret } from './dev-secret.js';
import {
  JWT_ALGORITHMS,
  loadKeyRing,
  type JwtAlgorithm,
  type KeyMaterial,
  type VerificationKey,
} from './key-ring.js';

/** Tokens longer than this are refused before any parsing (a JWT with ordinary claims is < 2 KiB). */
export const MAX_TOKEN_CHARS = 8192;

/** What the authenticator checks besides the signature. */
export interface JwtAuthenticatorOptions {
  /** Required `iss`; '' or undefined = not checked. */
  issuer?: string;
  /** Required `aud` (one of the token's audiences); '' or undefined = not checked. */
  audience?: string;
  /** Tolerance on `exp` and `nbf`, in ms (default 30 s). */
  clockSkewMs?: number;
  /** Longest accepted `sub` and `did`, in UTF-8 bytes (default 128; `limits.maxUserIdLength`). */
  maxUserIdLength?: number;
  /** Longest topic pattern a `topics` grant may list (default 256). */
  maxTopicLength?: number;
  /** Server-only user ids besides the `$`-prefixed ones (default ["system"]; `auth.reservedUserIds`). */
  reservedUserIds?: readonly string[];
  /** Accept tokens without `exp` (default false; `auth.allowNoExpiry`). */
  allowNoExpiry?: boolean;
  /** Clock override for tests, ms since the epoch. */
  now?: () => number;
}

/** True when the config names at least one HS256 secret or public key (otherwise the dev secret is used). */
export function hasConfiguredKeys(auth: KeyMaterial): boolean {
  return Object.keys(auth.hmacSecrets).length > 0 || Object.keys(auth.publicKeys).length > 0;
}

/**
 * Verifies JWTs (JWS compact, HS256 / RS256 / ES256) from a client's Authenticate frame.
 *
 * Key choice (several keys may be valid at once, for rotation):
 *  - a token with a `kid` header is checked against exactly that key; an unknown kid is refused;
 *  - a token without `kid` is checked against the kid-less key (configured under "") if there is one,
 *    otherwise against every key of the token's algorithm in turn (bounded by the number of configured
 *    keys), so an issuer that never sets `kid` can still rotate by configuring old and new keys.
 * Each key's algorithm is fixed by its type when loaded; a token whose `alg` differs from its key's is
 * refused before any crypto (no HS256-with-an-RSA-public-key confusion), and only the three algorithms
 * above exist at all (`none` is refused). Key imports are done once, at construction; verification
 * results are never cached, so an expired or revoked key stops working as soon as it is removed.
 *
 * Claims: `exp` is required unless `allowNoExpiry`; `sub` and `did` must be valid identifiers
 * (protocol/identifier.ts: the one rule the protocol validator and the access API apply too), and
 * `sub` must not be a reserved (server-only) user id.
 *
 * Errors: an expired token -> AuthError with DisconnectCode.TOKEN_EXPIRED (the client should fetch a
 * fresh token and reconnect); anything else -> AuthError AUTH_FAILED. Messages name what was wrong and
 * never include key material; token-supplied strings are quoted and truncated.
 */
export class JwtAuthenticator implements Authenticator {
  private readonly keys: Map<string, VerificationKey>;
  private readonly opts: Required<Omit<JwtAuthenticatorOptions, 'reservedUserIds'>>;
  private readonly reserved: ReservedUserIds;

  private constructor(keys: Map<string, VerificationKey>, opts: JwtAuthenticatorOptions) {
    this.keys = keys;
    this.opts = {
      issuer: opts.issuer ?? '',
      audience: opts.audience ?? '',
      clockSkewMs: opts.clockSkewMs ?? 30_000,
      maxUserIdLength: opts.maxUserIdLength ?? 128,
      maxTopicLength: opts.maxTopicLength ?? 256,
      allowNoExpiry: opts.allowNoExpiry ?? false,
      now: opts.now ?? Date.now,
    };
    this.reserved = new ReservedUserIds(opts.reservedUserIds ?? DEFAULT_RESERVED_USER_IDS);
  }

  /**
   * Loads and imports the given keys (reading PEM/JWKS files). Throws ConfigError listing every bad or
   * duplicate key, or when no key is given at all.
   */
  static async create(material: KeyMaterial, opts: JwtAuthenticatorOptions = {}): Promise<JwtAuthenticator> {
    if (!hasConfiguredKeys(material)) {
      throw new ConfigError('invalid config: no JWT keys (auth.hmacSecrets or auth.publicKeys) configured');
    }
    return new JwtAuthenticator(await loadKeyRing(material), opts);
  }

  /**
   * The authenticator a node runs with: the keys in `config.auth`, or, when none are configured, the dev
   * secret from `<dataDir>/dev-secret` (created if absent) under kid "dev". Check `usesDevSecret` to warn.
   */
  static async fromConfig(
    config: Pick<FerryConfig, 'auth' | 'dataDir' | 'limits'>,
    opts: Pick<JwtAuthenticatorOptions, 'now'> = {},
  ): Promise<JwtAuthenticator> {
    const { auth } = config;
    let material: KeyMaterial = auth;
    if (!hasConfiguredKeys(auth)) {
      const dev = await loadOrCreateDevSecret(config.dataDir);
      material = { hmacSecrets: { [dev.kid]: dev.secret }, publicKeys: {} };
    }
    return JwtAuthenticator.create(material, {
      issuer: auth.issuer,
      audience: auth.audience,
      clockSkewMs: auth.clockSkewMs,
      maxUserIdLength: config.limits.maxUserIdLength,
      maxTopicLength: config.limits.maxTopicLength,
      reservedUserIds: auth.reservedUserIds,
      allowNoExpiry: auth.allowNoExpiry,
      ...opts,
    });
  }

  /** The configured key ids with their algorithms, for startup logs. */
  describeKeys(): { kid: string; alg: JwtAlgorithm; source: string }[] {
    return [...this.keys.values()].map(({ kid, alg, source }) => ({ kid, alg, source }));
  }

  /** Verifies `token` and returns who it names. Throws AuthError (see the class comment for codes). */
  async authenticate(token: string): Promise<Identity> {
    const claims = await this.verify(token);
    // A subscription token names one topic; it must not open a whole connection.
    if (claims.typ === SUBSCRIPTION_TOKEN_TYPE)
      throw new AuthError('a subscription token cannot authenticate a connection');
    return this.identity(claims);
  }

  /**
   * Verifies a subscription token (docs/security.md): same keys, issuer and audience as connection
   * tokens, `typ` "ferry-subscription", a `topic` claim and an `exp` (always required).
   */
  async verifySubscription(token: string): Promise<SubscriptionGrant> {
    const claims = await this.verify(token);
    return subscriptionGrant(claims);
  }

  /** Signature, algorithm, key choice, expiry, issuer, audience. Returns the claims. */
  private async verify(token: string): Promise<JWTPayload> {
    if (typeof token !== 'string' || token.length === 0) throw new AuthError('token missing');
    if (token.length > MAX_TOKEN_CHARS)
      throw new AuthError(`token longer than ${MAX_TOKEN_CHARS} characters`);

    let header: { alg?: unknown; kid?: unknown };
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new AuthError('malformed token');
    }
    const alg = header.alg;
    if (typeof alg !== 'string' || !(JWT_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new AuthError(`algorithm ${quote(alg)} not accepted (allowed: ${JWT_ALGORITHMS.join(', ')})`);
    }
    const candidates = this.candidates(alg as JwtAlgorithm, header.kid);

    let lastError: unknown;
    for (const key of candidates) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key.key, {
          algorithms: [key.alg],
          issuer: this.opts.issuer || undefined,
          audience: this.opts.audience || undefined,
          clockTolerance: this.opts.clockSkewMs / 1000,
          currentDate: new Date(this.opts.now()),
        }));
      } catch (err) {
        // Only a bad signature means "maybe another key": any other failure came after the signature
        // checked out (claims) or concerns the token itself, so it is the answer.
        if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
          lastError = err;
          continue;
        }
        throw toAuthError(err);
      }
      return payload;
    }
    throw toAuthError(lastError);
  }

  /** The keys a token with this alg and kid header may be checked against (never empty). */
  private candidates(alg: JwtAlgorithm, kid: unknown): VerificationKey[] {
    if (kid !== undefined) {
      if (typeof kid !== 'string') throw new AuthError('malformed token: kid must be a string');
      const key = this.keys.get(kid);
      if (!key) throw new AuthError(`unknown key id ${quote(kid)}`);
      if (key.alg !== alg)
        throw new AuthError(`token algorithm ${alg} does not match key ${quote(kid)} (${key.alg})`);
      return [key];
    }
    const kidless = this.keys.get('');
    if (kidless) {
      if (kidless.alg !== alg)
        throw new AuthError(`token algorithm ${alg} does not match the key (${kidless.alg})`);
      return [kidless];
    }
    const sameAlg = [...this.keys.values()].filter((k) => k.alg === alg);
    if (sameAlg.length === 0) throw new AuthError(`no key for algorithm ${alg}`);
    return sameAlg;
  }

  /**
   * The identity a verified token names. Refused (AuthError AUTH_FAILED, the reason naming the rule):
   * no `exp` unless allowNoExpiry; a `sub` or `did` that breaks the identifier rule (identifier.ts,
   * the same rule the protocol and the access API apply); a reserved `sub` (server-only ids).
   */
  private identity(claims: JWTPayload): Identity {
    if (claims.exp === undefined && !this.opts.allowNoExpiry) {
      throw new AuthError('token has no expiry (exp)');
    }
    const sub = claims.sub;
    if (typeof sub !== 'string' || sub.length === 0) throw new AuthError('token has no subject (sub)');
    const max = this.opts.maxUserIdLength;
    const subProblem = identifierProblem(sub, max);
    if (subProblem !== null) throw new AuthError(`token subject (sub) ${subProblem}`);
    const reserved = this.reserved.problem(sub);
    if (reserved !== null) throw new AuthError(`token subject (sub) ${quote(sub)} ${reserved}`);
    let deviceId = '';
    if (claims.did !== undefined) {
      const did = claims.did;
      const didProblem = typeof did === 'string' ? identifierProblem(did, max) : 'is not a string';
      if (didProblem !== null) throw new AuthError(`token device id (did) ${didProblem}`);
      deviceId = did as string;
    }
    return {
      userId: sub,
      deviceId,
      expiresAtMs: typeof claims.exp === 'number' ? claims.exp * 1000 : 0,
      claims: { ...claims },
      grants: grantsFromClaims(claims, this.opts),
    };
  }
}

/** Maps a jose failure to the AuthError a client sees. Unknown failures get a generic message. */
function toAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof joseErrors.JWTExpired)
    return new AuthError('token expired', DisconnectCode.TOKEN_EXPIRED);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return new AuthError('invalid token signature');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        return new AuthError('token not valid yet (nbf)');
      case 'iss':
        return new AuthError('token issuer not accepted');
      case 'aud':
        return new AuthError('token audience not accepted');
      default:
        return new AuthError(`token claim ${quote(err.claim)} is invalid`);
    }
  }
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) {
    return new AuthError('malformed token');
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
    return new AuthError('token uses an unsupported feature');
  }
  return new AuthError('token verification failed');
}

/** A token-supplied value, JSON-quoted and cut short so it cannot flood logs or close reasons. */
function quote(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
