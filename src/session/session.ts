/**
 * One client connection's session (docs/architecture.md, "One connection's life"): the connection
 * handler and the state machine authenticating -> open -> closing -> closed, composed of
 *  - an Intake (framing, rate limits, send window, holding) that hands it decoded frames,
 *  - an Outbox (writes, the outbound queue, counters),
 *  - once authenticated, a UserDelivery (QoS-1 order, window and ack cursor) and, from the first
 *    Subscribe, TopicSubscriptions,
 * and the per-session part of the shared sweep (auth deadline, token expiry, idle timeout,
 * heartbeats). What each frame kind does is in frame-handlers.ts.
 *
 * Errors: every ProtocolError of this connection ends up in `intakeFailed`, the one place that turns
 * it into a Disconnect with its code; a RequestError becomes an Error frame carrying the request's id
 * and the connection stays.
 */
import type { Identity } from '../auth/authenticator.js';
import type { Envelope } from '../bus/bus.js';
import {
  AuthError,
  DisconnectCode,
  ProtocolError,
  ReplyCode,
  RequestError,
  shouldReconnect,
} from '../errors.js';
import type { Frame, FrameInit } from '../protocol/codec.js';
import { encodeSendAckFrame, type SendAckFields } from '../protocol/send-ack-codec.js';
import { CLIENT_FRAME_RULES, clientBodyOf } from '../protocol/validate.js';
import type { EncodedDeliver } from '../routing/encoded-deliver.js';
import {
  clampCloseReason,
  type Connection,
  type ConnectionHandler,
  type TransportKind,
} from '../transport/transport.js';
import { FRAME_KINDS, type FrameHandlerHost } from './frame-handlers.js';
import { Intake, type IntakeHost } from './intake.js';
import { PRIORITY_CONTROL } from './outbound-queue.js';
import { Outbox, type OutboxOwner } from './outbox.js';
import type { RegisteredSession } from './registry.js';
import { toReplyError } from './reply-errors.js';
import type { SessionContext } from './session-context.js';
import { SessionGrants } from './session-grants.js';
import {
  STATE_AUTHENTICATING,
  STATE_CLOSED,
  STATE_CLOSING,
  STATE_OPEN,
  type SessionState,
} from './session-state.js';
import { TopicSubscriptions, type SubscribeRequest, type TopicHost } from './topic-subscriptions.js';
import { UserDelivery } from './user-delivery.js';

/** The manager's bookkeeping hooks. */
export interface SessionOwner {
  /** The session authenticated and is registered. */
  sessionOpened(s: Session): void;
  /** The connection is gone (called exactly once); `wasOpen` if it had authenticated. */
  sessionClosed(s: Session, wasOpen: boolean): void;
}

/** Frames a client may pipeline behind its Authenticate before the AuthResult; more is abuse. */
const MAX_FRAMES_BEFORE_AUTH = 32;
/** Reason sent with 4505 under the 'reject-new' duplicate-device policy. */
export const DEVICE_TAKEN_REASON = 'this device is already connected';

