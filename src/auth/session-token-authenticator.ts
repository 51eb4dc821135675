/**
 * Session tokens (what the access API's Login issues, access/session-tokens.ts) as the transports see
 * them: ordinary JWTs with `typ: "ferry-session"` and a `sid`, checked by the JWT authenticator and
 * then against the list of revoked login sessions (a logged-out session's tokens are refused with
 * 4504). The revocation list is the access layer's store, seen through one method.
 */
import { AuthError } from '../errors.js';
import type { Authenticator, Identity, SubscriptionGrant } from './authenticator.js';

/** `typ` claim of session tokens. */
export const SESSION_TOKEN_TYPE = 'ferry-session';

/** Where revoked login sessions are recorded (access/session-token-store.ts implements it). */
export interface RevokedSessions {
  isRevoked(sessionId: string): Promise<boolean>;
}

/** The login session id a verified token belongs to, or '' for tokens not issued by Login. */
export function sessionIdOf(identity: Identity): string {
  const sid = identity.claims.sid;
  return identity.claims.typ === SESSION_TOKEN_TYPE && typeof sid === 'string' ? sid : '';
}

/**
 * The authenticator transports use on a node that runs the access service: the JWT check, then, for
 * session tokens, the revocation check (a logged-out session's tokens are refused with 4504).
 */
export class SessionAwareAuthenticator implements Authenticator {
  constructor(
    private readonly inner: Authenticator,
    private readonly revoked: RevokedSessions,
  ) {}

  async authenticate(token: string): Promise<Identity> {
    const identity = await this.inner.authenticate(token);
    const sid = sessionIdOf(identity);
    if (sid !== '' && (await this.revoked.isRevoked(sid)))
      throw new AuthError('session revoked (logged out)');
    return identity;
  }

  /** Subscription tokens belong to no login session: the plain JWT check. */
  verifySubscription(token: string): Promise<SubscriptionGrant> {
    return this.inner.verifySubscription(token);
  }
}
