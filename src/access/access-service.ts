/**
 * The AccessGateway's logic, free of gRPC: requests in (as @grpc/proto-loader decodes them), responses
 * out, GatewayErrors thrown (status-mapping.ts turns them into gRPC statuses). Built only on the Bus /
 * Presence / MessageStore interfaces through the MessageRouter, so with the Redis implementations wired in,
 * any node's access service sees and reaches the whole cluster.
 *
 * Business pushes are sends from a service sender: `from_user` of the request (default "system") with
 * the calling API key's name as the device, so recipients can tell which integration sent what, and
 * the same name as `from_service`, which no client can set: what makes a Deliver the server's.
 */
import type { Authenticator, Identity } from '../auth/authenticator.js';
import type { QoS } from '../bus/bus.js';
import type { Presence } from '../bus/presence.js';
import { AuthError, DisconnectCode, ReplyCode, RequestError } from '../errors.js';
import { ReservedUserIds } from '../protocol/identifier.js';
import type { PublishRequest, Sender, SendRequest } from '../routing/message-router.js';
import type { AppendResult } from '../store/message-store.js';
import { deviceMessage, type DeviceMessage } from './presence-view.js';
import type { LoginSessionRecord, SessionTokenStore } from './session-token-store.js';
import { randomId, type SessionTokenIssuer } from './session-tokens.js';
import { mapError } from './status-mapping.js';
import * as v from './validation.js';
import { grantListProblem, NO_GRANTS, type Grants } from '../auth/grants.js';
import { sessionIdOf } from '../auth/session-token-authenticator.js';

/** The caller, as the auth interceptor established it. */
export interface Caller {
  /** API key name, or the client certificate's subject CN. */
  name: string;
}

/** What the access service needs from routing (MessageRouter implements it). */
export interface AccessRouter {
  send(from: Sender, req: SendRequest): Promise<AppendResult>;
  publish(from: Sender, req: PublishRequest): Promise<AppendResult>;
  kick(userId: string, deviceId: string | undefined, code: number, reason: string): Promise<void>;
}

/** Limits the service enforces. */
export interface AccessLimits {
  /** Longest user id and device id, UTF-8 bytes (`limits.maxUserIdLength`). */
  maxUserIdLength: number;
  /** Server-only user ids besides `$`-prefixed ones (`auth.reservedUserIds`): Login refuses them. */
  reservedUserIds: readonly string[];
  maxTopicLength: number;
  maxPayloadBytes: number;
  /** Longest (and default) session token lifetime. */
  sessionTokenTtlMs: number;
}

export interface AccessServiceDeps {
  nodeId: string;
  role: string;
  busName: string;
  /** Verifies credentials and client tokens (JWT check plus session revocation). */
  authenticator: Authenticator;
  /** Signature and expiry only (no revocation check): finds the session a token names. */
  verifier: Authenticator;
  issuer: SessionTokenIssuer;
  sessions: SessionTokenStore;
  presence: Presence;
  router: AccessRouter;
  limits: AccessLimits;
  /** This node's client connections and local users, for Stats. */
  localStats: () => { connections: number; users: number };
  /** Every node's status for Stats.nodes (src/console/node-status.ts); absent = none listed. */
  nodes?: () => Promise<Req[]>;
  now?: () => number;
}

/** Lifetime of a subscription token when IssueSubscriptionToken names none: long enough to subscribe. */
export const DEFAULT_SUBSCRIPTION_TOKEN_TTL_MS = 10 * 60_000;

/** Default sender of business pushes. */
export const SYSTEM_SENDER = 'system';
/** The topic `Broadcast{everyone}` publishes to. */
export const EVERYONE_TOPIC = '$all';
/** Reason sent to a device whose session was logged out. */
export const LOGOUT_REASON = 'logged out';

type Req = Record<string, unknown>;
type PushStatus =
  'PUSH_STATUS_DELIVERED' | 'PUSH_STATUS_STORED' | 'PUSH_STATUS_OFFLINE' | 'PUSH_STATUS_FAILED';

/** Every AccessGateway call except WatchPresence (which lives in the server, on presence.watch()). */
export class AccessService {
  readonly deps: AccessServiceDeps;
  readonly now: () => number;
  private readonly startedMs: number;
  readonly calls = new Map<string, number>();
  private readonly pushed = new Map<string, number>();
  private readonly reserved: ReservedUserIds;
  /** Open WatchPresence streams (the server keeps this current). */
  watchers = 0;