/** One connection: handler, state machine, authentication, timers (driven by the manager's sweep). */
export class Session
  implements ConnectionHandler, RegisteredSession, FrameHandlerHost, IntakeHost, TopicHost, OutboxOwner
{
  readonly conn: Connection;
  readonly ctx: SessionContext;
  readonly out: Outbox;
  private readonly owner: SessionOwner;
  private readonly intake: Intake;
  state: SessionState = STATE_AUTHENTICATING;
  userId = '';
  deviceId = '';
  sessionId = '';
  /** When the session was authenticated (presence `since`), ms since the epoch. */
  sinceMs = 0;
  /** Grants of the token and of subscription tokens; set at authentication. */
  grants = NO_SESSION_GRANTS;
  /** QoS-1 user messages; exists once the session is open. */
  private user: UserDelivery | null = null;
  /** Created by the first Subscribe. */
  private topics: TopicSubscriptions | null = null;
  private readonly createdMs: number;
  private lastPingMs = 0;
  private expiresAtMs = 0;
  private authStarted = false;
  private wasOpen = false;
  /** Frames pipelined behind Authenticate, processed in order once it succeeds. */
  private pending: Frame[] | null = null;

  constructor(conn: Connection, ctx: SessionContext, owner: SessionOwner) {
    this.conn = conn;
    this.ctx = ctx;
    this.owner = owner;
    this.createdMs = ctx.now();
    this.out = new Outbox(conn, ctx, this);
    this.intake = new Intake(this, this.createdMs);
  }

  /** Installs this session as the connection's handler (after the owner has recorded it). */
  start(): void {
    this.conn.setHandler(this);
  }

  /** RegisteredSession: the transport this session runs on. */
  get transport(): TransportKind {
    return this.conn.kind;
  }

  /** RegisteredSession: the highest QoS-1 user seq handed to the output. */
  get sentSeq(): number {
    return this.user?.sentSeq ?? 0;
  }

  /** QoS-1 user deliveries sent and not yet acknowledged. */
  get inflight(): number {
    return this.user?.inflight ?? 0;
  }

  get queuedBytes(): number {
    return this.out.queuedBytes;
  }

  get queuedFrames(): number {
    return this.out.queuedFrames;
  }

  /** TopicHost: false once closing. */
  get isOpen(): boolean {
    return this.state === STATE_OPEN;
  }

  /** True when nothing is queued or buffered and every QoS-1 delivery has been acked (drain waits for it). */
  get settled(): boolean {
    return this.state !== STATE_OPEN || (this.out.idle && this.inflight === 0);
  }

  onData(bytes: Uint8Array): void {
    this.intake.onData(bytes);
  }

  onDatagram(bytes: Uint8Array): void {
    this.intake.onDatagram(bytes);
  }

  /** ConnectionHandler: the transport has room again. */
  onDrain(): void {
    this.out.flush();
  }

  onClose(): void {
    if (this.state === STATE_CLOSED) return;
    this.state = STATE_CLOSED;
    this.detach();
    this.owner.sessionClosed(this, this.wasOpen);
  }

  /** DeliveryTarget: one envelope from the router. Never throws. */
  deliver(env: Envelope, encoded: EncodedDeliver): void {
    if (this.state !== STATE_OPEN) return;
    if (env.topic !== '') this.topics?.deliver(env, encoded);
    else if (env.qos === 1) this.user!.deliver(env, encoded);
    else this.out.sendTransient(env, encoded);
  }

  /**
   * Ends the session: a Disconnect frame (reconnect advice from the code's range) ahead of anything
   * still queued, then a graceful transport close with the same code. Idempotent.
   */
  disconnect(code: number, reason: string, reconnectDelayMs = 0): void {
    if (this.state >= STATE_CLOSING) return;
    this.state = STATE_CLOSING;
    this.ctx.telemetry.countDisconnect(code);
    this.ctx.telemetry.log.debug({ conn: this.conn.id, userId: this.userId, code, reason }, 'disconnect');
    this.detach();
    const r = clampCloseReason(reason);
    this.out.writeFinal({
      disconnect: { code, reason: r, reconnect: shouldReconnect(code), reconnectDelayMs },
    });
    this.conn.close(code, r);
  }

  /** Abrupt end (gateway shutdown): no Disconnect frame, the transport is destroyed. Idempotent. */
  destroy(): void {
    if (this.state === STATE_CLOSED) return;
    this.state = STATE_CLOSING;
    this.conn.destroy();
    this.onClose(); // in case the transport does not report its own destruction synchronously
  }

  /** OutboxOwner: the outbound queue is over its cap even after shedding. */
  onSlowConsumer(): void {
    this.disconnect(DisconnectCode.SLOW_CONSUMER, 'outbound queue over its limit: reading too slowly');
  }

  /** The sweep: deadlines, expiry, idleness, heartbeats, and retries of stalled work. */
  tick(now: number): void {
    const settings = this.ctx.settings;
    if (this.state === STATE_AUTHENTICATING) {
      if (now - this.createdMs >= settings.authDeadlineMs) {
        this.disconnect(
          DisconnectCode.AUTH_TIMEOUT,
          `no authentication within ${settings.authDeadlineMs} ms`,
        );
      }
      return;
    }
    if (this.state !== STATE_OPEN) return;
    if (this.expiresAtMs > 0 && now >= this.expiresAtMs) {
      this.disconnect(DisconnectCode.TOKEN_EXPIRED, 'token expired');
      return;
    }
    const idleMs = settings.idleTimeoutMs;
    if (idleMs > 0 && now - this.intake.lastSeenMs > idleMs) {
      this.disconnect(DisconnectCode.IDLE_TIMEOUT, `nothing received for ${idleMs} ms`);
      return;
    }
    if (settings.heartbeatMs > 0 && now - this.lastPingMs >= settings.heartbeatMs) {
      this.lastPingMs = now;
      this.out.sendBytes(this.ctx.pingBytes(now, this.conn.framing), PRIORITY_CONTROL, 0);
    }
    this.out.flush(); // a safety net should a transport ever miss an onDrain
    this.user!.tick(now);
  }

  /** RequestHost: sends a control-priority frame (no-op once closing). */
  sendFrame(frame: FrameInit): void {
    this.out.sendFrame(frame);
  }

  /** RequestHost: answers Send/Publish `id` with a SendAck (hand-encoded: one per message sent). */
  sendAck(id: number, ack: SendAckFields): void {
    this.out.sendBytes(encodeSendAckFrame(id, ack, this.conn.framing === 'stream'), PRIORITY_CONTROL, 0);
  }

  /** RequestHost: sends an Error frame answering request `id`. */
  sendError(id: number, err: unknown): void {
    if (this.state >= STATE_CLOSING) return;
    let e = toReplyError(err);
    if (e === undefined) {
      this.ctx.telemetry.log.error({ err, userId: this.userId }, 'request failed unexpectedly');
      e = new RequestError(ReplyCode.INTERNAL, 'internal error');
    }
    this.ctx.telemetry.countReplyError(e.replyCode);
    const { replyCode: code, message, retryable, retryAfterMs } = e;
    if (code === ReplyCode.BUSY && retryAfterMs > 0) this.intake.busyUntil(this.ctx.now() + retryAfterMs);
    this.out.sendFrame({ id, error: { code, message, retryable, retryAfterMs } });
  }

  /** RequestHost: a QoS-1 request was handed on (see session-requests.ts). */
  requestStarted(): void {
    this.intake.requestStarted();
  }

  /** RequestHost: a QoS-1 request was answered. */
  requestSettled(): void {
    this.intake.requestSettled();
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
    return this.topics?.has(topic) === true;
  }

  /** FrameHandlerHost. */
  onAck(seq: number): void {
    this.user!.onAck(seq);
  }

  /** FrameHandlerHost. */
  subscribe(id: number, req: SubscribeRequest): void {
    (this.topics ??= new TopicSubscriptions(this)).subscribe(id, req);
  }

  /** FrameHandlerHost: idempotent, answered even for a topic never subscribed. */
  unsubscribe(id: number, topic: string): void {
    if (this.topics !== null) this.topics.unsubscribe(id, topic);
    else this.out.sendFrame({ id, reply: {} });
  }

  /** FrameHandlerHost: the client said goodbye: close without a Disconnect of our own (nothing is counted). */
  closeByClient(): void {
    this.state = STATE_CLOSING;
    this.detach();
    this.conn.close(DisconnectCode.NORMAL, 'client disconnected');
  }

  /** IntakeHost: one decoded frame. */
  onFrame(frame: Frame): void {
    if (this.state === STATE_OPEN) this.process(frame);
    else this.intakeBeforeAuth(frame);
  }

  /** IntakeHost: the one place a failure of this connection's intake becomes a disconnect. */
  intakeFailed(err: unknown): void {
    if (err instanceof ProtocolError) {
      this.disconnect(err.disconnectCode, err.message);
      return;
    }
    this.ctx.telemetry.log.error({ err, conn: this.conn.id }, 'unexpected error in frame intake');
    this.disconnect(DisconnectCode.SERVER_ERROR, 'internal error');
  }

  /** An open session's frame: validate, handle; a RequestError answers this request only. */
  private process(frame: Frame): void {
    // The body is read once: protobufjs computes it by scanning every oneof field.
    const kind = FRAME_KINDS[clientBodyOf(frame)];
    try {
      kind.validate(frame, this.ctx.settings.validation);
      kind.handle(this, frame);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      this.sendError(frame.id, err);
    }
  }

  private intakeBeforeAuth(frame: Frame): void {
    if (this.authStarted) {
      const pending = (this.pending ??= []);
      if (pending.length >= MAX_FRAMES_BEFORE_AUTH) {
        throw new ProtocolError(DisconnectCode.PROTOCOL_VIOLATION, 'too many frames before AuthResult');
      }
      pending.push(frame);
      return;
    }
    if (frame.body !== 'authenticate') {
      const why = `the first frame must be authenticate, not ${frame.body}`;
      throw new ProtocolError(DisconnectCode.PROTOCOL_VIOLATION, why);
    }
    try {
      CLIENT_FRAME_RULES.authenticate(frame, this.ctx.settings.validation);
    } catch (err) {
      // A malformed Authenticate cannot be answered and retried on a connection that has no identity.
      if (!(err instanceof RequestError)) throw err;
      this.disconnect(DisconnectCode.AUTH_FAILED, err.message);
      return;
    }
    this.authStarted = true;
    this.ctx.deps.authenticator.authenticate(frame.authenticate?.token ?? '').then(
      (identity) => this.authenticated(identity, frame),
      (err: unknown) => this.authRefused(err),
    );
  }

  private authRefused(err: unknown): void {
    if (this.state !== STATE_AUTHENTICATING) return;
    if (err instanceof AuthError) {
      this.disconnect(err.disconnectCode, err.message);
      return;
    }
    this.ctx.telemetry.log.error({ err }, 'authenticator failed');
    this.disconnect(DisconnectCode.SERVER_ERROR, 'authentication is unavailable');
  }

  /**
   * The token is good. Resume point: max(device cursor, Authenticate.last_seq) — the client may have
   * processed messages it could not ack before it lost the connection, and it knows best. A last_seq
   * beyond the end of the user's log means the store no longer has the history the client saw (it
   * lost data, or is another store): resuming there would skip the messages the log gets next, so
   * the session resumes at the device's cursor instead and says so (AuthResult.log_reset), and the
   * client takes that as its position (docs/protocol.md §5.4).
   */
  private async authenticated(identity: Identity, frame: Frame): Promise<void> {
    if (this.state !== STATE_AUTHENTICATING) return;
    const { settings, deps, telemetry } = this.ctx;
    if (identity.expiresAtMs > 0 && identity.expiresAtMs <= this.ctx.now()) {
      this.disconnect(DisconnectCode.TOKEN_EXPIRED, 'token expired');
      return;
    }
    const userId = identity.userId;
    const deviceId = identity.deviceId || frame.authenticate?.deviceId || 'default';
    if (settings.duplicateDevice === 'reject-new' && deps.registry.get(userId, deviceId) !== undefined) {
      this.disconnect(DisconnectCode.REPLACED, DEVICE_TAKEN_REASON);
      return;
    }
    const lastSeq = frame.authenticate?.lastSeq ?? 0;
    let cursor: number;
    let start: number;
    let logReset: boolean;
    try {
      const [c, end] = await Promise.all([
        deps.store.userCursor(userId, deviceId),
        lastSeq > 0 ? deps.store.lastUserSeq(userId) : 0,
      ]);
      cursor = c;
      logReset = lastSeq > end;
      start = logReset ? Math.min(c, end) : Math.max(c, lastSeq);
    } catch (err) {
      telemetry.log.warn({ err, userId }, 'reading the ack cursor failed');
      this.disconnect(DisconnectCode.SERVER_ERROR, 'message store unavailable');
      return;
    }
    if (this.state !== STATE_AUTHENTICATING) return; // deadline or peer close while the store answered
    this.userId = userId;
    this.deviceId = deviceId;
    if (logReset) {
      telemetry.metrics.storeLogResets.inc();
      telemetry.log.debug(
        { userId, deviceId, lastSeq, start },
        'last_seq past the end of the log: log reset',
      );
    }
    this.open(identity, frame.id, start, cursor, logReset);
  }

  /** Registers the session, answers AuthResult, starts the replay, runs pipelined frames. */
  private open(identity: Identity, id: number, start: number, cursor: number, logReset: boolean): void {
    const { ctx, userId, deviceId } = this;
    const { settings, deps } = ctx;
    const now = ctx.now();
    this.sessionId = settings.sessionIdPrefix + this.conn.id.toString(36);
    this.expiresAtMs = identity.expiresAtMs;
    this.grants = new SessionGrants(identity.grants);
    this.sinceMs = this.lastPingMs = now;
    if (deps.registry.add(this, settings.duplicateDevice) === 'rejected') {
      this.disconnect(DisconnectCode.REPLACED, DEVICE_TAKEN_REASON);
      return;
    }
    this.user = new UserDelivery(ctx, this.out, userId, deviceId);
    this.state = STATE_OPEN;
    this.wasOpen = true;
    this.owner.sessionOpened(this);
    if (settings.duplicateDevice === 'replace-old')
      deps.router.announceSession(userId, deviceId, this.sessionId);
    this.out.sendFrame({
      id,
      authResult: {
        userId,
        deviceId,
        sessionId: this.sessionId,
        nodeId: settings.nodeId,
        heartbeatMs: settings.heartbeatMs,
        idleTimeoutMs: settings.idleTimeoutMs,
        maxFrameBytes: settings.maxFrameBytes,
        ackedSeq: start,
        expiresAtMs: identity.expiresAtMs,
        logReset,
      },
    });
    this.user.resumeFrom(start, cursor);
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    try {
      for (const f of pending) {
        if (this.state !== STATE_OPEN) break;
        this.process(f);
      }
    } catch (err) {
      this.intakeFailed(err);
    }
  }

  /**
   * Leaves the registry, presence and topics, stops the intake, closes the outbox (a Disconnect must
   * not wait behind its queue) and writes the cursor owed now (every way of closing comes here with
   * the state already past open, so the write interval no longer holds it back). Idempotent (the
   * registry matches by identity).
   */
  private detach(): void {
    this.out.close();
    this.ctx.deps.registry.remove(this);
    this.topics?.close();
    this.pending = null;
    this.intake.stop();
    this.user?.close();
  }
}

/** The grants of a session that has none (shared: nothing is ever added to it before authentication). */
const NO_SESSION_GRANTS = new SessionGrants(undefined);
