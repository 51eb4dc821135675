/**
 * Who may do what on a topic (docs/security.md, "Topics"): the rules of `topics.rules`, each a topic
 * pattern with an access level per action, and `topics.unmatched` for topics no rule matches (open
 * to everyone, to grant holders only, or to nobody).
 *
 * Levels: `any` (every authenticated user), `grant` (users holding a grant for the topic: the `topics`
 * claim of their token, or a subscription token presented on this connection), `subscriber` (publish
 * only: connections subscribed to the topic right now, which needed `subscribe` first), `none` (no
 * client; the server still publishes through the access API). Topics starting with `$` are reserved:
 * no client ever publishes to them, and only rules written for `$` topics open them to subscribers.
 *
 * The most specific matching rule decides: a pattern without `*` beats every pattern with one; then
 * the one with more literal characters (`{user}` counted as the user id); then the one listed first.
 */
import type { TopicAccess, TopicRule } from '../config/schema.js';
import { TopicPattern } from './topic-pattern.js';

/** What a client may be refused on a topic. */
export type TopicAction = 'subscribe' | 'publish' | 'history';

/** What a check needs to know about the client. */
export interface TopicClient {
  readonly userId: string;
  /** True when the client holds a grant for `topic` (token claim or subscription token). */
  isGranted(topic: string): boolean;
  /** True when this connection is subscribed to `topic` now. */
  isSubscribed(topic: string): boolean;
}

/** The rule of topics no rule matches, by `topics.unmatched` (`auto` resolved by the caller). */
export const UNMATCHED_RULES: Readonly<Record<'open' | 'grant' | 'closed', Readonly<TopicRule>>> =
  Object.freeze({
    open: Object.freeze({ subscribe: 'any', publish: 'any', history: 'any' }),
    grant: Object.freeze({ subscribe: 'grant', publish: 'grant', history: 'grant' }),
    closed: Object.freeze({ subscribe: 'none', publish: 'none', history: 'none' }),
  });
/** Nobody, for anything: unmatched `$` topics whatever the setting, and actions a rule leaves out. */
const CLOSED_RULE = UNMATCHED_RULES.closed;

/** Cached rule decisions kept per policy before the cache starts over (topics are client-chosen). */
const MAX_CACHED_TOPICS = 10_000;

interface CompiledRule {
  pattern: TopicPattern;
  rule: TopicRule;
  /** Position in the configuration: earlier wins ties. */
  order: number;
}

/** The configured topic rules of one node, compiled. Immutable; shared by every session. */
export class TopicPolicy {
  /** The rule of topics no rule matches (`topics.unmatched`, resolved). */
  readonly unmatched: Readonly<TopicRule>;
  private readonly exact = new Map<string, CompiledRule>();
  private readonly exactRules: CompiledRule[] = [];
  private readonly wildcards: CompiledRule[] = [];
  private readonly perUser: CompiledRule[] = [];
  /** topic -> the rule decided by the rules that do not depend on the user. */
  private readonly cache = new Map<string, TopicRule>();

  /**
   * `rules` in configuration order (later listings lose ties); `unmatched` is `topics.unmatched` with
   * `auto` already resolved by the caller.
   */
  constructor(rules: Record<string, TopicRule>, unmatched: 'open' | 'grant' | 'closed') {
    this.unmatched = UNMATCHED_RULES[unmatched];
    let order = 0;
    for (const [source, rule] of Object.entries(rules)) {
      const c: CompiledRule = {
        pattern: new TopicPattern(source, { allowUser: true }),
        rule,
        order: order++,
      };
      if (c.pattern.perUser) this.perUser.push(c);
      else if (c.pattern.exact) {
        this.exact.set(source, c);
        this.exactRules.push(c);
      } else this.wildcards.push(c);
    }
  }

  /** The rule that applies to `topic` for `userId`. */
  ruleFor(topic: string, userId: string): TopicRule {
    if (this.perUser.length === 0) return this.sharedRule(topic);
    // Per-user rules make the decision depend on the user: no cache, every rule is weighed.
    let best: CompiledRule | null = null;
    let bestExact = false;
    let bestWeight = -1;
    for (const list of [this.exactRules, this.wildcards, this.perUser]) {
      for (const c of list) {
        if (!c.pattern.matches(topic, userId)) continue;
        const weight = c.pattern.weight(userId);
        const exact = c.pattern.exact;
        const wins =
          best === null ||
          (exact !== bestExact ? exact : weight !== bestWeight ? weight > bestWeight : c.order < best.order);
        if (wins) [best, bestExact, bestWeight] = [c, exact, weight];
      }
    }
    return best?.rule ?? this.unmatchedRule(topic);
  }

