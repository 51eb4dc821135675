/**
 * The delivery half of a session (docs/architecture.md, "Delivery and QoS"):
 *  - QoS-1 user messages go out strictly in seq order with at most `session.maxInflight` unacked. A
 *    live message that is not the next seq, or arrives while the window is full or a pull runs, starts
 *    a pull of the missing range from the store (one pull at a time, re-checked after every batch), so
 *    live pushes are only the fast path and nothing is skipped or reordered;
 *  - acks move the device's cursor in the store: the first ack after a quiet second is written at
 *    once, later ones at most once per CURSOR_WRITE_INTERVAL_MS (by the next ack, or by the sweep
 *    once none came for two intervals), one write in flight at a time, and whatever is owed when the
 *    session closes is written at once;
 *  - topic subscriptions, with replay of retained QoS-1 publications after `since_seq`; live
 *    publications that arrive during a replay wait behind it.
 */
import { AuthError } from '../errors.js';
import type { TopicClient } from '../auth/topic-policy.js';
import type { Envelope } from '../bus/bus.js';
import { DisconnectCode, ReplyCode, RequestError } from '../errors.js';
import { EncodedDeliver } from '../routing/encoded-deliver.js';
import type { TransportKind } from '../transport/transport.js';
import { PRIORITY_EPHEMERAL, PRIORITY_NORMAL, PRIORITY_RELIABLE } from './outbound-queue.js';
import { SessionGrants } from './session-grants.js';
import { STATE_CLOSING, STATE_OPEN, SessionOutput } from './session-output.js';

/** Most messages read from the store per pull or replay batch. */
export const PULL_BATCH = 128;
/** Most live publications held per topic while its replay runs; past it the subscriber is too slow. */
const MAX_REPLAY_BACKLOG = 1024;
/**
 * Least time between the starts of two cursor writes of one session. With Redis each write is one
 * script call, and a client acks every delivery: writing each ack cost one call per message. The
 * stored cursor only matters on (re)connect, and a client that sends `last_seq` does not depend on
 * it, so it may lag: after a crash, a device may get again what it acked since the last write
 * (QoS 1 is at least once; clients drop seqs they have).
 */
export const CURSOR_WRITE_INTERVAL_MS = 1000;

/** A Subscribe frame's fields, defaults applied. */
export interface SubscribeRequest {
  topic: string;
  sinceSeq: number;
  fromStart: boolean;
  /** Subscription token, '' when none. */
  token: string;
}

/** QoS-1 ordering, acks, and topic subscriptions of one session. */
export abstract class SessionDelivery extends SessionOutput implements TopicClient {
  userId = '';
  deviceId = '';
  sessionId = '';
  /** When the session was authenticated (presence `since`), ms since the epoch. */
  sinceMs = 0;
  /** Highest user seq handed to the output (or acknowledged by the client on resume). */
  protected lastSentSeq = 0;
  /** Highest user seq the client acknowledged (cumulative), never above lastSentSeq. */
  protected ackedSeq = 0;
  /**
   * Seqs sent and not yet acknowledged, oldest first, from `unackedHead` on (a queue that is not
   * shifted per ack). The window counts these messages, not `lastSentSeq - ackedSeq`: seqs jump
   * (retention, a new log's clock floor, the floor after Redis lost data) and a jump is not traffic.
   */
  private unacked: number[] = [];
  private unackedHead = 0;
  /** Highest seq written to the store's cursor for this device. */
  private storedAckSeq = 0;
  private cursorWriting = false;
  /** When the last cursor write started (the interval counts from there), per `ctx.now`. */
  private cursorWriteMs = Number.NEGATIVE_INFINITY;
  private pulling = false;
  /** Something may be in the store that was not sent: pull when the window allows. */
  protected needPull = false;
  /** Subscribed topics; created on the first Subscribe. */
  protected subscriptions: Set<string> | null = null;
  /** Grants of the token and of subscription tokens; replaced at authentication. */
  protected grants = NO_SESSION_GRANTS;
  /** Topics whose replay is running -> live publications held until it ends. */
  private replays: Map<string, Envelope[]> | null = null;

  /** RegisteredSession: the transport this session runs on. */
  get transport(): TransportKind {
    return this.conn.kind;
  }

  /** RegisteredSession: the highest QoS-1 user seq handed to the output. */
  get sentSeq(): number {
    return this.lastSentSeq;
  }

  /** QoS-1 user deliveries sent and not yet acknowledged. */
  get inflight(): number {
    return this.unacked.length - this.unackedHead;
  }

