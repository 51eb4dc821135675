/**
 * What one session was granted beyond the rules everyone gets (docs/security.md): the topic and
 * presence grants of its token, and the topics that subscription tokens opened on this connection.
 * Pattern sets are compiled once, at authentication; a session without grants holds two nulls.
 */
import type { Grants } from '../auth/grants.js';
import { PatternSet } from '../auth/topic-pattern.js';

export class SessionGrants {
  private readonly topics: PatternSet | null;
  private readonly presence: PatternSet | null;
  /** Topics opened by subscription tokens presented on this connection. */
  private subscriptionTopics: Set<string> | null = null;

  constructor(grants: Grants | undefined) {
    this.topics = grants !== undefined && grants.topics.length > 0 ? new PatternSet(grants.topics) : null;
    this.presence =
      grants !== undefined && grants.presence.length > 0 ? new PatternSet(grants.presence) : null;
  }

  /** True when the token's `topics` claim or a subscription token of this connection covers `topic`. */
  hasTopic(topic: string): boolean {
    return this.topics?.matches(topic) === true || this.subscriptionTopics?.has(topic) === true;
  }

  /**
   * Records a verified subscription token's topic. It stays granted for the life of the connection:
   * the token was needed to subscribe, and the subscription (and publishing as its subscriber)
   * outlives it, as a login outlives the token that opened it.
   */
  addSubscriptionTopic(topic: string): void {
    (this.subscriptionTopics ??= new Set()).add(topic);
  }

  /** True when the token's `presence` claim lists `userId` (or a pattern matching it). */
  seesPresenceOf(userId: string): boolean {
    return this.presence?.matches(userId) === true;
  }
}
