/**
 * What every session of one gateway shares: settings derived once from the configuration, the
 * services sessions call, pre-bound metric children and hot-path counters. Sessions hold one pointer
 * to it instead of copies, which keeps the per-connection object small (the memory budget is
 * ~10 KB per idle authenticated connection, transport included).
 */
import type { Authenticator } from '../auth/authenticator.js';
import { permissionsFromConfig, type Permissions } from '../auth/permissions.js';
import type { Presence } from '../bus/presence.js';
import type { FerryConfig } from '../config/schema.js';
import { disconnectCodeName, DisconnectCode, replyCodeName } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { encodeFrame, encodeFramePrefixed, type FrameInit } from '../protocol/codec.js';
import { ReservedUserIds } from '../protocol/identifier.js';
import { validationLimits, type ValidationLimits } from '../protocol/validate.js';
import type { MessageIntake } from '../routing/message-router.js';
import type { MessageStore } from '../store/message-store.js';
import type { ServiceRouter } from '../upstream/service-router.js';
import type { Framing, TransportKind } from '../transport/transport.js';
import { PRIORITY_EPHEMERAL, type QueueSettings } from './outbound-queue.js';
import type { RateLimits } from './rate-limiter.js';
import type { SessionRegistry } from './registry.js';

/** Index of a transport in the per-transport counter arrays. */
export const TRANSPORT_INDEX: Readonly<Record<TransportKind, number>> = { ws: 0, tcp: 1, wt: 2 };
export const TRANSPORT_KINDS: readonly TransportKind[] = ['ws', 'tcp', 'wt'];

/**
 * Transport write buffer level above which frames wait in the session's queue. Above Node's default
 * socket high-water mark (16 KiB), so a backed-up socket has returned false from write() and will emit
 * 'drain'; capped by the queue cap so small caps still queue before they overflow.
 */
const HIGH_WATER_MARK = 64 * 1024;

/** One delivery in this many is observed by the latency histogram. */
export const LATENCY_SAMPLE_EVERY = 8;

/**
 * Per-frame counters kept as plain numbers and moved into prom-client in bulk (`flush`): a labelled
 * prom-client `inc` hashes its labels on every call (~100 ns), several times per message. Flushed by
 * the sweep (every second) and by `SessionManager.flushMetrics()`, so /metrics lags by at most one
 * sweep interval unless the scrape handler flushes first.
 */
export class TrafficCounters {
  readonly framesIn = [0, 0, 0];
  readonly bytesIn = [0, 0, 0];
  readonly framesOut = [0, 0, 0];
  readonly bytesOut = [0, 0, 0];
  /** Deliver frames queued to recipients, by QoS. */
  readonly delivered = [0, 0];
  /** Frames over their connection's rate limit, by RATE_ACTIONS index (refused, held, dropped). */
  readonly rateLimited = [0, 0, 0];
  /** Frames held because their connection had `maxInflightSends` requests awaiting an answer. */
  windowHeld = 0;

  /** Adds everything counted since the last flush to the Prometheus metrics and resets. */
  flush(m: Metrics): void {
    for (let i = 0; i < 3; i++) {
      const labels = { transport: TRANSPORT_KINDS[i]! };
      let v: number;
      if ((v = take(this.framesIn, i)) > 0) m.framesIn.inc(labels, v);
      if ((v = take(this.bytesIn, i)) > 0) m.bytesIn.inc(labels, v);
      if ((v = take(this.framesOut, i)) > 0) m.framesOut.inc(labels, v);
      if ((v = take(this.bytesOut, i)) > 0) m.bytesOut.inc(labels, v);
    }
    for (let q = 0; q < 2; q++) {
      const v = take(this.delivered, q);
      if (v > 0) m.messagesDelivered.inc({ qos: String(q) }, v);
    }
    for (let a = 0; a < RATE_ACTIONS.length; a++) {
      const v = take(this.rateLimited, a);
      if (v > 0) m.rateLimited.inc({ action: RATE_ACTIONS[a]! }, v);
    }
    if (this.windowHeld > 0) m.overload.inc({ action: 'held' }, this.windowHeld);
    this.windowHeld = 0;
  }
}

