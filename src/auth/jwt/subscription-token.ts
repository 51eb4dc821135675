/**
 * Subscription tokens (docs/security.md, "Subscription tokens"): a JWT that lets one user subscribe to
 * one topic whose rule asks for a grant, minted by a business system (with the node's keys, or through
 * the access API) for a private room the user just joined, without re-issuing the user's connection
 * token. Claims: `typ` "ferry-subscription", `sub` (the user), `topic` (exact name), `exp` (required).
 */
import type { JWTPayload } from 'jose';
import { AuthError } from '../../errors.js';
import type { SubscriptionGrant } from '../authenticator.js';
import { signHs256, type Hs256Signing } from './mint.js';

/** `typ` claim of subscription tokens. */
export const SUBSCRIPTION_TOKEN_TYPE = 'ferry-subscription';

/** The grant a verified subscription token carries; AuthError when the claims are not one. */
export function subscriptionGrant(claims: JWTPayload): SubscriptionGrant {
  if (claims.typ !== SUBSCRIPTION_TOKEN_TYPE)
    throw new AuthError(`not a subscription token (typ must be "${SUBSCRIPTION_TOKEN_TYPE}")`);
  const { sub, topic, exp } = claims as JWTPayload & { topic?: unknown };
  if (typeof sub !== 'string' || sub === '') throw new AuthError('subscription token has no subject (sub)');
  if (typeof topic !== 'string' || topic === '') throw new AuthError('subscription token has no topic claim');
  // jose has already refused an expired token; one without exp never expires, which a grant must.
  if (typeof exp !== 'number') throw new AuthError('subscription token has no expiry (exp)');
  return { userId: sub, topic, expiresAtMs: exp * 1000 };
}

/** What to sign into a subscription token. */
export interface MintSubscriptionOptions extends Hs256Signing {
  topic: string;
}

/** Signs an HS256 subscription token that `JwtAuthenticator.verifySubscription` accepts. */
export function mintSubscriptionToken(opts: MintSubscriptionOptions): Promise<string> {
  return signHs256({ typ: SUBSCRIPTION_TOKEN_TYPE, topic: opts.topic }, opts);
}
