/**
 * Accepts client messages and moves them: QoS 1 into the store first, then onto the bus; QoS 0 onto
 * the bus only. It only sends: what the bus brings back, to this node's sessions, is LocalDelivery's.
 *
 * Invariant: a SendAck (the resolved promise of `send`/`publish` for QoS 1) is only ever produced for
 * a message the store has accepted. A store failure rejects with a StoreError, a bus failure with a
 * BusUnavailableError (the caller's edge maps both to 107 UNAVAILABLE, retryable).
 *
 * Overload (docs/architecture.md, "Backpressure"): a QoS-1 message holds one of the node's
 * `maxPendingAppends` slots from its append until its forward settles, and is refused with 109 BUSY
 * (nothing stored) when none is free; a QoS-0 message is shed (109 when it has an id, counted either
 * way) while the bus has more than `maxBusBacklogBytes` waiting for other nodes. Neither queues.
 */
import type { Bus, ControlMessage, Envelope, QoS } from '../bus/bus.js';
import { BusUnavailableError, GatewayError, ReplyCode, RequestError, StoreError } from '../errors.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AppendResult, MessageStore, NewMessage } from '../store/message-store.js';
import { PendingAppends, type PendingAppendsStats } from './pending-appends.js';

/** Who sent a message: the authenticated user and device of the sending session (or a service). */
export interface Sender {
  userId: string;
  deviceId: string;
  /**
   * Set only by server-side senders (access-API Push/Broadcast: the caller's name; upstream replies:
   * the service name); absent for a client session (sessions pass themselves as the Sender and have
   * no such property). Becomes `Envelope.fromService`, which no client frame can set.
   */
  fromService?: string;
}

/** A message to every device of one user. */
export interface SendRequest {
  toUser: string;
  payload: Uint8Array;
  qos: QoS;
  /** Dedup key for QoS 1, unique per sending user; '' = no dedup. */
  clientMsgId: string;
  ephemeral: boolean;
}

/** A message to every subscriber of one topic (except the sending session). */
export interface PublishRequest {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  clientMsgId: string;
  ephemeral: boolean;
}

/** What sessions need from the router: the two ways a client message enters the system. */
export interface MessageIntake {
  /**
   * Resolves when accepted: QoS 1 stored (the store's result; `duplicate` for a repeat), QoS 0 as
   * {@link sendTransient} takes it. A QoS-1 message over `store.maxPendingAppends` is refused by
   * throwing the 109 BUSY RequestError synchronously, before anything is stored; other failures reject.
   */
  send(from: Sender, req: SendRequest): Promise<AppendResult>;
  /** Same for topics; the seq of a QoS-1 publication is its topic offset. */
  publish(from: Sender, req: PublishRequest): Promise<AppendResult>;
  /**
   * Takes a QoS-0 message (`req.qos` must be 0) and returns at once (seq 0): delivered to this node's
   * recipients and handed to the bus for the others. At most once: a forward that fails afterwards is
   * counted (`ferry_messages_dropped_total{reason="forward_failed"}`) and logged by the bus, not
   * reported to the sender. Throws the 109 BUSY RequestError when the bus backlog is over its bound.
   */
  sendTransient(from: Sender, req: SendRequest): AppendResult;
  /** Same for topics. */
  publishTransient(from: Sender, req: PublishRequest): AppendResult;
  /** Tells other nodes that (user, device) now lives in `sessionId`, so they drop older sessions. */
  announceSession(userId: string, deviceId: string, sessionId: string): void;
  /** Moves counts kept as plain numbers on the hot path into the Prometheus metrics. */
  flushMetrics(): void;
}

/** The `overload` part of /stats. */
export interface OverloadStats extends PendingAppendsStats {
  busBacklogBytes: number;
  maxBusBacklogBytes: number;
  /** QoS-0 messages shed since the node started. */
  shedQos0: number;
}

/** Constructor dependencies of a MessageRouter. */
export interface MessageRouterDeps {
  nodeId: string;
  store: MessageStore;
  bus: Bus;
  metrics: Metrics;
  logger: Logger;
  /** Clock for QoS-0 timestamps and settle times. Default Date.now. */
  now?: () => number;
  /** QoS-1 messages being stored or forwarded at once (`store.maxPendingAppends`); default unbounded. */
  maxPendingAppends?: number;
  /** Bus backlog above which QoS 0 is shed (`redis.maxBacklogBytes`); default unbounded. */
  maxBusBacklogBytes?: number;
}

/** At most one warning per this interval about QoS-0 forwards that failed (each carries the count). */
const LOSS_LOG_INTERVAL_MS = 10_000;