/** What happened to a frame over its connection's rate limit: the `action` label, by counter index. */
export const RATE_ACTIONS = ['refused', 'held', 'dropped'] as const;
export const RATE_REFUSED = 0;
export const RATE_HELD = 1;
export const RATE_DROPPED = 2;

/** Returns values[i] and zeroes it. */
function take(values: number[], i: number): number {
  const v = values[i]!;
  values[i] = 0;
  return v;
}

/** The services and settings a SessionContext is built from (the manager's deps, minus wiring). */
export interface SessionServices {
  config: FerryConfig;
  nodeId: string;
  authenticator: Authenticator;
  router: MessageIntake;
  store: MessageStore;
  presence: Presence;
  registry: SessionRegistry;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  /** Routes ServiceRequest frames to business services; absent = none configured (102 NOT_FOUND). */
  services?: ServiceRouter | null;
  /** One-shot timers (a held-back session's resume); default Node's, tests pass a manual clock's. */
  timers?: SessionTimers;
}

/** The one-shot timers sessions use, replaceable so that tests can drive them with a manual clock. */
export interface SessionTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const NODE_TIMERS: SessionTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Shared state of all sessions of one gateway. Built by the SessionManager. */
export class SessionContext {
  readonly nodeId: string;
  readonly authDeadlineMs: number;
  readonly heartbeatMs: number;
  readonly idleTimeoutMs: number;
  readonly maxInflight: number;
  /** QoS-1 requests of one connection awaiting their answer before it is no longer read. */
  readonly maxInflightSends: number;
  readonly maxFrameBytes: number;
  readonly maxSubscriptions: number;
  readonly duplicateDevice: 'replace-old' | 'reject-new';
  readonly validation: ValidationLimits;
  /** Topic rules and presence visibility (docs/security.md). */
  readonly permissions: Permissions;
  /** Server-only user ids (`$`-prefixed and `auth.reservedUserIds`): a client Send to one is 103. */
  readonly reservedUserIds: ReservedUserIds;
  readonly rateLimits: RateLimits;
  readonly queue: QueueSettings;

  readonly authenticator: Authenticator;
  readonly router: MessageIntake;
  readonly services: ServiceRouter | null;
  readonly store: MessageStore;
  readonly presence: Presence;
  readonly registry: SessionRegistry;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now: () => number;
  readonly timers: SessionTimers;

  readonly traffic = new TrafficCounters();
  /** Delivery latency histogram children by QoS (0, 1). */
  readonly latency: readonly [{ observe(v: number): void }, { observe(v: number): void }];
  /** Counts stamped hand-offs; every LATENCY_SAMPLE_EVERY-th is observed (see `sampleLatency`). */
  private latencyTick = 0;
  /** Retry advice for sends refused while draining. */
  readonly drainRetryAfterMs: number;
  /** Set by drain: new Send/Publish get 107 UNAVAILABLE. */
  draining = false;
  /**
   * Cursor writes in flight, of open and closed sessions. Drain and close wait for them (bounded)
   * before the store is saved or closed: a closing session's final write must not be cut off.
   */
  readonly cursorWrites = new Set<Promise<void>>();
  /** Prefix of session ids: node id and boot time, so ids stay unique across restarts. */
  readonly sessionIdPrefix: string;

  private pingStampMs = -1;
  private pingMessage: Uint8Array | null = null;
  private pingStream: Uint8Array | null = null;

