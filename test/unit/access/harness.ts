/** An AccessService on the in-process bus, presence and store, with recording local sessions. */
import type { Envelope } from '../../../src/bus/bus.js';
import { MemoryBus } from '../../../src/bus/memory.js';
import { MemoryPresence } from '../../../src/bus/memory-presence.js';
import { AccessService, type AccessRouter } from '../../../src/access/access-service.js';
import { MemorySessionTokenStore } from '../../../src/access/session-token-store.js';
import { JwtSessionTokenIssuer } from '../../../src/access/session-tokens.js';
import { SessionAwareAuthenticator } from '../../../src/auth/session-token-authenticator.js';
import { JwtAuthenticator } from '../../../src/auth/jwt/jwt-authenticator.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { MessageRouter } from '../../../src/routing/message-router.js';
import { LocalDelivery } from '../../../src/routing/local-delivery.js';
import { SessionRegistry, type RegisteredSession } from '../../../src/session/registry.js';
import { MemoryMessageStore } from '../../../src/store/memory.js';

export const SECRET = 'unit-access-secret-0123456789abcdef';
const auth = {
  hmacSecrets: { k1: SECRET },
  publicKeys: {},
  issuer: '',
  audience: '',
  clockSkewMs: 0,
  deadlineMs: 1000,
  duplicateDevice: 'replace-old' as const,
  reservedUserIds: ['system'],
  allowNoExpiry: false,
};

let n = 0;

/** A local session that records what it is handed. */
export class Target implements RegisteredSession {
  readonly sessionId = `t${++n}`;
  readonly transport = 'ws' as const;
  readonly sinceMs = 1;
  readonly sentSeq = 0;
  readonly got: Envelope[] = [];
  closed: { code: number; reason: string } | null = null;
  constructor(
    readonly userId: string,
    readonly deviceId: string,
  ) {}
  deliver(env: Envelope): void {
    this.got.push(env);
  }
  disconnect(code: number, reason: string): void {
    this.closed = { code, reason };
  }
}

export interface Harness {
  service: AccessService;
  registry: SessionRegistry;
  presence: MemoryPresence;
  store: MemoryMessageStore;
  tokens: MemorySessionTokenStore;
  authenticator: SessionAwareAuthenticator;
  clock: { now: number };
  close(): Promise<void>;
}

/** Builds the service; `router` replaces the real MessageRouter (to inject failures). */
export async function makeHarness(
  opts: { router?: (r: MessageRouter) => AccessRouter } = {},
): Promise<Harness> {
  const clock = { now: Date.now() };
  const now = (): number => clock.now;
  const store = new MemoryMessageStore({
    nodeId: 'n1',
    maxMessagesPerLog: 100,
    retentionMs: 3_600_000,
    dedupWindowMs: 60_000,
    maxBytes: 1 << 20,
    sweepIntervalMs: 0,
  });
  const bus = new MemoryBus();
  const presence = new MemoryPresence();
  const registry = new SessionRegistry({ nodeId: 'n1', presence, logger: silentLogger() });
  const router = new MessageRouter({
    nodeId: 'n1',
    store,
    bus,
    metrics: new Metrics({ defaultMetrics: false }),
    logger: silentLogger(),
  });
  await bus.start(new LocalDelivery(registry));
  const config = { auth, dataDir: '/nonexistent', limits: { maxUserIdLength: 64 } as never };
  const verifier = await JwtAuthenticator.fromConfig(config, { now });
  const tokens = new MemorySessionTokenStore({ now });
  const authenticator = new SessionAwareAuthenticator(verifier, tokens);
  const service = new AccessService({
    nodeId: 'n1',
    role: 'all',
    busName: bus.name,
    authenticator,
    verifier,
    issuer: await JwtSessionTokenIssuer.fromConfig(config, now),
    sessions: tokens,
    presence,
    router: opts.router?.(router) ?? router,
    limits: {
      maxUserIdLength: 64,
      reservedUserIds: auth.reservedUserIds,
      maxTopicLength: 64,
      maxPayloadBytes: 1024,
      sessionTokenTtlMs: 3_600_000,
    },
    localStats: () => ({ connections: registry.counts().sessions, users: registry.counts().users }),
    now,
  });
  return {
    service,
    registry,
    presence,
    store,
    tokens,
    authenticator,
    clock,
    async close() {
      await bus.close();
      await store.close();
      await tokens.close();
      await presence.close();
    },
  };
}

/** Lets presence writes (fire-and-forget promises in the registry) settle. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
