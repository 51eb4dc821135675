import { expect } from 'chai';
import type { Authenticator, Identity, SubscriptionGrant } from '../../src/auth/authenticator.js';
import type { Bus } from '../../src/bus/bus.js';
import { MemoryBus } from '../../src/bus/memory.js';
import { MemoryPresence } from '../../src/bus/memory-presence.js';
import type { Presence } from '../../src/bus/presence.js';
import { defaultConfig, type FerryConfig } from '../../src/config/schema.js';
import { AuthError, DisconnectCode } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import type { Frame } from '../../src/protocol/codec.js';
import { MessageRouter } from '../../src/routing/message-router.js';
import { LocalDelivery } from '../../src/routing/local-delivery.js';
import { SessionRegistry } from '../../src/session/registry.js';
import type { SessionTimers } from '../../src/session/session-context.js';
import { SessionManager } from '../../src/session/session-manager.js';
import { MemoryMessageStore } from '../../src/store/memory.js';
import type { MessageStore } from '../../src/store/message-store.js';
import { FakeConnection, type FakeConnectionOptions } from './fake-connection.js';

/** A clock the test moves by hand, with one-shot timers that fire as `advance` passes them. */
export class ManualClock {
  ms = 1_700_000_000_000;
  readonly now = (): number => this.ms;
  private due: { at: number; fn: () => void }[] = [];
  /** Session timers on this clock (SessionManagerDeps.timers). */
  readonly timers: SessionTimers = {
    set: (fn, ms) => {
      const t = { at: this.ms + Math.max(0, ms), fn };
      this.due.push(t);
      return t;
    },
    clear: (handle) => {
      this.due = this.due.filter((t) => t !== handle);
    },
  };

  /** Moves the clock on by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.ms + ms;
    for (;;) {
      let next: { at: number; fn: () => void } | undefined;
      for (const t of this.due) if (t.at <= end && (next === undefined || t.at < next.at)) next = t;
      if (next === undefined) break;
      this.due = this.due.filter((t) => t !== next);
      this.ms = Math.max(this.ms, next.at);
      next.fn();
    }
    this.ms = end;
  }

  /** Timers set and not yet fired. */
  get pendingTimers(): number {
    return this.due.length;
  }
}

/**
 * Tokens are opaque strings this authenticator hands out (`issue`); anything else is refused with
 * 4504. Like the JWT authenticator, a token whose expiry has passed is refused with 4009.
 */
export class FakeAuthenticator implements Authenticator {
  private readonly tokens = new Map<string, Identity>();
  private n = 0;
  /** Set to make authenticate() hang (never settle) for deadline tests. */
  hang = false;

  constructor(private readonly clock: ManualClock) {}

  private readonly subscriptions = new Map<string, SubscriptionGrant>();

  issue(
    userId: string,
    opts: { deviceId?: string; expiresAtMs?: number; topics?: string[]; presence?: string[] } = {},
  ): string {
    const token = `tok-${++this.n}-${userId}`;
    this.tokens.set(token, {
      userId,
      deviceId: opts.deviceId ?? '',
      expiresAtMs: opts.expiresAtMs ?? 0,
      claims: {},
      grants: { topics: opts.topics ?? [], presence: opts.presence ?? [] },
    });
    return token;
  }

  /** A subscription token for (user, topic), valid until `expiresAtMs`. */
  issueSubscription(userId: string, topic: string, expiresAtMs = Number.MAX_SAFE_INTEGER): string {
    const token = `sub-${++this.n}-${userId}`;
    this.subscriptions.set(token, { userId, topic, expiresAtMs });
    return token;
  }

  verifySubscription(token: string): Promise<SubscriptionGrant> {
    const grant = this.subscriptions.get(token);
    if (grant === undefined) return Promise.reject(new AuthError('not a subscription token'));
    if (grant.expiresAtMs <= this.clock.now())
      return Promise.reject(new AuthError('token expired', DisconnectCode.TOKEN_EXPIRED));
    return Promise.resolve(grant);
  }

  authenticate(token: string): Promise<Identity> {
    if (this.hang) return new Promise(() => {});
    const id = this.tokens.get(token);
    if (id === undefined) return Promise.reject(new AuthError('invalid token'));
    if (id.expiresAtMs > 0 && id.expiresAtMs <= this.clock.now()) {
      return Promise.reject(new AuthError('token expired', DisconnectCode.TOKEN_EXPIRED));
    }
    return Promise.resolve(id);
  }
}