  /**
   * Whether `client` may do `action` on `topic`: null when it may, else why not (the message of the
   * 103 PERMISSION_DENIED the client gets; it names the topic).
   */
  check(action: TopicAction, topic: string, client: TopicClient): string | null {
    if (action === 'publish' && topic.charCodeAt(0) === 0x24) {
      return `topic ${JSON.stringify(topic)} is reserved: only the server publishes to topics starting with "$"`;
    }
    const access = this.ruleFor(topic, client.userId)[action];
    if (allows(access, topic, client)) return null; // the publish path: no allocation when allowed
    const name = JSON.stringify(topic);
    const what =
      action === 'subscribe'
        ? `subscribe to topic ${name}`
        : action === 'publish'
          ? `publish to topic ${name}`
          : `read the history of topic ${name}`;
    return `not allowed to ${what}${HINTS[access]}`;
  }

  /** The rule decided by the rules that do not depend on the user (cached per topic). */
  private sharedRule(topic: string): TopicRule {
    const exact = this.exact.get(topic);
    if (exact !== undefined) return exact.rule;
    let cached = this.cache.get(topic);
    if (cached === undefined) {
      cached = this.wildcardRule(topic);
      if (this.cache.size >= MAX_CACHED_TOPICS) this.cache.clear();
      this.cache.set(topic, cached);
    }
    return cached;
  }

  private wildcardRule(topic: string): TopicRule {
    let best: CompiledRule | null = null;
    let bestWeight = -1;
    for (const c of this.wildcards) {
      if (!c.pattern.matches(topic)) continue;
      const weight = c.pattern.weight();
      // Strictly greater: on a tie the rule listed first stays.
      if (weight > bestWeight) [best, bestWeight] = [c, weight];
    }
    return best?.rule ?? this.unmatchedRule(topic);
  }

  private unmatchedRule(topic: string): TopicRule {
    if (topic.charCodeAt(0) === 0x24) return CLOSED_RULE;
    return this.unmatched;
  }
}

function allows(access: TopicAccess, topic: string, client: TopicClient): boolean {
  switch (access) {
    case 'any':
      return true;
    case 'grant':
      return client.isGranted(topic);
    case 'subscriber':
      return client.isSubscribed(topic);
    case 'none':
      return false;
  }
}

const HINTS: Record<TopicAccess, string> = {
  any: '',
  grant: ' (it needs a grant: the token\'s "topics" claim or a subscription token)',
  subscriber: ' (subscribe to it first)',
  none: ' (no client may)',
};

const ACTIONS: readonly TopicAction[] = ['subscribe', 'publish', 'history'];
const LEVELS: Record<TopicAction, readonly TopicAccess[]> = {
  subscribe: ['any', 'grant', 'none'],
  publish: ['any', 'grant', 'subscriber', 'none'],
  history: ['any', 'grant', 'none'],
};

/**
 * Parses one `topics.rules` value: an object with any of `subscribe`, `publish`, `history`; an action
 * left out is `none` (a rule opens only what it names).
 */
export function parseTopicRule(
  raw: unknown,
): { ok: true; value: TopicRule } | { ok: false; expected: string } {
  const expected =
    'an object like {"subscribe": "any", "publish": "subscriber", "history": "grant"} ' +
    '(subscribe, history: any, grant or none; publish: any, grant, subscriber or none)';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, expected };
  const rule: TopicRule = { ...CLOSED_RULE };
  for (const [key, value] of Object.entries(raw)) {
    const action = key as TopicAction;
    if (!ACTIONS.includes(action) || !LEVELS[action].includes(value as TopicAccess)) {
      return { ok: false, expected };
    }
    rule[action] = value as TopicAccess;
  }
  return { ok: true, value: rule };
}

/** Problems of the rule set as a whole (the patterns themselves), one line each. */
export function topicRuleProblems(rules: Record<string, TopicRule>, maxTopicLength: number): string[] {
  const problems: string[] = [];
  for (const [pattern, rule] of Object.entries(rules)) {
    const label = `topics.rules[${JSON.stringify(pattern)}]`;
    if (pattern === '' || /[\s\p{Cc}]/u.test(pattern)) {
      problems.push(
        `${label}: a pattern is a topic name (no whitespace or control characters) with * wildcards`,
      );
    } else if (Buffer.byteLength(pattern) > maxTopicLength) {
      problems.push(`${label}: longer than limits.maxTopicLength (${maxTopicLength} bytes)`);
    } else if (pattern.startsWith('$') && rule.publish !== 'none') {
      problems.push(`${label}: topics starting with "$" are the server's: publish must be "none"`);
    }
  }
  return problems;
}
