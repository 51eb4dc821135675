/**
 * What the gateway wiring talks to for client connections: one Session per accepted connection, the
 * connection/session gauges, the one shared sweep timer that drives every session's deadlines and
 * heartbeats, drain, shutdown and /stats. Per-IP and global caps are not decided here: the listeners'
 * admission (src/transport/admission.ts) counts every socket from accept, so a connection is counted
 * once, by its socket; a session only moves its socket to the `authenticated` phase.
 *
 * The gateway's wiring builds one per node from SessionManagerDeps (sharing the registry the router fans
 * out through) and hands every admitted connection of every listener to `accept`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Authenticator } from '../auth/authenticator.js';
import type { Presence } from '../bus/presence.js';
import type { FerryConfig } from '../config/schema.js';
import { DisconnectCode, shouldReconnect } from '../errors.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { MessageIntake } from '../routing/message-router.js';
import type { MessageStore } from '../store/message-store.js';
import type { ServiceRouter } from '../upstream/service-router.js';
import { encodeFramePrefixed } from '../protocol/codec.js';
import { REFUSAL_RECONNECT_DELAY_MS, REFUSALS, type AdmissionRefusal } from '../transport/admission.js';
import { IGNORE_HANDLER, type Connection, type TransportKind } from '../transport/transport.js';
import type { SessionRegistry } from './registry.js';
import { encodeFor, SessionContext, type SessionTimers } from './session-context.js';
import { TRANSPORT_INDEX, TRANSPORT_KINDS } from './session-telemetry.js';
import { Session, type SessionOwner } from './session.js';

/** Constructor dependencies of a SessionManager. */
export interface SessionManagerDeps {
  config: FerryConfig;
  nodeId: string;
  authenticator: Authenticator;
  router: MessageIntake;
  /** The same registry the router fans out through. */
  registry: SessionRegistry;
  store: MessageStore;
  presence: Presence;
  metrics: Metrics;
  logger: Logger;
  /** Routes ServiceRequest frames to business services (docs/upstreams.md); absent = none. */
  services?: ServiceRouter | null;
  /** Clock (ms since the epoch). Default Date.now. */
  now?: () => number;
  /** Period of the shared sweep. Default 1000; 0 = no timer (tests call `sweep()`). */
  sweepIntervalMs?: number;
  /** One-shot timers of sessions (resuming a held-back connection). Default Node's. */
  timers?: SessionTimers;
}

/** Per-transport numbers plus their total. */
export type PerTransport = Record<TransportKind, number> & { total: number };

/** What /stats shows about client connections. */
export interface SessionStats {
  /** Open connections, authenticated or not. */
  connections: PerTransport;
  /** Authenticated sessions. */
  sessions: PerTransport;
  users: number;
  topics: number;
  subscriptions: number;
  /** Bytes and frames waiting in outbound queues (not counting transport buffers). */
  queuedBytes: number;
  queuedFrames: number;
  /** QoS-1 user deliveries sent and not yet acked, over all sessions. */
  inflight: number;
  draining: boolean;
}

/** Drain settings (default: `config.drain`). */
export interface DrainOptions {
  timeoutMs: number;
  reconnectDelayMs: number;
}

/**
 * `clean`: every connection closed within the timeout, and their final cursor writes settled within
 * CURSOR_FLUSH_TIMEOUT_MS more. `flushed`: queues emptied and QoS-1 deliveries were acked before the
 * go-away (unacked ones are safe in the store and replay on reconnect).
 */
export interface DrainResult {
  clean: boolean;
  flushed: boolean;
}

/** Advised wait before reconnecting after a refusal at admission (client adds jitter). */
export const REFUSED_RECONNECT_DELAY_MS = REFUSAL_RECONNECT_DELAY_MS;

/**
 * The length-prefixed Disconnect a raw TCP socket refused at admission receives before FIN
 * (docs/protocol.md §6.2): 4007 or 4008, with reconnect advice. Encoded by the TCP listener's wiring.
 */
export function admissionRefusalFrame(refusal: AdmissionRefusal): Uint8Array {
  const { code, reason } = REFUSALS[refusal];
  return encodeFramePrefixed({
    disconnect: {
      code,
      reason,
      reconnect: shouldReconnect(code),
      reconnectDelayMs: REFUSED_RECONNECT_DELAY_MS,
    },
  });
}
const DRAIN_POLL_MS = 20;
/**
 * Longest drain and close wait for the final cursor writes of closed sessions before the store is
 * saved or closed. A store that hangs (Redis down, commands queued) must not hold up shutdown; a
 * cursor lost that way only means some messages are delivered again.
 */
