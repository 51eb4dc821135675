import type { Grants } from './grants.js';

/** Who a connection is, once its token has been checked. */
export interface Identity {
  userId: string;
  /** Device from the token's `did` claim, or '' when the token does not bind one. */
  deviceId: string;
  /** Token expiry in ms since the epoch, 0 when it has none. */
  expiresAtMs: number;
  /** Other claims, for logs and later authorisation. */
  claims: Record<string, unknown>;
  /** Topics and presence the token grants (its `topics` and `presence` claims); none when absent. */
  grants?: Grants;
}

/** What a subscription token allows: `userId` may subscribe to (and read the history of) `topic`. */
export interface SubscriptionGrant {
  userId: string;
  topic: string;
  /** Token expiry, ms since the epoch (subscription tokens always have one). */
  expiresAtMs: number;
}

/**
 * Checks the credential in a client's Authenticate frame. Implementations: JWT (jwt/), and the
 * access gateway's session tokens (docs/access-api.md). Throws AuthError (src/errors.ts) on refusal.
 */
export interface Authenticator {
  authenticate(token: string): Promise<Identity>;
  /**
   * Checks a subscription token (Subscribe.token, docs/security.md): a short-lived token a business
   * system mints for one user and one topic. Throws AuthError when it is not one, or not valid.
   */
  verifySubscription(token: string): Promise<SubscriptionGrant>;
}
