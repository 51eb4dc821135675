/**
 * Topic patterns, as used by the topic rules of the configuration (`topics.rules`) and by grants (the
 * `topics` claim of a token): a topic name in which `*` stands for any run of characters, empty
 * included (`chat:*`, `*.orders`, `team-*-room`). In configured rules `{user}` stands for the user id of
 * the client being checked, taken literally (`inbox:{user}` is each user's own topic). Nothing else is
 * special, so any topic name is also a pattern matching exactly itself.
 *
 * Like MQTT's `$SYS` rule (MQTT 5.0 §4.7.2), a pattern that does not itself start with `$` never
 * matches a topic that does: reserved topics are only reached by patterns written for them.
 */

/** The wildcard character of topic patterns. */
export const WILDCARD = '*';
/** Placeholder for the checked user's id in configured rules. */
export const USER_PLACEHOLDER = '{user}';

const DOLLAR = 0x24;

/**
 * One compiled pattern: the literal parts between its wildcards. Matching anchors the first part at the
 * start and the last at the end and finds the others left to right (leftmost is always right when `*`
 * is the only wildcard), so a check is a few `startsWith`/`indexOf` calls and builds no RegExp.
 */
export class TopicPattern {
  readonly source: string;
  /** True when the pattern has no wildcard (it names one topic, or one per user). */
  readonly exact: boolean;
  /** True when the pattern uses `{user}` (then a user id must be given to `matches`). */
  readonly perUser: boolean;
  private readonly parts: readonly string[];
  private readonly reserved: boolean;

  constructor(source: string, opts: { allowUser?: boolean } = {}) {
    this.source = source;
    this.parts = source.split(WILDCARD);
    this.exact = this.parts.length === 1;
    this.perUser = opts.allowUser === true && source.includes(USER_PLACEHOLDER);
    this.reserved = source.charCodeAt(0) === DOLLAR;
  }

  /** True when the pattern matches all of `topic` for the client `userId`. */
  matches(topic: string, userId = ''): boolean {
    if (topic.charCodeAt(0) === DOLLAR && !this.reserved) return false;
    const parts = this.perUser ? this.partsFor(userId) : this.parts;
    return matchParts(parts, topic);
  }

  /**
   * How specific the pattern is for `userId`: its literal characters (wildcards left out, `{user}`
   * replaced). Of two matching rules the more specific one decides.
   */
  weight(userId = ''): number {
    let n = 0;
    for (const p of this.perUser ? this.partsFor(userId) : this.parts) n += p.length;
    return n;
  }

  private partsFor(userId: string): string[] {
    return this.parts.map((p) => p.replaceAll(USER_PLACEHOLDER, userId));
  }
}

function matchParts(parts: readonly string[], topic: string): boolean {
  const first = parts[0] ?? '';
  if (parts.length === 1) return topic === first;
  const last = parts[parts.length - 1] ?? '';
  if (topic.length < first.length + last.length) return false;
  if (!topic.startsWith(first) || !topic.endsWith(last)) return false;
  const end = topic.length - last.length;
  let pos = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const at = topic.indexOf(part, pos);
    if (at < 0 || at + part.length > end) return false;
    pos = at + part.length;
  }
  return true;
}

/**
 * A set of patterns checked in one call (the grants of one token): exact names in a Set, wildcard
 * patterns tried in turn. Built once per token, so a check on the publish path is usually one lookup.
 */
export class PatternSet {
  private readonly exactNames: ReadonlySet<string>;
  private readonly wildcards: readonly TopicPattern[];

  constructor(patterns: Iterable<string>) {
    const exact = new Set<string>();
    const wildcards: TopicPattern[] = [];
    for (const p of patterns) {
      if (p.includes(WILDCARD)) wildcards.push(new TopicPattern(p));
      else exact.add(p);
    }
    this.exactNames = exact;
    this.wildcards = wildcards;
  }

  /** True when some pattern of the set matches `name`. */
  matches(name: string): boolean {
    if (this.exactNames.has(name)) return true;
    for (const p of this.wildcards) if (p.matches(name)) return true;
    return false;
  }

  get size(): number {
    return this.exactNames.size + this.wildcards.length;
  }
}
