/**
 * Ferry session tokens: what Login returns. A session token is an ordinary HS256 JWT signed with the
 * node's own secret (the configured kid-less secret, else the only or first configured one, else the
 * development secret, as `ferry token` picks it), so every transport's JwtAuthenticator accepts it with
 * no extra setup. It carries `sub` (user), `did` (device: a session is one device), `sid` (the login
 * session, what Logout revokes), `jti` and `typ: "ferry-session"`.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import { NO_GRANTS, PRESENCE_CLAIM, TOPICS_CLAIM, type Grants } from '../auth/grants.js';
import { mintSubscriptionToken } from '../auth/jwt/subscription-token.js';
import { loadOrCreateDevSecret } from '../auth/jwt/dev-secret.js';
import { SESSION_TOKEN_TYPE } from '../auth/session-token-authenticator.js';
import { hasConfiguredKeys } from '../auth/jwt/jwt-authenticator.js';
import { importHmacKey } from '../auth/jwt/key-ring.js';
import type { FerryConfig } from '../config/schema.js';
import { ConfigError, ReplyCode, RequestError } from '../errors.js';
import { identifierProblem, ReservedUserIds } from '../protocol/identifier.js';

/** What a session token is issued for. */
export interface SessionTokenRequest {
  userId: string;
  deviceId: string;
  sessionId: string;
  ttlMs: number;
  /** Carried as the `topics` and `presence` claims (docs/security.md); default none. */
  grants?: Grants;
}

/** Signs session tokens, and subscription tokens with the same key. */
export interface SessionTokenIssuer {
  issue(opts: SessionTokenRequest): Promise<{ token: string; expiresAtMs: number }>;
  /** A subscription token: `userId` may subscribe to `topic` (docs/security.md). */
  issueSubscription(opts: { userId: string; topic: string; ttlMs: number }): Promise<{
    token: string;
    expiresAtMs: number;
  }>;
}

/** The HS256 key a node signs session tokens with, or null when it only has public keys. */
export async function signingSecret(
  config: Pick<FerryConfig, 'auth' | 'dataDir'>,
): Promise<{ secret: string; kid: string } | null> {
  const secrets = config.auth.hmacSecrets;
  if (!hasConfiguredKeys(config.auth)) {
    const dev = await loadOrCreateDevSecret(config.dataDir);
    return { secret: dev.secret, kid: dev.kid };
  }
  const kid = '' in secrets ? '' : Object.keys(secrets).sort()[0];
  if (kid === undefined) return null;
  return { secret: secrets[kid] ?? '', kid };
}

/** A random id (sessions, generated devices): 16 bytes, base64url. */
export function randomId(prefix: string): string {
  return prefix + randomBytes(16).toString('base64url');
}

/** What a session token may name: the identifier rule and reserved ids, as the verifier applies them. */
interface IdRules {
  maxIdBytes: number;
  reserved: ReservedUserIds;
}

/**
 * Issues HS256 session tokens with a fixed key; `null` key = Login is refused with a clear reason.
 * Never signs a token the node's own JwtAuthenticator would refuse for its ids: an invalid or reserved
 * user id, or an invalid device id, is RequestError BAD_REQUEST (Login checks them first; this holds
 * for every other caller too).
 */
export class JwtSessionTokenIssuer implements SessionTokenIssuer {
  private constructor(
    private readonly key: CryptoKey | null,
    private readonly secret: string,
    private readonly kid: string,
    private readonly claims: { issuer: string; audience: string },
    private readonly ids: IdRules,
    private readonly now: () => number,
  ) {}

  static async fromConfig(
    config: Pick<FerryConfig, 'auth' | 'dataDir' | 'limits'>,
    now: () => number = Date.now,
  ): Promise<JwtSessionTokenIssuer> {
    const s = await signingSecret(config);
    const key = s === null ? null : await importHmacKey(new TextEncoder().encode(s.secret));
    const claims = { issuer: config.auth.issuer, audience: config.auth.audience };
    const ids = {
      maxIdBytes: config.limits.maxUserIdLength,
      reserved: new ReservedUserIds(config.auth.reservedUserIds),
    };
    return new JwtSessionTokenIssuer(key, s?.secret ?? '', s?.kid ?? '', claims, ids, now);
  }

  async issue(opts: SessionTokenRequest): Promise<{ token: string; expiresAtMs: number }> {
    const key = this.signingKey();
    this.checkUser(opts.userId);
    const device = identifierProblem(opts.deviceId, this.ids.maxIdBytes);
    if (device !== null) throw new RequestError(ReplyCode.BAD_REQUEST, `device_id: ${device}`);
    const now = this.now();
    const exp = Math.ceil((now + opts.ttlMs) / 1000);
    const header = this.kid ? { alg: 'HS256', typ: 'JWT', kid: this.kid } : { alg: 'HS256', typ: 'JWT' };
    const grants = opts.grants ?? NO_GRANTS;
    const claims: Record<string, unknown> = {
      did: opts.deviceId,
      sid: opts.sessionId,
      typ: SESSION_TOKEN_TYPE,
    };
    if (grants.topics.length > 0) claims[TOPICS_CLAIM] = grants.topics;
    if (grants.presence.length > 0) claims[PRESENCE_CLAIM] = grants.presence;
    const jwt = new SignJWT(claims)
      .setProtectedHeader(header)
      .setSubject(opts.userId)
      .setJti(randomId(''))
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(exp);
    if (this.claims.issuer) jwt.setIssuer(this.claims.issuer);
    if (this.claims.audience) jwt.setAudience(this.claims.audience);
    return { token: await jwt.sign(key), expiresAtMs: exp * 1000 };
  }

  async issueSubscription(opts: { userId: string; topic: string; ttlMs: number }): Promise<{
    token: string;
    expiresAtMs: number;
  }> {
    this.signingKey();
    this.checkUser(opts.userId);
    const nowMs = this.now();
    const token = await mintSubscriptionToken({
      ...opts,
      secret: this.secret,
      kid: this.kid,
      issuer: this.claims.issuer,
      audience: this.claims.audience,
      nowMs,
    });
    return { token, expiresAtMs: Math.ceil((nowMs + opts.ttlMs) / 1000) * 1000 };
  }

  /** The one identity rule, and no reserved id: RequestError BAD_REQUEST (gRPC INVALID_ARGUMENT). */
  private checkUser(userId: string): void {
    const { maxIdBytes, reserved } = this.ids;
    const user = identifierProblem(userId, maxIdBytes) ?? reserved.problem(userId);
    if (user !== null) throw new RequestError(ReplyCode.BAD_REQUEST, `user_id: ${user}`);
  }

  private signingKey(): CryptoKey {
    if (this.key === null) {
      throw new ConfigError(
        'this node has no HS256 secret to sign session tokens with (auth.publicKeys only); configure auth.hmacSecrets',
      );
    }
    return this.key;
  }
}