export const CURSOR_FLUSH_TIMEOUT_MS = 2000;

/** Owns every client session of this node. */
export class SessionManager implements SessionOwner {
  readonly registry: SessionRegistry;
  private readonly ctx: SessionContext;
  private readonly log: Logger;
  private readonly sessions = new Set<Session>();
  private readonly connectionCounts = [0, 0, 0];
  private readonly sessionCounts = [0, 0, 0];
  private readonly drainDefaults: DrainOptions;
  private readonly timer: NodeJS.Timeout | undefined;
  private phase: 'running' | 'draining' | 'closed' = 'running';
  private drained: Promise<DrainResult> | null = null;

  constructor(deps: SessionManagerDeps) {
    this.registry = deps.registry;
    this.log = componentLogger(deps.logger, 'session');
    this.ctx = new SessionContext({ ...deps, logger: this.log, now: deps.now ?? Date.now });
    this.drainDefaults = { ...deps.config.drain };
    const interval = deps.sweepIntervalMs ?? 1000;
    if (interval > 0) {
      this.timer = setInterval(() => this.sweep(), interval);
      this.timer.unref(); // never keeps the process alive on its own
    }
  }

  /** Open connections (authenticated or not). */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Takes a new connection (already admitted by its listener): refuses it (Disconnect with reconnect
   * advice, then close) when draining (4001); otherwise starts its Session, which must authenticate
   * within `auth.deadlineMs`.
   */
  accept(conn: Connection): void {
    if (this.phase !== 'running') {
      this.refuseDraining(conn);
      return;
    }
    this.connectionCounts[TRANSPORT_INDEX[conn.kind]]!++;
    this.ctx.telemetry.metrics.connections.inc({ transport: conn.kind });
    this.ctx.telemetry.metrics.connectionsAccepted.inc({ transport: conn.kind });
    const s = new Session(conn, this.ctx, this);
    this.sessions.add(s);
    s.start();
  }

  /** SessionOwner. */
  sessionOpened(s: Session): void {
    s.conn.markAuthenticated();
    this.sessionCounts[TRANSPORT_INDEX[s.conn.kind]]!++;
    this.ctx.telemetry.metrics.sessions.inc({ transport: s.conn.kind });
  }

  /** SessionOwner. */
  sessionClosed(s: Session, wasOpen: boolean): void {
    if (!this.sessions.delete(s)) return;
    const kind = s.conn.kind;
    this.connectionCounts[TRANSPORT_INDEX[kind]]!--;
    this.ctx.telemetry.metrics.connections.dec({ transport: kind });
    if (wasOpen) {
      this.sessionCounts[TRANSPORT_INDEX[kind]]!--;
      this.ctx.telemetry.metrics.sessions.dec({ transport: kind });
    }
  }

  /**
   * One pass over every session: auth deadlines, token expiry, idle timeouts, heartbeats, stalled
   * queues and pulls, cursor writes held back or failed; then the hot-path counters go to
   * Prometheus. Runs on the shared timer.
   */
  sweep(): void {
    const now = this.ctx.now();
    for (const s of this.sessions) s.tick(now);
    this.flushMetrics();
  }

  /** Moves the hot-path counters (frames, bytes, deliveries, accepted messages) into Prometheus now. */
  flushMetrics(): void {
    this.ctx.telemetry.traffic.flush(this.ctx.telemetry.metrics);
    this.ctx.deps.router.flushMetrics();
  }

  /**
   * Graceful drain (docs/architecture.md, "Drain"): from now on new connections are refused and new
   * Send/Publish get 107 UNAVAILABLE (retryable); waits up to half of `timeoutMs` for queues to flush
   * and QoS-1 deliveries to be acked; sends every session 4001 GOING_AWAY (reconnect, after
   * `reconnectDelayMs`); waits the other half for the connections to close; then waits (at most
   * CURSOR_FLUSH_TIMEOUT_MS) for the final cursor writes of the closed sessions, so the store the
   * gateway saves or closes next has them. Idempotent.
   */
  drain(opts: DrainOptions = this.drainDefaults): Promise<DrainResult> {
    return (this.drained ??= this.runDrain(opts));
  }