  /** DeliveryTarget: one envelope from the router. Never throws. */
  deliver(env: Envelope, encoded: EncodedDeliver): void {
    if (this.state !== STATE_OPEN) return;
    if (env.topic !== '') this.deliverTopic(env, encoded);
    else if (env.qos === 1) this.deliverReliable(env, encoded);
    else this.deliverTransient(env, encoded);
  }

  /** Starts at `seq` (everything up to it counts as delivered and acked) and pulls what follows. */
  protected resumeFrom(seq: number, storedCursor: number): void {
    this.lastSentSeq = this.ackedSeq = seq;
    this.unacked = [];
    this.unackedHead = 0;
    this.storedAckSeq = storedCursor;
    // A client-supplied last_seq past the stored cursor is an ack: record it.
    this.flushCursor(this.ctx.now());
    this.requestPull();
  }

  /** The client acknowledged every user delivery up to `seq`. */
  protected onAck(seq: number): void {
    // Acks past what this session sent acknowledge nothing it knows of; never let them skip messages.
    const upTo = Math.min(seq, this.lastSentSeq);
    if (upTo <= this.ackedSeq) return;
    this.ackedSeq = upTo;
    const unacked = this.unacked;
    let head = this.unackedHead;
    while (head < unacked.length && unacked[head]! <= upTo) head++;
    if (head === unacked.length) {
      unacked.length = 0;
      head = 0;
    } else if (head >= 64 && head * 2 >= unacked.length) {
      // Keep the array from growing while a client acks less than it is sent.
      this.unacked = unacked.slice(head);
      head = 0;
    }
    this.unackedHead = head;
    this.flushCursor(this.ctx.now());
    if (this.needPull && !this.pulling) void this.pull();
  }

  /** Retries a pull that failed or waits for room (called by the sweep). */
  protected retryPull(): void {
    if (this.needPull && !this.pulling && this.inflight < this.ctx.maxInflight) void this.pull();
  }

  /**
   * Starts a cursor write if one is owed and none is in flight: at once when the session is closing
   * (no sweep will come back for it), otherwise once `minGapMs` have passed since the last write
   * started. Acks and close use CURSOR_WRITE_INTERVAL_MS. The sweep (which also retries failed
   * writes) passes twice that: every session of a node is swept in the same turn, so with one
   * interval a cursor the sweep wrote would be due again at the next sweep, and all sessions would
   * end up writing together, a burst of one script per session each second that appends queue
   * behind in Redis. Ack-triggered writes stay spread over the second like the acks themselves.
   */
  protected flushCursor(now: number, minGapMs = CURSOR_WRITE_INTERVAL_MS): void {
    if (!this.cursorWriting && this.cursorDue(now, minGapMs)) this.ctx.trackCursorWrite(this.writeCursor());
  }

  private cursorDue(now: number, interval: number): boolean {
    if (this.storedAckSeq >= this.ackedSeq) return false;
    return this.state >= STATE_CLOSING || now - this.cursorWriteMs >= interval;
  }

  private deliverReliable(env: Envelope, encoded: EncodedDeliver): void {
    const seq = env.seq;
    if (seq <= this.lastSentSeq) return; // already sent: a re-published duplicate, or pulled first
    if (!this.pulling && seq === this.lastSentSeq + 1 && this.inflight < this.ctx.maxInflight) {
      this.lastSentSeq = seq;
      this.unacked.push(seq);
      this.ctx.traffic.delivered[1]!++;
      this.sendBytes(encoded.bytesFor(this.conn.framing), PRIORITY_RELIABLE, env.timestampMs);
      return;
    }
    this.requestPull();
  }

  private deliverTransient(env: Envelope, encoded: EncodedDeliver): void {
    this.ctx.traffic.delivered[0]!++;
    if (env.ephemeral && this.conn.supportsDatagrams) {
      // Ephemeral frames (typing and the like) may travel as WebTransport datagrams: unreliable is fine.
      const bytes = encoded.bytesFor('message');
      if (bytes.length <= this.conn.maxDatagramBytes && this.conn.writeDatagram(bytes)) {
        this.countOut(bytes.length);
        return;
      }
    }
    const priority = env.ephemeral ? PRIORITY_EPHEMERAL : PRIORITY_NORMAL;
    this.sendBytes(encoded.bytesFor(this.conn.framing), priority, env.timestampMs);
  }

