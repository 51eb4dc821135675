/**
 * What every session of one gateway shares, in four parts: `settings` (derived once from the
 * configuration), `deps` (the services sessions call), `telemetry` (counters, metrics, logger) and
 * the node-wide state sessions read or add to (the clock, `draining`, cursor writes in flight).
 */
import type { Authenticator } from '../auth/authenticator.js';
import type { Presence } from '../bus/presence.js';
import type { FerryConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { encodeFrame, encodeFramePrefixed, type FrameInit } from '../protocol/codec.js';
import type { MessageIntake } from '../routing/message-router.js';
import type { MessageStore } from '../store/message-store.js';
import type { Framing } from '../transport/transport.js';
import type { ServiceRouter } from '../upstream/service-router.js';
import type { SessionRegistry } from './registry.js';
import { sessionSettings, type SessionSettings } from './session-settings.js';
import { SessionTelemetry } from './session-telemetry.js';

/** The services sessions call. */
export interface SessionDeps {
  readonly authenticator: Authenticator;
  /** Takes Send and Publish; announces sessions (duplicate-device replacement across nodes). */
  readonly router: MessageIntake;
  /** Routes ServiceRequest frames to business services; null = none configured (102 NOT_FOUND). */
  readonly serviceRouter: ServiceRouter | null;
  readonly store: MessageStore;
  readonly presence: Presence;
  readonly registry: SessionRegistry;
}

/** What a SessionContext is built from (the manager's deps, minus its own wiring). */
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
  readonly settings: SessionSettings;
  readonly deps: SessionDeps;
  readonly telemetry: SessionTelemetry;
  readonly now: () => number;
  readonly timers: SessionTimers;
  /** Set by drain: new Send/Publish get 107 UNAVAILABLE. */
  draining = false;
  /**
   * Cursor writes in flight, of open and closed sessions. Drain and close wait for them (bounded)
   * before the store is saved or closed: a closing session's final write must not be cut off.
   */
  readonly cursorWrites = new Set<Promise<void>>();
  private readonly pings = new PingFrames();

  constructor(s: SessionServices) {
    this.settings = sessionSettings(s.config, s.nodeId, s.metrics);
    this.deps = {
      authenticator: s.authenticator,
      router: s.router,
      serviceRouter: s.services ?? null,
      store: s.store,
      presence: s.presence,
      registry: s.registry,
    };
    this.telemetry = new SessionTelemetry(s.metrics, s.logger);
    this.now = s.now;
    this.timers = s.timers ?? NODE_TIMERS;
  }

  /** Keeps a cursor write (which never rejects) in `cursorWrites` until it settles. */
  trackCursorWrite(write: Promise<void>): void {
    this.cursorWrites.add(write);
    void write.then(() => this.cursorWrites.delete(write));
  }

  /** The server Ping of one sweep for a framing (see PingFrames). */
  pingBytes(nowMs: number, framing: Framing): Uint8Array {
    return this.pings.bytes(nowMs, framing);
  }
}

/** Encodes a frame for a transport's framing. */
export function encodeFor(frame: FrameInit, framing: Framing): Uint8Array {
  return framing === 'message' ? encodeFrame(frame) : encodeFramePrefixed(frame);
}

/**
 * The server Ping of one sweep, encoded once per framing for every session that is due: all pings
 * of a sweep carry the same timestamp.
 */
class PingFrames {
  private stampMs = -1;
  private message: Uint8Array | null = null;
  private stream: Uint8Array | null = null;

  bytes(nowMs: number, framing: Framing): Uint8Array {
    if (this.stampMs !== nowMs) {
      this.stampMs = nowMs;
      this.message = this.stream = null;
    }
    if (framing === 'message') return (this.message ??= encodeFrame({ ping: { timestampMs: nowMs } }));
    return (this.stream ??= encodeFramePrefixed({ ping: { timestampMs: nowMs } }));
  }
}