  /**
   * Destroys every connection now and stops the sweep; resolves once the cursor writes this started
   * (or that were in flight) have settled, or CURSOR_FLUSH_TIMEOUT_MS have passed: the store may be
   * closed after it. Idempotent.
   */
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.ctx.draining = true;
    clearInterval(this.timer);
    for (const s of [...this.sessions]) s.destroy();
    this.flushMetrics();
    await this.settleCursorWrites();
  }

  /** Numbers for /stats (walks the sessions: call it per request, not per message). */
  stats(): SessionStats {
    let queuedBytes = 0;
    let queuedFrames = 0;
    let inflight = 0;
    for (const s of this.sessions) {
      queuedBytes += s.queuedBytes;
      queuedFrames += s.queuedFrames;
      inflight += s.inflight;
    }
    const r = this.registry.counts();
    return {
      connections: perTransport(this.connectionCounts),
      sessions: perTransport(this.sessionCounts),
      users: r.users,
      topics: r.topics,
      subscriptions: r.subscriptions,
      queuedBytes,
      queuedFrames,
      inflight,
      draining: this.phase !== 'running',
    };
  }

  private async runDrain({ timeoutMs, reconnectDelayMs }: DrainOptions): Promise<DrainResult> {
    if (this.phase === 'running') this.phase = 'draining';
    this.ctx.draining = true;
    const half = Math.max(0, timeoutMs) / 2;
    const flushed = await waitUntil(() => this.allSettled(), half);
    this.log.info({ sessions: this.sessions.size, flushed }, 'drain: sending go-away');
    for (const s of [...this.sessions]) {
      s.disconnect(DisconnectCode.GOING_AWAY, 'server is draining; reconnect', reconnectDelayMs);
    }
    const closed = await waitUntil(() => this.sessions.size === 0, half);
    if (!closed) this.log.warn({ left: this.sessions.size }, 'drain: connections still open at the deadline');
    // The gateway saves the store right after this: the closed sessions' cursors must be in it.
    const cursors = await this.settleCursorWrites();
    this.flushMetrics();
    return { clean: closed && cursors, flushed };
  }

  /** Waits for the cursor writes in flight, at most CURSOR_FLUSH_TIMEOUT_MS; false if some were left. */
  private async settleCursorWrites(): Promise<boolean> {
    const writes = this.ctx.cursorWrites;
    if (writes.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), CURSOR_FLUSH_TIMEOUT_MS);
    });
    const settled = await Promise.race([Promise.all(writes).then(() => true), timeout]);
    clearTimeout(timer);
    if (!settled) this.log.warn({ left: writes.size }, 'cursor writes still pending at the deadline');
    return settled;
  }

  private allSettled(): boolean {
    for (const s of this.sessions) if (!s.settled) return false;
    return true;
  }

  /** A connection that arrived while draining: 4001 GOING_AWAY with the drain's advice, then close. */
  private refuseDraining(conn: Connection): void {
    const code = DisconnectCode.GOING_AWAY;
    const reason = 'server is shutting down';
    conn.setHandler(IGNORE_HANDLER);
    const reconnectDelayMs = this.drainDefaults.reconnectDelayMs;
    const frame = { disconnect: { code, reason, reconnect: shouldReconnect(code), reconnectDelayMs } };
    conn.write(encodeFor(frame, conn.framing));
    conn.close(code, reason);
    this.ctx.telemetry.metrics.connectionsRefused.inc({ transport: conn.kind, reason: 'draining' });
    this.ctx.telemetry.countDisconnect(code);
  }
}

function perTransport(counts: readonly number[]): PerTransport {
  const out = { ws: 0, tcp: 0, wt: 0, total: 0 };
  TRANSPORT_KINDS.forEach((k, i) => {
    out[k] = counts[i]!;
    out.total += counts[i]!;
  });
  return out;
}

/** Polls `cond` until true or `ms` have passed (drain only: a few dozen polls per process lifetime). */
async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const polls = Math.ceil(ms / DRAIN_POLL_MS);
  for (let i = 0; !cond(); i++) {
    if (i >= polls) return false;
    await sleep(DRAIN_POLL_MS);
  }
  return true;
}
