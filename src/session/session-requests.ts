/**
 * Client requests that leave the session: Send and Publish (through the router) and PresenceQuery.
 * Each answers with its own frame id: SendAck / PresenceResult on success, an Error frame on failure;
 * the connection always stays. Functions over a narrow host interface (the Session implements it).
 *
 * QoS-1 Send/Publish and ServiceRequest are counted from dispatch to answer (`requestStarted` /
 * `requestSettled`): the session stops reading a connection that has `session.maxInflightSends` of
 * them waiting, so one sender cannot take every one of the node's pending-append slots.
 */
import type { TopicClient } from '../auth/topic-policy.js';
import type { PresenceEntry } from '../bus/presence.js';
import { ReplyCode, RequestError } from '../errors.js';
import type { Frame, FrameInit } from '../protocol/codec.js';
import type { SendAckFields } from '../protocol/send-ack-codec.js';
import type { AppendResult } from '../store/message-store.js';
import type { SessionContext } from './session-context.js';

/** What request handlers need from a session. */
export interface RequestHost extends TopicClient {
  readonly ctx: SessionContext;
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
  /** Sends a control-priority frame (no-op once the session is closing). */
  sendFrame(frame: FrameInit): void;
  /** Sends the SendAck answering request `id` (as `sendFrame` would, without the generic encoder). */
  sendAck(id: number, ack: SendAckFields): void;
  /** Sends an Error frame for request `id`, mapped by reply-errors.ts (unmapped: 100 INTERNAL). */
  sendError(id: number, err: unknown): void;
  /** True when the token's `presence` claim lets this user see `userId`. */
  seesPresenceOf(userId: string): boolean;
  /** A QoS-1 request was handed on; `requestSettled` follows exactly once, when it is answered. */
  requestStarted(): void;
  requestSettled(): void;
}

/**
 * Send -> router.send. QoS 1: SendAck once stored (a duplicate gets the first ack again, `duplicate`
 * set). QoS 0: no SendAck unless the frame has an id (then one with seq 0, at once: the router took it).
 * Throws RequestError UNAVAILABLE while draining (nothing is accepted that this node cannot keep),
 * PERMISSION_DENIED for a reserved recipient (nobody can log in as it, so its log would only grow).
 */
export function handleSend(host: RequestHost, frame: Frame): void {
  const b = frame.send!;
  const toUser = b.toUser ?? '';
  if (host.ctx.settings.reservedUserIds.has(toUser)) {
    throw new RequestError(
      ReplyCode.PERMISSION_DENIED,
      `send.to_user ${JSON.stringify(toUser)} is reserved for the server; no client can receive it`,
    );
  }
  refuseWhileDraining(host.ctx);
  const qos = b.qos === 1 ? 1 : 0;
  const clientMsgId = b.clientMsgId ?? '';
  const req = {
    toUser,
    payload: b.payload ?? EMPTY,
    qos,
    clientMsgId,
    ephemeral: b.ephemeral === true,
  } as const;
  const router = host.ctx.deps.router;
  if (qos === 0) {
    let r: AppendResult;
    try {
      r = router.sendTransient(host, req);
    } catch (err) {
      if (silentShed(frame.id, err)) return;
      throw err;
    }
    answerTransient(host, frame.id, clientMsgId, r);
    return;
  }
  // The router may throw 109 BUSY synchronously: the request only counts once it was taken.
  const accepted = router.send(host, req);
  host.requestStarted();
  answerStored(host, frame.id, clientMsgId, accepted);
}

/** Publish -> router.publish; answered like Send (seq = topic offset for QoS 1). */
export function handlePublish(host: RequestHost, frame: Frame): void {
  const b = frame.publish!;
  const topic = b.topic ?? '';
  const denied = host.ctx.settings.permissions.topics.check('publish', topic, host);
  if (denied !== null) throw new RequestError(ReplyCode.PERMISSION_DENIED, denied);
  refuseWhileDraining(host.ctx);
  const qos = b.qos === 1 ? 1 : 0;
  const clientMsgId = b.clientMsgId ?? '';
  const req = {
    topic,
    payload: b.payload ?? EMPTY,
    qos,
    clientMsgId,
    ephemeral: b.ephemeral === true,
  } as const;
  const router = host.ctx.deps.router;
  if (qos === 0) {
    let r: AppendResult;
    try {
      r = router.publishTransient(host, req);
    } catch (err) {
      if (silentShed(frame.id, err)) return;
      throw err;
    }
    answerTransient(host, frame.id, clientMsgId, r);
    return;
  }
  const accepted = router.publish(host, req);
  host.requestStarted(); // after a synchronous 109, as in handleSend
  answerStored(host, frame.id, clientMsgId, accepted);
}