  private deliverTopic(env: Envelope, encoded: EncodedDeliver): void {
    const held = this.replays?.get(env.topic);
    if (held !== undefined) {
      if (held.length >= MAX_REPLAY_BACKLOG) this.onSlowConsumer();
      else held.push(env);
      return;
    }
    if (env.qos === 0) {
      this.deliverTransient(env, encoded);
      return;
    }
    // QoS-1 topic messages carry the topic offset; there is no per-subscriber window or cursor.
    this.ctx.traffic.delivered[1]!++;
    this.sendBytes(encoded.bytesFor(this.conn.framing), PRIORITY_RELIABLE, env.timestampMs);
  }

  private requestPull(): void {
    this.needPull = true;
    if (!this.pulling) void this.pull();
  }

  /**
   * Reads missing QoS-1 user messages from the store and sends them in order, batch by batch, while
   * the window has room. Only one runs per session (`pulling`); live messages arriving meanwhile set
   * `needPull`, so the loop reads again instead of racing them. Replayed messages carry no latency
   * stamp: their age says how long the client was away, not how fast the gateway is.
   */
  private async pull(): Promise<void> {
    this.pulling = true;
    try {
      while (this.needPull && this.state === STATE_OPEN) {
        const room = this.ctx.maxInflight - this.inflight;
        if (room <= 0) return; // needPull stays set: the next ack resumes
        this.needPull = false;
        const limit = Math.min(room, PULL_BATCH);
        const batch = await this.ctx.store.readUser(this.userId, this.lastSentSeq, limit);
        if (this.state !== STATE_OPEN) return;
        for (const env of batch) {
          // Retention may have dropped some seqs: they are gone, so a jump forward is accepted.
          if (env.seq <= this.lastSentSeq) continue;
          this.lastSentSeq = env.seq;
          this.unacked.push(env.seq);
          this.ctx.traffic.delivered[1]!++;
          this.sendBytes(this.frameOf(env), PRIORITY_RELIABLE, 0);
        }
        if (batch.length === limit) this.needPull = true; // there may be more
      }
    } catch (err) {
      this.needPull = true; // the sweep retries
      this.ctx.log.warn({ err, userId: this.userId }, 'reading pending messages from the store failed');
    } finally {
      this.pulling = false;
    }
  }

  /**
   * Writes the acked position to the store, one write at a time; acks arriving meanwhile are folded
   * into the next write, which follows at once only if it is due by then (the session closed, or a
   * slow write took the whole interval). Runs to completion even after the session closes: the cursor
   * must persist (drain and shutdown wait for it through `ctx.trackCursorWrite`). Never rejects.
   */
  private async writeCursor(): Promise<void> {
    this.cursorWriting = true;
    try {
      do {
        const seq = this.ackedSeq;
        this.cursorWriteMs = this.ctx.now();
        await this.ctx.store.ackUser(this.userId, this.deviceId, seq);
        this.storedAckSeq = seq;
      } while (this.cursorDue(this.ctx.now(), CURSOR_WRITE_INTERVAL_MS));
    } catch (err) {
      // Not fatal: the sweep retries while the session is open; at worst the device gets some
      // messages again (at least once).
      this.ctx.log.warn({ err, userId: this.userId }, 'writing the ack cursor failed');
    } finally {
      this.cursorWriting = false;
    }
  }

  /**
   * Subscribe (docs/protocol.md §5.5): checks the topic rules (subscribe, and history when a replay is
   * asked for), registers the topic, answers Reply{topic_seq}, then replays retained QoS-1
   * publications after `since_seq` (or all of them with `from_start`) before live ones. A subscription
   * token is verified first (asynchronously), and its grant recorded for this connection. Throws
   * RequestError PERMISSION_DENIED or LIMIT_EXCEEDED; a token's refusal is answered the same way.
   */
  protected subscribe(id: number, req: SubscribeRequest): void {
    if (req.token === '') {
      this.subscribeChecked(id, req);
      return;
    }
    this.ctx.authenticator.verifySubscription(req.token).then(
      (grant) => {
        if (this.state !== STATE_OPEN) return;
        try {
          if (grant.userId !== this.userId) throw denied('the subscription token was issued to another user');
          if (grant.topic !== req.topic)
            throw denied(`the subscription token is for topic ${JSON.stringify(grant.topic)}`);
          this.grants.addSubscriptionTopic(req.topic);
          this.subscribeChecked(id, req);
        } catch (err) {
          this.sendError(id, err);
        }
      },
      (err: unknown) => {
        if (this.state === STATE_OPEN) this.sendError(id, subscriptionTokenError(err));
      },
    );
  }