  constructor(s: SessionServices) {
    const c = s.config;
    this.nodeId = s.nodeId;
    this.authDeadlineMs = c.auth.deadlineMs;
    this.heartbeatMs = c.session.heartbeatMs;
    this.idleTimeoutMs = c.session.idleTimeoutMs;
    this.maxInflight = Math.max(1, c.session.maxInflight);
    this.maxInflightSends = Math.max(1, c.session.maxInflightSends);
    this.maxFrameBytes = c.limits.maxFrameBytes;
    this.maxSubscriptions = c.limits.maxSubscriptionsPerConnection;
    this.duplicateDevice = c.auth.duplicateDevice;
    this.validation = validationLimits(c.limits);
    this.permissions = permissionsFromConfig(c);
    this.reservedUserIds = new ReservedUserIds(c.auth.reservedUserIds);
    this.rateLimits = {
      framesPerSecond: c.limits.framesPerSecond,
      bytesPerSecond: c.limits.bytesPerSecond,
      floodToleranceSeconds: c.limits.floodToleranceSeconds,
      controlFrameCost: c.limits.controlFramePercent / 100,
    };
    const dropped = {
      ephemeral: s.metrics.messagesDropped.labels('ephemeral'),
      qos0: s.metrics.messagesDropped.labels('qos0'),
    };
    this.queue = {
      highWaterMark: Math.min(HIGH_WATER_MARK, Math.max(1, Math.floor(c.limits.outboundQueueBytes / 4))),
      capBytes: c.limits.outboundQueueBytes,
      shedQos0: false,
      queueBytes: s.metrics.outboundQueueBytes,
      queueFrames: s.metrics.outboundQueueFrames,
      onShed: (priority, frames) =>
        (priority === PRIORITY_EPHEMERAL ? dropped.ephemeral : dropped.qos0).inc(frames),
    };
    this.authenticator = s.authenticator;
    this.router = s.router;
    this.services = s.services ?? null;
    this.store = s.store;
    this.presence = s.presence;
    this.registry = s.registry;
    this.metrics = s.metrics;
    this.log = s.logger;
    this.now = s.now;
    this.timers = s.timers ?? NODE_TIMERS;
    this.latency = [s.metrics.deliveryLatency.labels('0'), s.metrics.deliveryLatency.labels('1')];
    this.drainRetryAfterMs = c.drain.reconnectDelayMs;
    this.sessionIdPrefix = `${s.nodeId}-${Date.now().toString(36)}-`;
  }

  /**
   * Whether this hand-off's latency goes into the histogram. A prom-client observe costs as much as
   * a third of a QoS-0 delivery, so one in LATENCY_SAMPLE_EVERY is observed: the distribution (and
   * its quantiles) is unbiased; the histogram's _count is deliveries / 8 (messagesDelivered has the
   * exact count).
   */
  sampleLatency(): boolean {
    return ++this.latencyTick % LATENCY_SAMPLE_EVERY === 0;
  }

  /** Keeps a cursor write (which never rejects) in `cursorWrites` until it settles. */
  trackCursorWrite(write: Promise<void>): void {
    this.cursorWrites.add(write);
    void write.then(() => this.cursorWrites.delete(write));
  }

  /** Encodes a frame for a transport's framing. */
  encode(frame: FrameInit, framing: Framing): Uint8Array {
    return framing === 'message' ? encodeFrame(frame) : encodeFramePrefixed(frame);
  }

  /**
   * The server Ping of one sweep, encoded once per framing for every session that is due: all pings
   * of a sweep carry the same timestamp.
   */
  pingBytes(nowMs: number, framing: Framing): Uint8Array {
    if (this.pingStampMs !== nowMs) {
      this.pingStampMs = nowMs;
      this.pingMessage = this.pingStream = null;
    }
    if (framing === 'message') return (this.pingMessage ??= encodeFrame({ ping: { timestampMs: nowMs } }));
    return (this.pingStream ??= encodeFramePrefixed({ ping: { timestampMs: nowMs } }));
  }

  /**
   * Counts a server-initiated disconnect: always in `ferry_disconnects_total`, and in
   * `ferry_errors_total` unless it is an orderly one (normal close, go-away, replaced, kicked).
   */
  countDisconnect(code: number): void {
    const name = disconnectCodeName(code);
    const labels = { code: String(code), name };
    this.metrics.disconnects.inc(labels);
    if (!ORDERLY.has(code)) this.metrics.errors.inc(labels);
  }

  /** Counts a reply error sent to a client. */
  countReplyError(code: number): void {
    this.metrics.errors.inc({ code: String(code), name: replyCodeName(code) });
  }
}

const ORDERLY = new Set<number>([
  DisconnectCode.NORMAL,
  DisconnectCode.GOING_AWAY,
  DisconnectCode.REPLACED,
  DisconnectCode.KICKED,
]);
