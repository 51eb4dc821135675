/**
 * A session's topic subscriptions (docs/protocol.md §5.5): the topic rules on Subscribe, replay of
 * retained QoS-1 publications after `since_seq`, and live publications, which wait behind a replay
 * that runs for their topic. Created at a session's first Subscribe; most sessions never have one.
 */
import { AuthError, DisconnectCode, ReplyCode, RequestError } from '../errors.js';
import type { TopicClient } from '../auth/topic-policy.js';
import type { Envelope } from '../bus/bus.js';
import { EncodedDeliver } from '../routing/encoded-deliver.js';
import type { Outbox } from './outbox.js';
import type { RegisteredSession } from './registry.js';
import { encodeFor, type SessionContext } from './session-context.js';
import type { SessionGrants } from './session-grants.js';
import { PULL_BATCH } from './user-delivery.js';

/** Most live publications held per topic while its replay runs; past it the subscriber is too slow. */
const MAX_REPLAY_BACKLOG = 1024;

/** A Subscribe frame's fields, defaults applied. */
export interface SubscribeRequest {
  topic: string;
  sinceSeq: number;
  fromStart: boolean;
  /** Subscription token, '' when none. */
  token: string;
}

/** The session a TopicSubscriptions belongs to. */
export interface TopicHost extends RegisteredSession, TopicClient {
  readonly ctx: SessionContext;
  readonly out: Outbox;
  readonly grants: SessionGrants;
  /** False once the session is closing: late answers and replays are dropped. */
  readonly isOpen: boolean;
  /** Sends an Error frame answering request `id`. */
  sendError(id: number, err: unknown): void;
  /** The subscriber fell too far behind (4003). */
  onSlowConsumer(): void;
}

/** The topics one session subscribed to, and their replays. */
export class TopicSubscriptions {
  private readonly host: TopicHost;
  private readonly topics = new Set<string>();
  /** Topics whose replay is running -> live publications held until it ends. */
  private replays: Map<string, Envelope[]> | null = null;

  constructor(host: TopicHost) {
    this.host = host;
  }

  /** This connection is subscribed to `topic` now. */
  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** A live publication of a subscribed topic. */
  deliver(env: Envelope, encoded: EncodedDeliver): void {
    const held = this.replays?.get(env.topic);
    if (held !== undefined) {
      if (held.length >= MAX_REPLAY_BACKLOG) this.host.onSlowConsumer();
      else held.push(env);
      return;
    }
    const out = this.host.out;
    // QoS-1 topic messages carry the topic offset; there is no per-subscriber window or cursor.
    if (env.qos === 0) out.sendTransient(env, encoded);
    else out.sendReliable(encoded.bytesFor(out.conn.framing), env.timestampMs);
  }

  /**
   * Subscribe: checks the topic rules (subscribe, and history when a replay is asked for), registers
   * the topic, answers Reply{topic_seq}, then replays retained QoS-1 publications after `since_seq`
   * (or all of them with `from_start`) before live ones. A subscription token is verified first
   * (asynchronously), and its grant recorded for this connection. Throws RequestError
   * PERMISSION_DENIED or LIMIT_EXCEEDED; a token's refusal is answered the same way.
   */
  subscribe(id: number, req: SubscribeRequest): void {
    if (req.token === '') {
      this.subscribeChecked(id, req);
      return;
    }
    const host = this.host;
    host.ctx.deps.authenticator.verifySubscription(req.token).then(
      (grant) => {
        if (!host.isOpen) return;
        try {
          if (grant.userId !== host.userId) throw denied('the subscription token was issued to another user');
          if (grant.topic !== req.topic)
            throw denied(`the subscription token is for topic ${JSON.stringify(grant.topic)}`);
          host.grants.addSubscriptionTopic(req.topic);
          this.subscribeChecked(id, req);
        } catch (err) {
          host.sendError(id, err);
        }
      },
      (err: unknown) => {
        if (host.isOpen) host.sendError(id, subscriptionTokenError(err));
      },
    );
  }

  /** Unsubscribe (idempotent): answers Reply. */
  unsubscribe(id: number, topic: string): void {
    const host = this.host;
    if (this.topics.delete(topic)) host.ctx.deps.registry.unsubscribe(topic, host);
    this.endReplay(topic);
    host.out.sendFrame({ id, reply: {} });
  }