/**
 * ServiceRequest -> the configured ServiceRouter (docs/upstreams.md); ServiceAck once the service's
 * upstream holds it, else the router's RequestError (102 no route, 109 BUSY, 107 UNAVAILABLE).
 */
export function handleServiceRequest(host: RequestHost, frame: Frame): void {
  const b = frame.serviceRequest!;
  refuseWhileDraining(host.ctx);
  const router = host.ctx.deps.serviceRouter;
  const type = b.type ?? 0;
  if (router === null) throw new RequestError(ReplyCode.NOT_FOUND, `no service route for type ${type}`);
  const msgId = b.msgId ?? '';
  const id = frame.id;
  host.requestStarted();
  router.route(host, { type, payload: b.payload ?? EMPTY, msgId }).then(
    (r) => {
      host.requestSettled();
      host.sendFrame({ id, serviceAck: { msgId, service: r.service, duplicate: r.duplicate } });
    },
    (err: unknown) => {
      host.sendError(id, err); // before requestSettled, as in answerAccepted
      host.requestSettled();
    },
  );
}

/**
 * PresenceQuery -> PresenceResult, one entry per asked user, in the order asked. With
 * `presence.visibility` "granted", every asked user must be the client itself or listed by its
 * token's `presence` claim, else 103 PERMISSION_DENIED naming the first that is not.
 */
export function handlePresenceQuery(host: RequestHost, frame: Frame): void {
  const id = frame.id;
  const userIds = frame.presenceQuery?.userIds ?? [];
  if (host.ctx.settings.permissions.presence === 'granted') {
    // One hidden user fails the whole query: a partial answer would read as "offline".
    const hidden = userIds.find((u) => u !== host.userId && !host.seesPresenceOf(u));
    if (hidden !== undefined) {
      throw new RequestError(
        ReplyCode.PERMISSION_DENIED,
        `presence of ${JSON.stringify(hidden)} is not visible to this user (token claim "presence")`,
      );
    }
  }
  host.ctx.deps.presence.query(userIds).then(
    (found) =>
      host.sendFrame({ id, presenceResult: { users: userIds.map((u) => userPresence(u, found.get(u))) } }),
    (err: unknown) => {
      host.ctx.telemetry.log.warn({ err }, 'presence query failed');
      host.sendError(id, err);
    },
  );
}

const EMPTY = new Uint8Array(0);

function refuseWhileDraining(ctx: SessionContext): void {
  if (!ctx.draining) return;
  throw new RequestError(ReplyCode.UNAVAILABLE, 'this node is draining; send again after reconnecting', {
    retryable: true,
    retryAfterMs: ctx.settings.drainRetryAfterMs,
  });
}

/**
 * QoS 0 is answered in the same turn it is taken (docs/protocol.md §5.3): SendAck when the frame has an
 * id, nothing without one.
 */
function answerTransient(host: RequestHost, id: number, clientMsgId: string, r: AppendResult): void {
  if (id === 0) return;
  host.sendAck(id, {
    clientMsgId,
    serverId: r.serverId,
    seq: 0,
    timestampMs: r.timestampMs,
    duplicate: false,
  });
}

/** A shed QoS-0 message without an id gets no answer, not even its 109 (the router counts it). */
function silentShed(id: number, err: unknown): boolean {
  return id === 0 && err instanceof RequestError && err.replyCode === ReplyCode.BUSY;
}

function answerStored(
  host: RequestHost,
  id: number,
  clientMsgId: string,
  accepted: Promise<AppendResult>,
): void {
  accepted.then(
    (r) => {
      host.requestSettled();
      host.sendAck(id, {
        clientMsgId,
        serverId: r.serverId,
        seq: r.seq,
        timestampMs: r.timestampMs,
        duplicate: r.duplicate,
      });
    },
    (err: unknown) => {
      // Answer first: a 109 tells the session to hold what follows before the slot reopens reading.
      host.sendError(id, err);
      host.requestSettled();
    },
  );
}

function userPresence(userId: string, entries: PresenceEntry[] | undefined) {
  const devices = (entries ?? []).map((e) => ({
    deviceId: e.deviceId,
    transport: e.transport,
    nodeId: e.nodeId,
    sinceMs: e.sinceMs,
  }));
  return { userId, online: devices.length > 0, devices };
}
