/**
 * Credentials for benchmark clients: an HS256 JWT with `sub` = user id for Ferry, the bare user id for
 * the baseline server (which authenticates by user id alone).
 */
import { SignJWT } from 'jose';

export type TargetKind = 'ferry' | 'baseline';

/** The HS256 secret the bench starts Ferry with (>= 32 bytes, as Ferry requires). */
export const BENCH_SECRET = 'ferry-bench-secret-0123456789abcdef';

export async function tokenFor(target: TargetKind, userId: string, secret: string): Promise<string> {
  if (target === 'baseline') return userId;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 6 * 3600)
    .sign(new TextEncoder().encode(secret));
}