  /** Leaves every topic (the session is closing). */
  close(): void {
    const { host, topics } = this;
    this.replays = null;
    for (const topic of topics) host.ctx.deps.registry.unsubscribe(topic, host);
    topics.clear();
  }

  private subscribeChecked(id: number, req: SubscribeRequest): void {
    const { host, topics } = this;
    const { topic } = req;
    const replay = req.fromStart || req.sinceSeq > 0;
    const rules = host.ctx.settings.permissions.topics;
    const why =
      rules.check('subscribe', topic, host) ?? (replay ? rules.check('history', topic, host) : null);
    if (why !== null) throw denied(why);
    if (!topics.has(topic)) {
      const max = host.ctx.settings.maxSubscriptions;
      if (topics.size >= max) {
        throw new RequestError(ReplyCode.LIMIT_EXCEEDED, `at most ${max} subscriptions per connection`);
      }
      topics.add(topic);
      host.ctx.deps.registry.subscribe(topic, host);
    }
    // Hold live publications from now on, so none slips between the replay's last read and going live.
    if (replay) (this.replays ??= new Map()).set(topic, this.replays.get(topic) ?? []);
    void this.answerSubscribe(id, topic, replay ? req.sinceSeq : -1);
  }

  /** `after` >= 0: replay the offsets after it (0 = from the first); -1: live only. */
  private async answerSubscribe(id: number, topic: string, after: number): Promise<void> {
    const host = this.host;
    let topicSeq: number;
    try {
      topicSeq = await host.ctx.deps.store.lastTopicSeq(topic);
    } catch (err) {
      host.ctx.telemetry.log.warn({ err, topic }, 'reading the topic position failed');
      if (this.topics.delete(topic)) host.ctx.deps.registry.unsubscribe(topic, host);
      this.endReplay(topic);
      const unavailable = new RequestError(ReplyCode.UNAVAILABLE, 'message store unavailable', {
        retryable: true,
      });
      host.sendError(id, unavailable);
      return;
    }
    host.out.sendFrame({ id, reply: { topicSeq } });
    if (after >= 0) await this.replayTopic(topic, after);
  }

  private async replayTopic(topic: string, sinceSeq: number): Promise<void> {
    const host = this.host;
    const framing = host.out.conn.framing;
    let after = sinceSeq;
    try {
      for (;;) {
        const batch = await host.ctx.deps.store.readTopic(topic, after, PULL_BATCH);
        if (!host.isOpen || this.replays?.has(topic) !== true) return;
        for (const env of batch) {
          after = env.seq;
          host.out.sendReliable(encodeFor({ deliver: env }, framing), 0);
        }
        if (batch.length < PULL_BATCH) break;
      }
    } catch (err) {
      // The live subscription stands; the client can resubscribe with since_seq to retry the history.
      host.ctx.telemetry.log.warn({ err, topic }, 'topic replay failed');
    }
    const held = this.endReplay(topic);
    if (held === undefined || !host.isOpen) return;
    for (const env of held) {
      if (env.qos === 1 && env.seq <= after) continue; // already sent by the replay
      this.deliver(env, new EncodedDeliver(env));
    }
  }

  /** Stops holding live publications of `topic`; returns what was held. */
  private endReplay(topic: string): Envelope[] | undefined {
    const replays = this.replays;
    if (replays === null) return undefined;
    const held = replays.get(topic);
    replays.delete(topic);
    if (replays.size === 0) this.replays = null;
    return held;
  }
}

function denied(why: string): RequestError {
  return new RequestError(ReplyCode.PERMISSION_DENIED, why);
}

/**
 * A refused subscription token: 103 naming why, except when the token could not be judged (a
 * message-role node that cannot reach the access service), which is 107 UNAVAILABLE, retryable.
 */
function subscriptionTokenError(err: unknown): unknown {
  if (!(err instanceof AuthError)) return err;
  if (err.disconnectCode === DisconnectCode.AUTH_UNAVAILABLE)
    return new RequestError(ReplyCode.UNAVAILABLE, 'subscription token could not be checked; retry', {
      retryable: true,
      retryAfterMs: 1000,
    });
  return denied(`subscription token refused: ${err.message}`);
}