/** Routes client messages through the store and onto the bus. */
export class MessageRouter implements MessageIntake {
  private readonly store: MessageStore;
  private readonly bus: Bus;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly now: () => number;
  /** Prefix of locally generated (QoS-0) server ids: node plus boot time, so restarts do not collide. */
  private readonly idPrefix: string;
  private counter = 0;
  /**
   * Accepted messages by kind and QoS, and duplicates, as plain numbers: a labelled prom-client inc
   * hashes its labels on every call, a measurable share of the per-message cost. Flushed by
   * `flushMetrics` (the session manager's sweep calls it every second).
   */
  private readonly accepted = { user: [0, 0], topic: [0, 0] };
  private duplicates = 0;
  /** The node-wide bound on QoS-1 messages in flight. */
  private readonly pending: PendingAppends;
  private readonly maxBacklog: number;
  /** QoS-0 messages shed, since start and since the last metrics flush. */
  private shed = 0;
  private shedUnflushed = 0;
  /** Shared rejection handler for fire-and-forget publishes: no closure per message. */
  private readonly onPublishFailed: (err: unknown) => void;
  /** QoS-0 messages accepted whose forward failed, since the last metrics flush. */
  private transientLost = 0;
  /** For the rate-limited warning: losses since the last one, and when it was written. */
  private transientLostSinceLog = 0;
  private transientLostLoggedAt = -Infinity;
  /** Shared rejection handler for accepted QoS-0 forwards (the bus counts the cause). */
  private readonly onTransientLost: () => void;

  constructor(deps: MessageRouterDeps) {
    this.store = deps.store;
    this.bus = deps.bus;
    this.metrics = deps.metrics;
    this.log = componentLogger(deps.logger, 'router');
    this.now = deps.now ?? Date.now;
    this.idPrefix = `${deps.nodeId}-q${Date.now().toString(36)}-`;
    this.pending = new PendingAppends(deps.maxPendingAppends ?? Infinity, this.now);
    this.maxBacklog = deps.maxBusBacklogBytes ?? Infinity;
    this.onPublishFailed = (err) => {
      // The message is in the store: recipients get it on their next gap pull or reconnect.
      this.log.warn(
        { err },
        'bus publish of a stored message failed; recipients will catch up from the store',
      );
    };
    this.onTransientLost = () => {
      this.transientLost++;
      this.transientLostSinceLog++;
      const now = this.now();
      if (now - this.transientLostLoggedAt < LOSS_LOG_INTERVAL_MS) return;
      this.transientLostLoggedAt = now;
      this.log.warn(
        { lost: this.transientLostSinceLog },
        'QoS-0 messages were taken but their forward to other nodes failed (at most once: not retried)',
      );
      this.transientLostSinceLog = 0;
    };
  }

  send(from: Sender, req: SendRequest): Promise<AppendResult> {
    const msg = newMessage(from, req.toUser, '', req);
    if (req.qos === 1) return this.acceptStored(msg, 'user');
    return this.acceptTransientAsync(msg, 'user');
  }

  publish(from: Sender, req: PublishRequest): Promise<AppendResult> {
    const msg = newMessage(from, '', req.topic, req);
    if (req.qos === 1) return this.acceptStored(msg, 'topic');
    return this.acceptTransientAsync(msg, 'topic');
  }

  sendTransient(from: Sender, req: SendRequest): AppendResult {
    return this.acceptTransient(newMessage(from, req.toUser, '', req), 'user');
  }

  publishTransient(from: Sender, req: PublishRequest): AppendResult {
    return this.acceptTransient(newMessage(from, '', req.topic, req), 'topic');
  }

  flushMetrics(): void {
    for (const kind of ['user', 'topic'] as const) {
      for (let qos = 0; qos < 2; qos++) {
        const v = this.accepted[kind][qos]!;
        if (v === 0) continue;
        this.accepted[kind][qos] = 0;
        this.metrics.messagesAccepted.inc({ qos: String(qos), kind }, v);
      }
    }
    if (this.duplicates > 0) this.metrics.duplicates.inc(this.duplicates);
    this.duplicates = 0;
    const busy = this.pending.takeBusy();
    if (busy > 0) this.metrics.overload.inc({ action: 'busy' }, busy);
    if (this.shedUnflushed > 0) this.metrics.overload.inc({ action: 'shed' }, this.shedUnflushed);
    this.shedUnflushed = 0;
    if (this.transientLost > 0)
      this.metrics.messagesDropped.inc({ reason: 'forward_failed' }, this.transientLost);
    this.transientLost = 0;
    this.metrics.pendingAppends.set(this.pending.size);
    this.metrics.busBacklogBytes.set(this.bus.backlogBytes());
  }

  /** What /stats shows under `overload`. */
  overloadStats(): OverloadStats {
    return {
      ...this.pending.stats(),
      busBacklogBytes: this.bus.backlogBytes(),
      maxBusBacklogBytes: Number.isFinite(this.maxBacklog) ? this.maxBacklog : 0,
      shedQos0: this.shed,
    };
  }

  announceSession(userId: string, deviceId: string, sessionId: string): void {
    this.bus
      .publishControl({ type: 'replace', userId, deviceId, keepSessionId: sessionId })
      .catch((err: unknown) => this.log.warn({ err, userId, deviceId }, 'replace announcement failed'));
  }

