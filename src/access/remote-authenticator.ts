/**
 * The authenticator of a `--role message` node: it asks the access service (ValidateToken over gRPC)
 * instead of checking tokens itself, so revocations and the access node's key settings apply
 * everywhere. Accepted tokens are cached for `cacheTtlMs` (never past the token's own expiry), so a
 * reconnect storm costs the access service one call per token, and reconnects with a recently seen
 * token keep working through a short access outage. A token that is not cached while the access
 * service is unreachable is refused with 4010 AUTH_UNAVAILABLE (reconnect advised): the token was not
 * judged, so the client must not throw it away. Connections that are already open are not affected.
 */
import { createHash } from 'node:crypto';
import type { Authenticator, Identity, SubscriptionGrant } from '../auth/authenticator.js';
import { MAX_TOKEN_CHARS } from '../auth/jwt/jwt-authenticator.js';
import { AuthError, DisconnectCode } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { callUnary, type AccessClient } from './client.js';

export interface RemoteAuthenticatorOptions {
  client: AccessClient;
  /** How long an accepted token is trusted without asking again; 0 = no cache. */
  cacheTtlMs: number;
  /** Deadline of one ValidateToken call. */
  timeoutMs?: number;
  /** Most cached tokens (oldest evicted first). */
  maxEntries?: number;
  logger: Logger;
  now?: () => number;
}

interface CacheEntry {
  identity: Identity;
  untilMs: number;
}

/** Validates client tokens through the access service, with a bounded cache of accepted ones. */
export class RemoteAuthenticator implements Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly maxEntries: number;
  private lastFailureLogMs = 0;

  constructor(private readonly opts: RemoteAuthenticatorOptions) {
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.maxEntries = opts.maxEntries ?? 100_000;
  }

  async authenticate(token: string): Promise<Identity> {
    if (typeof token !== 'string' || token.length === 0) throw new AuthError('token missing');
    if (token.length > MAX_TOKEN_CHARS)
      throw new AuthError(`token longer than ${MAX_TOKEN_CHARS} characters`);
    const key = createHash('sha256').update(token).digest('base64');
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      if (hit.untilMs > now) return hit.identity;
      this.cache.delete(key);
    }
    const res = await this.validate({ token }, now);
    const identity: Identity = {
      userId: String(res.userId),
      deviceId: String(res.deviceId ?? ''),
      expiresAtMs: Number(res.expiresAtMs) || 0,
      claims: {},
      grants: { topics: stringList(res.topics), presence: stringList(res.presence) },
    };
    this.remember(key, identity, now);
    return identity;
  }

  /**
   * Asks the access service about a subscription token. Not cached: a client presents one once per
   * subscription, and the grant must be judged by the service that can revoke keys.
   */
  async verifySubscription(token: string): Promise<SubscriptionGrant> {
    if (typeof token !== 'string' || token.length === 0) throw new AuthError('token missing');
    if (token.length > MAX_TOKEN_CHARS)
      throw new AuthError(`token longer than ${MAX_TOKEN_CHARS} characters`);
    const res = await this.validate({ token, subscription: true }, this.now());
    return {
      userId: String(res.userId),
      topic: String(res.topic ?? ''),
      expiresAtMs: Number(res.expiresAtMs) || 0,
    };
  }

  /** One ValidateToken call; AuthError for a refused token (its code) or an unreachable service (4010). */
  private async validate(req: Record<string, unknown>, now: number): Promise<Record<string, unknown>> {
    let res: Record<string, unknown>;
    try {
      res = await callUnary(this.opts.client, 'ValidateToken', req, { deadlineMs: this.timeoutMs });
    } catch (err) {
      if (now - this.lastFailureLogMs > 5000) {
        this.lastFailureLogMs = now;
        this.opts.logger.warn({ err }, 'access service unreachable; refusing new logins with 4010');
      }
      throw new AuthError('access service unavailable; retry later', DisconnectCode.AUTH_UNAVAILABLE);
    }
    if (res.valid !== true) {
      const code = Number(res.disconnectCode) || DisconnectCode.AUTH_FAILED;
      throw new AuthError(String(res.reason || 'token refused'), code as DisconnectCode);
    }
    return res;
  }

  private remember(key: string, identity: Identity, now: number): void {
    if (this.opts.cacheTtlMs <= 0) return;
    let untilMs = now + this.opts.cacheTtlMs;
    if (identity.expiresAtMs > 0) untilMs = Math.min(untilMs, identity.expiresAtMs);
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(key, { identity, untilMs });
  }
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