  constructor(deps: AccessServiceDeps) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.startedMs = this.now();
    this.reserved = new ReservedUserIds(deps.limits.reservedUserIds);
  }

  /** Counts a call by method name (the server calls it once per call). */
  count(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  async login(caller: Caller, req: Req): Promise<Req> {
    const { limits } = this.deps;
    let userId: string;
    let grants = checkGrants(req, limits);
    if (req.credential === 'jwt') {
      const identity = await this.deps.authenticator.authenticate(String(req.jwt ?? ''));
      userId = identity.userId;
      // The caller's explicit grants replace the JWT's; without any, the JWT's carry over.
      if (grants === NO_GRANTS) grants = identity.grants ?? NO_GRANTS;
    } else if (req.credential === 'userId') {
      userId = v.checkIdentifier('user_id', req.userId, limits.maxUserIdLength);
      // A session token is a client token: it may not name a server-only id (the JWT check refuses
      // such a `sub` too, so this only says it earlier and as INVALID_ARGUMENT).
      const reserved = this.reserved.problem(userId);
      if (reserved !== null) v.bad('user_id', `${JSON.stringify(userId)} ${reserved}`);
    } else {
      return v.bad('credential', 'set jwt or user_id');
    }
    const deviceId =
      v.checkOptionalIdentifier('device_id', req.deviceId, limits.maxUserIdLength) ||
      randomId('d-').slice(0, Math.min(24, limits.maxUserIdLength));
    const ttlMs = v.checkTtl('ttl_ms', req.ttlMs, limits.sessionTokenTtlMs);
    const labels = v.checkLabels('labels', req.labels);
    const sessionId = randomId('s-');
    const { token, expiresAtMs } = await this.deps.issuer.issue({
      userId,
      deviceId,
      sessionId,
      ttlMs,
      grants,
    });
    const now = this.now();
    await this.deps.sessions.save({
      sessionId,
      userId,
      deviceId,
      createdAtMs: now,
      expiresAtMs,
      lastSeenMs: now,
      createdBy: caller.name,
      labels,
    });
    return { sessionToken: token, sessionId, userId, deviceId, expiresAtMs };
  }

  async logout(_caller: Caller, req: Req): Promise<Req> {
    const record = await this.resolveSession(req, { allowRevoked: true });
    const reason =
      typeof req.reason === 'string' && req.reason !== '' ? req.reason.slice(0, 120) : LOGOUT_REASON;
    const revoked = await this.deps.sessions.revoke(record.sessionId, record.expiresAtMs);
    // The device may be connected on any node: the kick goes over the bus. 4000 NORMAL: the client may
    // reconnect when its user logs in again; the revoked token itself is refused with 4504.
    await this.deps.router.kick(record.userId, record.deviceId, DisconnectCode.NORMAL, reason);
    return { revoked };
  }

  async refreshToken(_caller: Caller, req: Req): Promise<Req> {
    const record = await this.resolveSession({ session: 'sessionToken', sessionToken: req.sessionToken }, {});
    const ttlMs = v.checkTtl('ttl_ms', req.ttlMs, this.deps.limits.sessionTokenTtlMs);
    // The new token grants what the old one did (Login put the grants in the token, not the record).
    const old = await this.verifySessionToken(String(req.sessionToken ?? ''));
    const { token, expiresAtMs } = await this.deps.issuer.issue({
      userId: record.userId,
      deviceId: record.deviceId,
      sessionId: record.sessionId,
      ttlMs,
      grants: old.grants ?? NO_GRANTS,
    });
    await this.deps.sessions.update(record.sessionId, { expiresAtMs, lastSeenMs: this.now() });
    return {
      sessionToken: token,
      sessionId: record.sessionId,
      userId: record.userId,
      deviceId: record.deviceId,
      expiresAtMs,
    };
  }

  async heartbeat(_caller: Caller, req: Req): Promise<Req> {
    const now = this.now();
    let record: LoginSessionRecord;
    try {
      record = await this.resolveSession(req, { allowRevoked: true });
    } catch (err) {
      if (err instanceof AuthError && err.disconnectCode === DisconnectCode.TOKEN_EXPIRED)
        return { state: 'SESSION_STATE_EXPIRED', expiresAtMs: 0, connected: false, serverTimeMs: now };
      throw err;
    }
    if (await this.deps.sessions.isRevoked(record.sessionId))
      return {
        state: 'SESSION_STATE_REVOKED',
        expiresAtMs: record.expiresAtMs,
        connected: false,
        serverTimeMs: now,
      };
    await this.deps.sessions.update(record.sessionId, { lastSeenMs: now });
    const devices = (await this.deps.presence.query([record.userId])).get(record.userId) ?? [];
    return {
      state: 'SESSION_STATE_ACTIVE',
      expiresAtMs: record.expiresAtMs,
      connected: devices.some((d) => d.deviceId === record.deviceId),
      serverTimeMs: now,
    };
  }

  async getPresence(_caller: Caller, req: Req): Promise<Req> {
    const max = this.deps.limits.maxUserIdLength;
    const userIds = v.checkIdList('user_ids', req.userIds, max, false, v.checkIdentifier);
    const found = await this.deps.presence.query(userIds);
    return {
      users: userIds.map((userId) => {
        const devices = (found.get(userId) ?? []).map(deviceMessage);
        return { userId, online: devices.length > 0, devices };
      }),
    };
  }

  async listSessions(_caller: Caller, req: Req): Promise<Req> {
    const userId = v.checkIdentifier('user_id', req.userId, this.deps.limits.maxUserIdLength);
    const [records, found] = await Promise.all([
      this.deps.sessions.listByUser(userId),
      this.deps.presence.query([userId]),
    ]);
    const devices: DeviceMessage[] = (found.get(userId) ?? []).map(deviceMessage);
    const online = new Set(devices.map((d) => d.deviceId));
    return { sessions: records.map((r) => ({ ...r, connected: online.has(r.deviceId) })), devices };
  }

  async push(caller: Caller, req: Req): Promise<Req> {
    const { limits } = this.deps;
    if (!Array.isArray(req.recipients)) v.bad('recipients', 'must be a list');
    const userIds = v.checkIdList(
      'recipients.user_id',
      (req.recipients as Req[]).map((r) => r?.userId),
      limits.maxUserIdLength,
      false,
      v.checkIdentifier,
    );
    const payload = v.checkPayload('payload', req.payload, limits.maxPayloadBytes);
    const qos = v.checkQos('qos', req.qos);
    const clientMsgId = v.checkOptionalId('client_msg_id', req.clientMsgId, 128);
    const from = this.sender(caller, req.fromUser);
    const online = await this.deps.presence.query(userIds);
    const results = await Promise.all(
      userIds.map((toUser) =>
        this.pushOne(from, toUser, (online.get(toUser)?.length ?? 0) > 0, payload, qos, clientMsgId),
      ),
    );
    for (const r of results) this.pushed.set(r.status, (this.pushed.get(r.status) ?? 0) + 1);
    return { results };
  }

  private async pushOne(
    from: Sender,
    toUser: string,
    online: boolean,
    payload: Uint8Array,
    qos: QoS,
    clientMsgId: string,
  ): Promise<{
    userId: string;
    status: PushStatus;
    serverId: string;
    seq: number;
    duplicate: boolean;
    error: string;
  }> {
    const out = { userId: toUser, serverId: '', seq: 0, duplicate: false, error: '' };
    if (!online && qos === 0) return { ...out, status: 'PUSH_STATUS_OFFLINE' };
    try {
      // The store deduplicates per (sender, client id) across recipients, so the key names the recipient.
      const id = clientMsgId === '' ? '' : `${clientMsgId}@${toUser}`;
      const res = await this.deps.router.send(from, {
        toUser,
        payload,
        qos,
        clientMsgId: id,
        ephemeral: false,
      });
      return {
        ...out,
        status: online ? 'PUSH_STATUS_DELIVERED' : 'PUSH_STATUS_STORED',
        serverId: res.serverId,
        seq: res.seq,
        duplicate: res.duplicate,
      };
    } catch (err) {
      return {
        ...out,
        status: 'PUSH_STATUS_FAILED',
        error: mapError(err).reason,
      };
    }
  }

  async broadcast(caller: Caller, req: Req): Promise<Req> {
    const { limits } = this.deps;
    let topic: string;
    if (req.target === 'topic') topic = v.checkTopic('topic', req.topic, limits.maxTopicLength);
    else if (req.target === 'everyone' && req.everyone === true) topic = EVERYONE_TOPIC;
    else return v.bad('target', 'set topic or everyone=true');
    const payload = v.checkPayload('payload', req.payload, limits.maxPayloadBytes);
    const qos = v.checkQos('qos', req.qos);
    const clientMsgId = v.checkOptionalId('client_msg_id', req.clientMsgId, 128);
    const res = await this.deps.router.publish(this.sender(caller, req.fromUser), {
      topic,
      payload,
      qos,
      clientMsgId,
      ephemeral: false,
    });
    return { topic, serverId: res.serverId, seq: res.seq };
  }

  async kick(_caller: Caller, req: Req): Promise<Req> {
    const max = this.deps.limits.maxUserIdLength;
    const userId = v.checkIdentifier('user_id', req.userId, max);
    const deviceId = v.checkOptionalIdentifier('device_id', req.deviceId, max);
    const code = req.code === 0 || req.code === undefined ? DisconnectCode.KICKED : Number(req.code);
    if (!Number.isInteger(code) || code < 4000 || code > 4999)
      v.bad('code', 'must be a disconnect code 4000-4999');
    const reason = typeof req.reason === 'string' && req.reason !== '' ? req.reason : 'kicked';
    // A WebSocket close reason must fit 123 bytes (RFC 6455 §5.5).
    if (Buffer.byteLength(reason) > 120) v.bad('reason', 'longer than 120 bytes');
    const devices = (await this.deps.presence.query([userId])).get(userId) ?? [];
    const n = deviceId === '' ? devices.length : devices.filter((d) => d.deviceId === deviceId).length;
    await this.deps.router.kick(userId, deviceId === '' ? undefined : deviceId, code, reason);
    return { devices: n };
  }

  async stats(_caller: Caller, _req: Req): Promise<Req> {
    const local = this.deps.localStats();
    return {
      nodeId: this.deps.nodeId,
      role: this.deps.role,
      bus: this.deps.busName,
      uptimeSeconds: Math.round((this.now() - this.startedMs) / 1000),
      connections: local.connections,
      localUsers: local.users,
      activeLoginSessions: await this.deps.sessions.activeCount(),
      presenceWatchers: this.watchers,
      calls: Object.fromEntries(this.calls),
      pushed: Object.fromEntries(this.pushed),
      nodes: (await this.deps.nodes?.()) ?? [],
    };
  }

  async validateToken(_caller: Caller, req: Req): Promise<Req> {
    const token = String(req.token ?? '');
    try {
      if (req.subscription === true) {
        const grant = await this.deps.authenticator.verifySubscription(token);
        return { valid: true, userId: grant.userId, topic: grant.topic, expiresAtMs: grant.expiresAtMs };
      }
      const identity: Identity = await this.deps.authenticator.authenticate(token);
      const grants = identity.grants ?? NO_GRANTS;
      return {
        valid: true,
        userId: identity.userId,
        deviceId: identity.deviceId,
        expiresAtMs: identity.expiresAtMs,
        topics: grants.topics,
        presence: grants.presence,
      };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      return { valid: false, disconnectCode: err.disconnectCode, reason: err.message };
    }
  }

  /** A subscription token for one user and one exact topic, signed with the node's key. */
  async issueSubscriptionToken(_caller: Caller, req: Req): Promise<Req> {
    const { limits } = this.deps;
    const userId = v.checkId('user_id', req.userId, limits.maxUserIdLength);
    const topic = v.checkTopic('topic', req.topic, limits.maxTopicLength);
    const ttlMs =
      req.ttlMs === undefined || Number(req.ttlMs) === 0
        ? Math.min(DEFAULT_SUBSCRIPTION_TOKEN_TTL_MS, limits.sessionTokenTtlMs)
        : v.checkTtl('ttl_ms', req.ttlMs, limits.sessionTokenTtlMs);
    return this.deps.issuer.issueSubscription({ userId, topic, ttlMs });
  }

  /**
   * The service sender of a push: `from_user` (which may be a reserved id: this is the server side) or
   * "system", device and `from_service` = the caller's name (API key name or `cert:<CN>`).
   */
  private sender(caller: Caller, fromUser: unknown): Sender {
    const userId =
      v.checkOptionalIdentifier('from_user', fromUser, this.deps.limits.maxUserIdLength) || SYSTEM_SENDER;
    return { userId, deviceId: caller.name, fromService: caller.name };
  }

  /** The login session a request names by token or id; throws NOT_FOUND / AuthError. */
  private async resolveSession(req: Req, opts: { allowRevoked?: boolean }): Promise<LoginSessionRecord> {
    let sessionId: string;
    if (req.session === 'sessionToken') {
      const identity = await this.verifySessionToken(String(req.sessionToken ?? ''));
      sessionId = sessionIdOf(identity);
      if (sessionId === '') v.bad('session_token', 'is not a session token issued by Login');
    } else if (req.session === 'sessionId') {
      sessionId = v.checkId('session_id', req.sessionId, 64);
    } else {
      return v.bad('session', 'set session_token or session_id');
    }
    const record = await this.deps.sessions.get(sessionId);
    if (record === undefined) throw new RequestError(ReplyCode.NOT_FOUND, 'no such session (or it expired)');
    if (!opts.allowRevoked && (await this.deps.sessions.isRevoked(sessionId)))
      throw new AuthError('session revoked (logged out)');
    return record;
  }

  /** A session token's identity (signature and expiry only: revocation is the caller's check). */
  private verifySessionToken(token: string): Promise<Identity> {
    return this.deps.verifier.authenticate(token);
  }
}

/** Login's `topics` and `presence` grants, checked like the token claims they become. */
function checkGrants(req: Req, limits: AccessLimits): Grants {
  const topics = req.topics ?? [];
  const presence = req.presence ?? [];
  const t = grantListProblem(topics, limits.maxTopicLength);
  if (t !== null) v.bad('topics', t);
  const p = grantListProblem(presence, limits.maxUserIdLength);
  if (p !== null) v.bad('presence', p);
  const ts = topics as string[];
  const ps = presence as string[];
  return ts.length === 0 && ps.length === 0 ? NO_GRANTS : { topics: ts, presence: ps };
}