  /**
   * Disconnects a user's sessions on every node (the admin/gRPC Kick). Resolves when the control
   * message is on the bus; rejects with a BusUnavailableError when it could not be published.
   */
  async kick(userId: string, deviceId: string | undefined, code: number, reason: string): Promise<void> {
    const msg: ControlMessage = { type: 'kick', userId, code, reason };
    if (deviceId !== undefined) msg.deviceId = deviceId;
    try {
      await this.bus.publishControl(msg);
    } catch (err) {
      throw busError(err);
    }
  }

  /**
   * Throws the 109 BUSY synchronously (nothing was stored), not as a rejection: the session then sets
   * its retry hold before it decodes the next frame of the same read, so a burst costs one 109, not
   * one per frame.
   */
  private acceptStored(msg: NewMessage, kind: 'user' | 'topic'): Promise<AppendResult> {
    const takenAt = this.pending.acquire();
    return this.storeAndForward(msg, kind, takenAt);
  }

  private async storeAndForward(
    msg: NewMessage,
    kind: 'user' | 'topic',
    takenAt: number,
  ): Promise<AppendResult> {
    let res: AppendResult;
    try {
      res = await (kind === 'user' ? this.store.appendToUser(msg) : this.store.appendToTopic(msg));
    } catch (err) {
      this.pending.release(takenAt);
      this.log.warn({ err, kind }, 'store append failed');
      throw storeError(err);
    }
    if (res.duplicate) this.duplicates++;
    else this.accepted[kind][1]!++;
    // Duplicates are published again on purpose: a retry usually means the first ack was lost, and the
    // first publish may have been lost with it (a node crash between append and publish). Sessions drop
    // seqs they have already sent, so the cost is one redundant fan-out per retry.
    const env = envelope(msg, res.serverId, res.seq, res.timestampMs);
    const published = kind === 'user' ? this.bus.publishToUser(env) : this.bus.publishToTopic(env);
    // The slot is held until the forward settles: until then the message is in this node's heap.
    published.then(
      () => this.pending.release(takenAt),
      (err: unknown) => {
        this.pending.release(takenAt);
        this.onPublishFailed(err);
      },
    );
    return res;
  }

  /**
   * QoS 0 is answered at accept, like a bare forward does, not when the bus's write returns: waiting
   * would hold a promise and a closure per message and add a Redis round trip (two when a write is
   * already in flight for the stream) to every SendAck, for a guarantee at most once does not give.
   */
  private acceptTransient(msg: NewMessage, kind: 'user' | 'topic'): AppendResult {
    if (this.bus.backlogBytes() > this.maxBacklog) {
      // At most once allows the loss; queueing it would grow the heap for as long as Redis lags.
      this.shed++;
      this.shedUnflushed++;
      throw new RequestError(ReplyCode.BUSY, 'this node is not keeping up; the message was not sent', {
        retryable: true,
        retryAfterMs: this.pending.retryAfterMs(this.now()),
      });
    }
    const timestampMs = this.now();
    const env = envelope(msg, this.idPrefix + (this.counter++).toString(36), 0, timestampMs);
    this.accepted[kind][0]!++;
    const published = kind === 'user' ? this.bus.publishToUser(env) : this.bus.publishToTopic(env);
    published.catch(this.onTransientLost);
    return { serverId: env.serverId, seq: 0, timestampMs, duplicate: false };
  }

  /** `send`/`publish` for QoS 0: the synchronous accept as a promise, for callers that await either QoS. */
  private acceptTransientAsync(msg: NewMessage, kind: 'user' | 'topic'): Promise<AppendResult> {
    try {
      return Promise.resolve(this.acceptTransient(msg, kind));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

function newMessage(
  from: Sender,
  toUser: string,
  topic: string,
  req: { payload: Uint8Array; qos: QoS; clientMsgId: string; ephemeral: boolean },
): NewMessage {
  return {
    fromUser: from.userId,
    fromDevice: from.deviceId,
    toUser,
    topic,
    payload: req.payload,
    qos: req.qos,
    clientMsgId: req.clientMsgId,
    ephemeral: req.ephemeral,
    fromService: from.fromService ?? '',
  };
}

/** Builds an Envelope with its fields always in declaration order (one hidden class for the encoder). */
function envelope(msg: NewMessage, serverId: string, seq: number, timestampMs: number): Envelope {
  return {
    serverId,
    seq,
    fromUser: msg.fromUser,
    fromDevice: msg.fromDevice,
    toUser: msg.toUser,
    topic: msg.topic,
    payload: msg.payload,
    timestampMs,
    qos: msg.qos,
    clientMsgId: msg.clientMsgId,
    ephemeral: msg.ephemeral,
    fromService: msg.fromService,
  };
}

/** A store's own GatewayError passes through; anything else it threw becomes a StoreError. */
function storeError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new StoreError('message store append failed', { cause: err });
}

/** A bus's own GatewayError passes through; anything else it threw becomes a BusUnavailableError. */
function busError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new BusUnavailableError('bus publish failed', { cause: err });
}
