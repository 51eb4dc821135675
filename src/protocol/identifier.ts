/**
 * The one rule for user ids and device ids (docs/protocol.md §5.9, "valid identifier"), used by every
 * place an id enters Ferry: the token check (JWT `sub` and `did`), the protocol validator (Send,
 * PresenceQuery, Authenticate), the access API (Login, Push, GetPresence, ...), upstream replies, the
 * session-token issuer and `ferry token`. One rule, so an id that can log in can always be reached,
 * and an id refused in one place is refused in all.
 *
 * It lives in the protocol layer because the wire protocol defines it and every layer above (auth,
 * session, access, upstream, cli) may import the protocol; it imports nothing itself.
 *
 * The forbidden characters are a fixed table rather than the runtime's `\p{Cf}`: the Unicode data in
 * Node changes with its ICU, and two nodes of one cluster on different Node versions must still agree
 * on which ids exist. A unit test checks the table against the runtime's categories, so an upgrade
 * that adds a format character is noticed and decided on, not silently taken.
 */

/**
 * Code point ranges (inclusive) an identifier must not contain: Unicode General_Category Cc (C0
 * controls, DEL, C1 controls including U+0085 NEL), Cf (format characters: soft hyphen, bidi marks,
 * embeddings, overrides and isolates, zero-width characters, word joiner, BOM, interlinear annotation,
 * tag characters, ...), Zl (U+2028) and Zp (U+2029), as of Unicode 17.0. docs/protocol.md §5.9 lists
 * the same ranges (a test compares them).
 */
export const FORBIDDEN_IDENTIFIER_RANGES: readonly (readonly [number, number])[] = [
  [0x0000, 0x001f],
  [0x007f, 0x009f],
  [0x00ad, 0x00ad],
  [0x0600, 0x0605],
  [0x061c, 0x061c],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x0890, 0x0891],
  [0x08e2, 0x08e2],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x2064],
  [0x2066, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffb],
  [0x110bd, 0x110bd],
  [0x110cd, 0x110cd],
  [0x13430, 0x1343f],
  [0x1bca0, 0x1bca3],
  [0x1d173, 0x1d17a],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
];

/** Ids starting with this character are the server's own (never a client's). */
export const RESERVED_ID_PREFIX = '$';

/** The reserved user ids a node starts with (`auth.reservedUserIds`): the default Push sender. */
export const DEFAULT_RESERVED_USER_IDS: readonly string[] = ['system'];

// With the `u` flag a surrogate range in a class matches only unpaired (lone) surrogates: a pair is
// one astral code point. So one search finds the first forbidden character or ill-formed unit.
const FORBIDDEN = new RegExp(
  `[${FORBIDDEN_IDENTIFIER_RANGES.map(([a, b]) => `${esc(a)}-${esc(b)}`).join('')}\\uD800-\\uDFFF]`,
  'u',
);

function esc(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/**
 * Why `value` is not a valid user or device id, or null when it is. The answer completes a sentence
 * that starts with the field's name: `send.to_user` + ` contains U+202E (a format character)`.
 *
 * Valid: non-empty, at most `maxBytes` UTF-8 bytes, well-formed UTF-16 (no lone surrogate), and no
 * character in FORBIDDEN_IDENTIFIER_RANGES. Allocation-free for valid ASCII ids (every Send runs it).
 */
export function identifierProblem(value: string, maxBytes: number): string | null {
  const n = value.length;
  if (n === 0) return 'is empty';
  // Each UTF-16 unit is at least one UTF-8 byte: a cheap refusal before any counting.
  if (n > maxBytes) return tooLong(maxBytes);
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) return slowProblem(value, maxBytes);
  }
  return null;
}

/** The non-ASCII path: exact UTF-8 length, then the first forbidden character. */
function slowProblem(value: string, maxBytes: number): string | null {
  if (Buffer.byteLength(value, 'utf8') > maxBytes) return tooLong(maxBytes);
  const at = value.search(FORBIDDEN);
  if (at < 0) return null;
  const cp = value.codePointAt(at) ?? 0;
  return `contains ${codePointName(cp)} (${characterKind(cp)})`;
}

function tooLong(maxBytes: number): string {
  return `is longer than ${maxBytes} bytes (UTF-8)`;
}

/** `U+0085`: the code point in the notation the docs use. */
export function codePointName(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function characterKind(cp: number): string {
  if (cp >= 0xd800 && cp <= 0xdfff) return 'a lone surrogate: not well-formed UTF-16';
  if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return 'a control character';
  if (cp === 0x2028 || cp === 0x2029) return 'a line or paragraph separator';
  return 'a format character';
}

/**
 * The server-only user ids of a node: every id starting with RESERVED_ID_PREFIX, plus a configured
 * list (`auth.reservedUserIds`). No client token may name one, and no client may Send to one (nobody
 * can log in as it to read the log); server-side senders (Push `from_user`) may use them.
 */
export class ReservedUserIds {
  private readonly ids: ReadonlySet<string>;

  constructor(ids: Iterable<string>) {
    this.ids = new Set(ids);
  }

  /** True when `userId` is server-only. */
  has(userId: string): boolean {
    return userId.charCodeAt(0) === 0x24 || this.ids.has(userId);
  }

  /**
   * Why `userId` is reserved (`is reserved for the server (auth.reservedUserIds)`), or null when it
   * is not; completes a sentence that starts with the field and the quoted id.
   */
  problem(userId: string): string | null {
    if (userId.startsWith(RESERVED_ID_PREFIX))
      return `is reserved for the server (ids starting with "${RESERVED_ID_PREFIX}")`;
    if (this.ids.has(userId)) return 'is reserved for the server (auth.reservedUserIds)';
    return null;
  }
}
