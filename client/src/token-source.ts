/**
 * Where the client's token comes from: a fixed `token`, or `getToken` called before the first connect,
 * after 4009 TOKEN_EXPIRED and shortly before the current token expires (§5.1 step 6).
 */
export class TokenSource {
  private token: string | undefined;
  private stale = false;

  constructor(
    token: string | undefined,
    private readonly getToken: (() => string | Promise<string>) | undefined,
    private readonly refreshMarginMs: number,
  ) {
    this.token = token;
  }

  /** The next connection must use a fresh token (ignored without `getToken`). */
  markStale(): void {
    this.stale = true;
  }

  /** The token for the next Authenticate, fetching a fresh one when needed. */
  async current(): Promise<string> {
    if (this.getToken !== undefined && (this.token === undefined || this.stale)) {
      this.token = await this.getToken();
      this.stale = false;
    }
    return this.token ?? '';
  }

  /**
   * How long until the client should reconnect with a fresh token, for a token expiring at
   * `expiresAtMs` (Unix ms); null when it never expires or cannot be refreshed. A token with less than
   * two margins left is refreshed halfway, so a short-lived token is not refreshed in a tight loop.
   */
  refreshDelay(expiresAtMs: number): number | null {
    if (!(expiresAtMs > 0) || this.getToken === undefined) return null;
    const remaining = expiresAtMs - Date.now();
    return Math.max(
      0,
      remaining > 2 * this.refreshMarginMs ? remaining - this.refreshMarginMs : remaining / 2,
    );
  }
}