/** Lets every pending promise chain (memory store, bus, authenticator) run to completion. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

/** Options of a SessionHarness. */
export interface HarnessOptions {
  /** Edits the default configuration. */
  config?: (c: FerryConfig) => void;
  /** Replaces the memory store (for failure injection). */
  store?: (real: MemoryMessageStore) => MessageStore;
  /** Replaces the bus the router publishes on (for failure injection); the memory bus still delivers. */
  bus?: (real: MemoryBus) => Bus;
  /** Replaces the presence the sessions query (for failure injection). */
  presence?: (real: MemoryPresence) => Presence;
}

/**
 * The session layer wired the way gateway.ts wires it, with in-memory store/bus/presence, a fake
 * authenticator and a manual clock; no sweep timer (tests call `sweep()`).
 */
export class SessionHarness {
  readonly clock = new ManualClock();
  readonly config: FerryConfig;
  readonly metrics = new Metrics({ defaultMetrics: false });
  readonly memoryStore: MemoryMessageStore;
  readonly store: MessageStore;
  readonly bus = new MemoryBus();
  readonly presence = new MemoryPresence();
  readonly auth = new FakeAuthenticator(this.clock);
  readonly registry: SessionRegistry;
  readonly router: MessageRouter;
  readonly manager: SessionManager;

  private constructor(opts: HarnessOptions) {
    const config = defaultConfig();
    config.nodeId = 'node-t';
    opts.config?.(config);
    this.config = config;
    const logger = silentLogger();
    this.memoryStore = new MemoryMessageStore({
      nodeId: 'node-t',
      ...config.store,
      sweepIntervalMs: 0,
      now: this.clock.now,
    });
    this.store = opts.store ? opts.store(this.memoryStore) : this.memoryStore;
    this.registry = new SessionRegistry({ nodeId: 'node-t', presence: this.presence, logger });
    this.router = new MessageRouter({
      nodeId: 'node-t',
      store: this.store,
      bus: opts.bus ? opts.bus(this.bus) : this.bus,
      metrics: this.metrics,
      logger,
      now: this.clock.now,
      maxPendingAppends: config.store.maxPendingAppends,
      maxBusBacklogBytes: config.redis.maxBacklogBytes,
    });
    this.manager = new SessionManager({
      config,
      nodeId: 'node-t',
      authenticator: this.auth,
      router: this.router,
      registry: this.registry,
      store: this.store,
      presence: opts.presence ? opts.presence(this.presence) : this.presence,
      metrics: this.metrics,
      logger,
      now: this.clock.now,
      sweepIntervalMs: 0,
      timers: this.clock.timers,
    });
  }

  static async create(opts: HarnessOptions = {}): Promise<SessionHarness> {
    const h = new SessionHarness(opts);
    await h.bus.start(new LocalDelivery(h.registry));
    return h;
  }

  /** A new connection, accepted by the manager (not authenticated). */
  connect(opts: FakeConnectionOptions = {}): FakeConnection {
    const conn = new FakeConnection(opts);
    this.manager.accept(conn);
    return conn;
  }

  /** Connects and authenticates; asserts the AuthResult and returns the connection with it taken. */
  async login(
    userId: string,
    opts: FakeConnectionOptions & {
      deviceId?: string;
      lastSeq?: number;
      tokenDeviceId?: string;
      /** Grants in the token (its `topics` and `presence` claims). */
      topics?: string[];
      presence?: string[];
    } = {},
  ): Promise<FakeConnection> {
    const conn = this.connect(opts);
    const token = this.auth.issue(userId, {
      deviceId: opts.tokenDeviceId,
      topics: opts.topics,
      presence: opts.presence,
    });
    conn.send({ id: 1, authenticate: { token, deviceId: opts.deviceId ?? '', lastSeq: opts.lastSeq ?? 0 } });
    await settle();
    const first = conn.take()[0];
    expect(first?.body, `login of ${userId}`).to.equal('authResult');
    return conn;
  }

  /** Runs the shared sweep once at the current clock. */
  sweep(): void {
    this.manager.sweep();
  }

  /** A metric's current value for `labels` (after flushing the hot-path counters). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    this.manager.flushMetrics();
    const m = this.metrics.registry.getSingleMetric(name);
    if (m === undefined) throw new Error(`no metric ${name}`);
    const data = await m.get();
    const hit = data.values.find((v) =>
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
    );
    return hit?.value ?? 0;
  }

  async close(): Promise<void> {
    await this.manager.close();
    await this.bus.close();
    await this.memoryStore.close();
  }
}

/** The frames of `conn` with a given body, taken since the last take(). */
export function ofBody(frames: Frame[], body: string): Frame[] {
  return frames.filter((f) => f.body === body);
}

/** Payload bytes as text. */
export function text(b: Uint8Array | null | undefined): string {
  return new TextDecoder().decode(b ?? new Uint8Array());
}

/** Text as payload bytes. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
