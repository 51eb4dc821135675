/** Who a connection is, once its token has been checked. */
export interface Identity {
  userId: string;
  /** Device from the token's `did` claim, or '' when the token does not bind one. */
  deviceId: string;
  /** Token expiry in ms since the epoch, 0 when it has none. */
  expiresAtMs: number;
  /** Other claims, for logs and later authorisation. */
  claims: Record<string, unknown>;
}

/**
 * Checks the credential in a client's Authenticate frame. Implementations: JWT (jwt/), and the
 * access gateway's session tokens (issue 5). Throws AuthError (src/errors.ts) on refusal.
 */
export interface Authenticator {
  authenticate(token: string): Promise<Identity>;
}
