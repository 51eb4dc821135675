/**
 * Grants a token carries (docs/security.md, "Grants"): the `topics` claim lists topic patterns whose
 * `grant`-level rules the user passes; the `presence` claim lists user ids (or patterns) whose presence
 * the user may query when `presence.visibility` is `granted`. Both are optional lists of strings.
 */
import { AuthError } from '../errors.js';

/** What one identity was granted beyond the rules everyone gets. */
export interface Grants {
  /** Topic patterns (`*` wildcard). */
  readonly topics: readonly string[];
  /** User ids or patterns whose presence is visible. */
  readonly presence: readonly string[];
}

/** No grants at all. */
export const NO_GRANTS: Grants = Object.freeze({ topics: [], presence: [] });

/** Most patterns one claim may list: grants are for a user's own rooms, not a directory. */
export const MAX_GRANT_PATTERNS = 256;

/** Claim names. */
export const TOPICS_CLAIM = 'topics';
export const PRESENCE_CLAIM = 'presence';

// Unicode White_Space or a control character: never part of a topic name or pattern.
const FORBIDDEN = /[\s\p{Cc}]/u;

/**
 * Reads and checks the grant claims of a verified token. Throws AuthError (4504) naming the claim when
 * one is present but is not a list of at most MAX_GRANT_PATTERNS non-empty patterns of at most
 * `maxBytes` UTF-8 bytes each without whitespace or control characters: a token that says more than
 * Ferry can read must not silently grant less (or more).
 */
export function grantsFromClaims(
  claims: Record<string, unknown>,
  limits: { maxTopicLength: number; maxUserIdLength: number },
): Grants {
  const topics = patternList(claims[TOPICS_CLAIM], TOPICS_CLAIM, limits.maxTopicLength);
  const presence = patternList(claims[PRESENCE_CLAIM], PRESENCE_CLAIM, limits.maxUserIdLength);
  if (topics.length === 0 && presence.length === 0) return NO_GRANTS;
  return { topics, presence };
}

function patternList(value: unknown, claim: string, maxBytes: number): string[] {
  if (value === undefined) return [];
  const problem = grantListProblem(value, maxBytes);
  if (problem !== null) throw new AuthError(`token claim ${claim} ${problem}`);
  return value as string[];
}

/**
 * Why `value` is not a valid grant list (null when it is): at most MAX_GRANT_PATTERNS non-empty
 * patterns of at most `maxBytes` UTF-8 bytes without whitespace or control characters. Shared by the
 * token check and the access API's Login, so both accept exactly the same lists.
 */
export function grantListProblem(value: unknown, maxBytes: number): string | null {
  const shape = `must be a list of at most ${MAX_GRANT_PATTERNS} patterns of 1-${maxBytes} bytes without spaces`;
  if (!Array.isArray(value) || value.length > MAX_GRANT_PATTERNS) return shape;
  for (const p of value) {
    if (typeof p !== 'string' || p.length === 0 || p.length > maxBytes || FORBIDDEN.test(p)) return shape;
    if (Buffer.byteLength(p) > maxBytes) return shape;
  }
  return null;
}