  private subscribeChecked(id: number, req: SubscribeRequest): void {
    const { topic } = req;
    const replay = req.fromStart || req.sinceSeq > 0;
    const topics = this.ctx.permissions.topics;
    const why =
      topics.check('subscribe', topic, this) ?? (replay ? topics.check('history', topic, this) : null);
    if (why !== null) throw denied(why);
    const subs = (this.subscriptions ??= new Set());
    if (!subs.has(topic)) {
      if (subs.size >= this.ctx.maxSubscriptions) {
        throw new RequestError(
          ReplyCode.LIMIT_EXCEEDED,
          `at most ${this.ctx.maxSubscriptions} subscriptions per connection`,
        );
      }
      subs.add(topic);
      this.ctx.registry.subscribe(topic, this);
    }
    // Hold live publications from now on, so none slips between the replay's last read and going live.
    if (replay) (this.replays ??= new Map()).set(topic, this.replays.get(topic) ?? []);
    void this.answerSubscribe(id, topic, replay ? req.sinceSeq : -1);
  }

  /** TopicClient: a grant of the token or of a subscription token of this connection covers `topic`. */
  isGranted(topic: string): boolean {
    return this.grants.hasTopic(topic);
  }

  /** RequestHost: the token's `presence` claim lists `userId`. */
  seesPresenceOf(userId: string): boolean {
    return this.grants.seesPresenceOf(userId);
  }

  /** TopicClient: this connection is subscribed to `topic` now. */
  isSubscribed(topic: string): boolean {
    return this.subscriptions?.has(topic) === true;
  }

  /** Unsubscribe (idempotent): answers Reply. */
  protected unsubscribe(id: number, topic: string): void {
    if (this.subscriptions?.delete(topic) === true) this.ctx.registry.unsubscribe(topic, this);
    this.endReplay(topic);
    this.sendFrame({ id, reply: {} });
  }

  /** Leaves every topic (the session is closing). */
  protected dropSubscriptions(): void {
    const subs = this.subscriptions;
    this.subscriptions = null;
    this.replays = null;
    if (subs !== null) for (const topic of subs) this.ctx.registry.unsubscribe(topic, this);
  }

  /** `after` >= 0: replay the offsets after it (0 = from the first); -1: live only. */
  private async answerSubscribe(id: number, topic: string, after: number): Promise<void> {
    let topicSeq: number;
    try {
      topicSeq = await this.ctx.store.lastTopicSeq(topic);
    } catch (err) {
      this.ctx.log.warn({ err, topic }, 'reading the topic position failed');
      if (this.subscriptions?.delete(topic) === true) this.ctx.registry.unsubscribe(topic, this);
      this.endReplay(topic);
      this.sendError(
        id,
        new RequestError(ReplyCode.UNAVAILABLE, 'message store unavailable', { retryable: true }),
      );
      return;
    }
    this.sendFrame({ id, reply: { topicSeq } });
    if (after >= 0) await this.replayTopic(topic, after);
  }

  private async replayTopic(topic: string, sinceSeq: number): Promise<void> {
    let after = sinceSeq;
    try {
      for (;;) {
        const batch = await this.ctx.store.readTopic(topic, after, PULL_BATCH);
        if (this.state !== STATE_OPEN || this.replays?.has(topic) !== true) return;
        for (const env of batch) {
          after = env.seq;
          this.ctx.traffic.delivered[1]!++;
          this.sendBytes(this.frameOf(env), PRIORITY_RELIABLE, 0);
        }
        if (batch.length < PULL_BATCH) break;
      }
    } catch (err) {
      // The live subscription stands; the client can resubscribe with since_seq to retry the history.
      this.ctx.log.warn({ err, topic }, 'topic replay failed');
    }
    const held = this.endReplay(topic);
    if (held === undefined || this.state !== STATE_OPEN) return;
    for (const env of held) {
      if (env.qos === 1 && env.seq <= after) continue; // already sent by the replay
      this.deliverTopic(env, new EncodedDeliver(env));
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

  /** The Deliver frame for one envelope, for this connection's framing. */
  private frameOf(env: Envelope): Uint8Array {
    return this.ctx.encode({ deliver: env }, this.conn.framing);
  }

  /** Sends an Error frame answering request `id`. */
  protected abstract sendError(id: number, err: unknown): void;

  protected override onSlowConsumer(): void {
    this.disconnect(DisconnectCode.SLOW_CONSUMER, 'outbound queue over its limit: reading too slowly');
  }

  /** Ends the session with a Disconnect frame. */
  abstract disconnect(code: number, reason: string, reconnectDelayMs?: number): void;
}

/** The grants of a session that has none (shared: nothing is ever added to it before authentication). */
const NO_SESSION_GRANTS = new SessionGrants(undefined);

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
