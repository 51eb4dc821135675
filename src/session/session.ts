/**
 * One client connection's session (docs/architecture.md, "One connection's life"): the connection
 * handler, the state machine authenticating -> open -> closing -> closed, frame intake (framing,
 * decoding, send window, rate limits, validation, dispatch) and the per-session part of the shared
 * sweep (auth deadline, token expiry, idle timeout, heartbeats, owed cursor writes).
 *
 * Holding: a frame that may not be processed yet (over the rate limit, behind a full send window, or
 * a request before the retry_after_ms of a 109 BUSY this connection got) is kept with everything after
 * it and the connection is not read. One hold serves every reason: the held frame is offered again
 * when its reason lets go (a timer fires, or a request is answered) and goes through every check
 * again, so reading resumes only once none holds it back.
 *
 * Errors: every ProtocolError of this connection ends up in `intakeFailed`, the one place that turns
 * it into a Disconnect with its code; a RequestError becomes an Error frame carrying the request's id
 * and the connection stays.
 */
import type { Identity } from '../auth/authenticator.js';
import {
  AuthError,
  DisconnectCode,
  ProtocolError,
  ReplyCode,
  RequestError,
  shouldReconnect,
} from '../errors.js';
import { decodeFrame, type Frame, type FrameBody } from '../protocol/codec.js';
import { isControlFrame } from '../protocol/peek.js';
import { StreamFrameReader } from '../protocol/stream-reader.js';
import { checkDatagramFrame, validateClientFrame } from '../protocol/validate.js';
import {
  NOT_A_FRAME_MESSAGE,
  clampCloseReason,
  type Connection,
  type ConnectionHandler,
} from '../transport/transport.js';
import { PRIORITY_CONTROL } from './outbound-queue.js';
import { RATE_FLOOD, RATE_OK, RateLimiter } from './rate-limiter.js';
import type { RegisteredSession } from './registry.js';
import { toReplyError } from './reply-errors.js';
import { RATE_DROPPED, RATE_HELD, RATE_REFUSED, type SessionContext } from './session-context.js';
import { CURSOR_WRITE_INTERVAL_MS, SessionDelivery } from './session-delivery.js';
import { SessionGrants } from './session-grants.js';
import { STATE_AUTHENTICATING, STATE_CLOSED, STATE_CLOSING, STATE_OPEN } from './session-output.js';
import {
  handlePresenceQuery,
  handlePublish,
  handleSend,
  handleServiceRequest,
  type RequestHost,
} from './session-requests.js';

/** The manager's bookkeeping hooks. */
export interface SessionOwner {
  /** The session authenticated and is registered. */
  sessionOpened(s: Session): void;
  /** The connection is gone (called exactly once); `wasOpen` if it had authenticated. */
  sessionClosed(s: Session, wasOpen: boolean): void;
}

/** Bytes a closing connection is still read for while its close handshake runs; then reading stops. */
const CLOSING_READ_BYTES = 64 * 1024;
/** Frames a client may pipeline behind its Authenticate before the AuthResult; more is abuse. */
const MAX_FRAMES_BEFORE_AUTH = 32;
/** Why the held frame waits: its rate-limit tokens, a send-window slot, or a 109's retry_after_ms. */
const HOLD_RATE = 1;
const HOLD_WINDOW = 2;
const HOLD_BUSY = 3;
/** Reason sent with 4505 under the 'reject-new' duplicate-device policy. */
export const DEVICE_TAKEN_REASON = 'this device is already connected';

/** One connection: handler, state machine, intake, timers (driven by the manager's sweep). */
export class Session extends SessionDelivery implements ConnectionHandler, RegisteredSession, RequestHost {
  private readonly owner: SessionOwner;
  /** Stream framing only (TCP, WebTransport streams); message transports hand whole frames. */
  private readonly reader: StreamFrameReader | null;
  /** Bound once per stream session, not per chunk. */
  private readonly onStreamFrame: ((body: Uint8Array) => void) | null;
  private readonly limiter: RateLimiter;
  private readonly createdMs: number;
  private lastSeenMs: number;
  private lastPingMs = 0;
  private expiresAtMs = 0;
  private authStarted = false;
  private wasOpen = false;
  /** Frames pipelined behind Authenticate, processed in order once it succeeds. */
  private pending: Frame[] | null = null;
  /**
   * Held back over the rate limit: reading is paused, and `resumeTimer` offers the held frame again
   * once it fits. Stream framing keeps the frame (and the rest of its read) in the reader; message
   * framing keeps it, and whatever the transport had already read, in `heldMessages`.
   */
  private holding = false;
  private heldMessages: Uint8Array[] | null = null;
  private resumeTimer: unknown = null;
  /** How long the latest held frame has to wait. */
  private holdWaitMs = 0;
  /** HOLD_*: why the held frame waits (HOLD_WINDOW has no timer: `requestSettled` offers it again). */
  private holdReason = 0;
  /** After a 109 BUSY: requests are not read before this time (the retry_after_ms the client got). */
  private busyUntilMs = 0;
  /** QoS-1 requests dispatched and not yet answered (see session-requests.ts). */
  private requestsInflight = 0;
  /** Bytes received after the session started closing (see `receive`). */
  private closingBytes = 0;
  /** Bound once: the timer callback that offers the held frames again. */
  private readonly onResume = (): void => this.resumeHeld();

  constructor(conn: Connection, ctx: SessionContext, owner: SessionOwner) {
    super(conn, ctx);
    this.owner = owner;
    this.createdMs = this.lastSeenMs = ctx.now();
    this.limiter = new RateLimiter(ctx.rateLimits, this.createdMs);
    if (conn.framing === 'stream') {
      const reader = (this.reader = new StreamFrameReader(ctx.maxFrameBytes));
      this.onStreamFrame = (body) => {
        if (!this.intake(body)) reader.hold();
      };
    } else {
      this.reader = null;
      this.onStreamFrame = null;
    }
  }

  /** Installs this session as the connection's handler (after the owner has recorded it). */
  start(): void {
    this.conn.setHandler(this);
  }

  /** True when nothing is queued or buffered and every QoS-1 delivery has been acked (drain waits for it). */
  get settled(): boolean {
    return this.state !== STATE_OPEN || (this.outputIdle && this.inflight === 0);
  }

  onData(bytes: Uint8Array): void {
    this.receive(bytes, this.reader);
  }

  /** A datagram is always exactly one frame, whatever the reliable channel's framing. */
  onDatagram(bytes: Uint8Array): void {
    this.receive(bytes, null, true);
  }

  onClose(): void {
    if (this.state === STATE_CLOSED) return;
    this.state = STATE_CLOSED;
    this.releaseQueue();
    this.detach();
    this.owner.sessionClosed(this, this.wasOpen);
  }

  /**
   * Ends the session: a Disconnect frame (reconnect advice from the code's range) ahead of anything
   * still queued, then a graceful transport close with the same code. Idempotent.
   */
  disconnect(code: number, reason: string, reconnectDelayMs = 0): void {
    if (this.state >= STATE_CLOSING) return;
    this.state = STATE_CLOSING;
    this.ctx.countDisconnect(code);
    this.ctx.log.debug({ conn: this.conn.id, userId: this.userId, code, reason }, 'disconnect');
    this.releaseQueue();
    this.detach();
    const r = clampCloseReason(reason);
    const frame = { disconnect: { code, reason: r, reconnect: shouldReconnect(code), reconnectDelayMs } };
    const bytes = this.ctx.encode(frame, this.conn.framing);
    this.conn.write(bytes);
    this.countOut(bytes.length);
    this.conn.close(code, r);
  }

  /** Abrupt end (gateway shutdown): no Disconnect frame, the transport is destroyed. Idempotent. */
  destroy(): void {
    if (this.state === STATE_CLOSED) return;
    this.state = STATE_CLOSING;
    this.conn.destroy();
    this.onClose(); // in case the transport does not report its own destruction synchronously
  }

  /** The sweep: deadlines, expiry, idleness, heartbeats, and retries of stalled work. */
  tick(now: number): void {
    const ctx = this.ctx;
    if (this.state === STATE_AUTHENTICATING) {
      if (now - this.createdMs >= ctx.authDeadlineMs) {
        this.disconnect(DisconnectCode.AUTH_TIMEOUT, `no authentication within ${ctx.authDeadlineMs} ms`);
      }
      return;
    }
    if (this.state !== STATE_OPEN) return;
    if (this.expiresAtMs > 0 && now >= this.expiresAtMs) {
      this.disconnect(DisconnectCode.TOKEN_EXPIRED, 'token expired');
      return;
    }
    if (ctx.idleTimeoutMs > 0 && now - this.lastSeenMs > ctx.idleTimeoutMs) {
      this.disconnect(DisconnectCode.IDLE_TIMEOUT, `nothing received for ${ctx.idleTimeoutMs} ms`);
      return;
    }
    if (ctx.heartbeatMs > 0 && now - this.lastPingMs >= ctx.heartbeatMs) {
      this.lastPingMs = now;
      this.sendBytes(ctx.pingBytes(now, this.conn.framing), PRIORITY_CONTROL, 0);
    }
    this.flushQueue(); // a safety net should a transport ever miss an onDrain
    this.retryPull();
    // Acks held back by the write interval, or a failed write (see flushCursor for why twice).
    this.flushCursor(now, 2 * CURSOR_WRITE_INTERVAL_MS);
  }

  /** RequestHost: sends an Error frame answering request `id`. */
  sendError(id: number, err: unknown): void {
    if (this.state >= STATE_CLOSING) return;
    let e = toReplyError(err);
    if (e === undefined) {
      this.ctx.log.error({ err, userId: this.userId }, 'request failed unexpectedly');
      e = new RequestError(ReplyCode.INTERNAL, 'internal error');
    }
    this.ctx.countReplyError(e.replyCode);
    const { replyCode: code, message, retryable, retryAfterMs } = e;
    if (code === ReplyCode.BUSY && retryAfterMs > 0) this.busyUntilMs = this.ctx.now() + retryAfterMs;
    this.sendFrame({ id, error: { code, message, retryable, retryAfterMs } });
  }

  private receive(bytes: Uint8Array, reader: StreamFrameReader | null, datagram = false): void {
    if (this.state >= STATE_CLOSING) {
      // Only the close handshake is awaited now. A peer that keeps sending past CLOSING_READ_BYTES
      // (a flooder, megabytes already in the socket) is not read further: a WebSocket would parse
      // every message until its close linger, for nothing. The linger then ends the connection.
      this.closingBytes += bytes.length;
      if (this.closingBytes > CLOSING_READ_BYTES) this.conn.pauseReading();
      return;
    }
    try {
      if (datagram) this.intakeDatagram(bytes);
      else if (reader !== null) {
        reader.push(bytes, this.onStreamFrame!);
        if (reader.holding && !this.holding) this.hold();
      } else if (this.holding) {
        // Read by the transport before it paused (one socket read at most): it waits its turn.
        this.heldMessages!.push(bytes);
      } else if (!this.intake(bytes)) {
        this.heldMessages = [bytes];
        this.hold();
      }
    } catch (err) {
      this.intakeFailed(err);
    }
  }

  /**
   * One frame's bytes (no length prefix), priced against the rate limit before it is decoded: a Ping,
   * Pong or Ack costs `controlFrameCost` of a frame token, anything else one, and the bytes count in
   * full either way. Returns false when the frame does not fit and must wait: the caller holds it,
   * and reading stops until it fits. Throws ProtocolError; catches RequestError itself.
   */
  private intake(body: Uint8Array): boolean {
    if (this.state >= STATE_CLOSING) return true; // a frame behind a fatal one in the same chunk
    const now = this.ctx.now();
    this.lastSeenMs = now; // any frame counts as liveness, even one that has to wait
    const control = isControlFrame(body);
    if (!control && this.state === STATE_OPEN) {
      // Checked before the rate limit so that a frame waiting here is charged once, when it is
      // processed. Only requests wait here: acks, pings and pongs that are not behind one pass.
      if (this.requestsInflight >= this.ctx.maxInflightSends) return this.holdRequest(HOLD_WINDOW, 0);
      // The client was told to come back later: what it sends before then waits in its socket
      // instead of earning one 109 after another (each costs the node a decode and a reply).
      if (now < this.busyUntilMs) return this.holdRequest(HOLD_BUSY, this.busyUntilMs - now);
    }
    const cost = control ? this.ctx.rateLimits.controlFrameCost : 1;
    const verdict = this.limiter.take(body.length, cost, now);
    if (verdict !== RATE_OK) return this.overLimit(body, control, cost, verdict === RATE_FLOOD, now);
    this.countIn(body.length);
    if (body === NOT_A_FRAME_MESSAGE) throw textMessageError();
    const frame = decodeFrame(body, this.ctx.maxFrameBytes);
    if (this.state === STATE_OPEN) this.process(frame, frame.body!);
    else this.intakeBeforeAuth(frame);
    return true;
  }

  /**
   * A frame over the limit. Past the flood tolerance the connection is cut (4006). Otherwise a request
   * is refused with 104 while the reply budget lasts (it tells a well-behaved client how long to back
   * off); a Ping, Pong or Ack, and any request past the budget, waits instead (returns false): it gets
   * no answer now, so a flood earns no output, and nothing is lost (a held Ack still moves the cursor).
   */
  private overLimit(body: Uint8Array, control: boolean, cost: number, flood: boolean, now: number): boolean {
    if (flood) throw this.floodError(now);
    if (!control && this.limiter.mayReply(now)) {
      this.countIn(body.length);
      if (body === NOT_A_FRAME_MESSAGE) throw textMessageError();
      const frame = decodeFrame(body, this.ctx.maxFrameBytes); // garbage still gets 4500, not a 104
      this.ctx.traffic.rateLimited[RATE_REFUSED]!++;
      const retryAfterMs = this.limiter.waitMs(body.length, cost);
      const refusal = { retryable: true, retryAfterMs };
      this.sendError(frame.id, new RequestError(ReplyCode.RATE_LIMITED, 'rate limit exceeded', refusal));
      return true;
    }
    this.ctx.traffic.rateLimited[RATE_HELD]!++;
    this.holdReason = HOLD_RATE;
    this.holdWaitMs = this.limiter.waitMs(body.length, cost);
    return false;
  }

  /**
   * A datagram: priced like a request, never held (it has no flow control to hold it with): one over
   * the limit is dropped, as the network may drop any datagram, and counts toward the flood streak.
   */
  private intakeDatagram(body: Uint8Array): void {
    const now = this.ctx.now();
    this.lastSeenMs = now;
    this.countIn(body.length);
    const verdict = this.limiter.take(body.length, 1, now);
    if (verdict === RATE_FLOOD) throw this.floodError(now);
    if (verdict !== RATE_OK) {
      this.ctx.traffic.rateLimited[RATE_DROPPED]!++;
      return;
    }
    const frame = decodeFrame(body, this.ctx.maxFrameBytes);
    checkDatagramFrame(frame); // docs/protocol.md §2.3: ephemeral QoS-0 Send/Publish only
    if (this.state !== STATE_OPEN) return; // unreliable: one racing ahead of AuthResult may be lost
    this.process(frame, frame.body!);
  }

  /**
   * Stops reading until the held frame may go (TCP or QUIC flow control holds the peer back
   * meanwhile): after `holdWaitMs` for the rate limit, at the next answered request for the window.
   */
  private hold(): void {
    if (!this.holding) {
      this.holding = true;
      this.conn.pauseReading();
    }
    if (this.holdReason !== HOLD_WINDOW)
      this.resumeTimer = this.ctx.timers.set(this.onResume, this.holdWaitMs);
  }

  /** A request frame waits for a window slot or for the end of a 109's retry_after_ms (counted). */
  private holdRequest(reason: number, waitMs: number): false {
    this.holdReason = reason;
    this.holdWaitMs = waitMs;
    this.ctx.traffic.windowHeld++;
    return false;
  }

  /** RequestHost: a QoS-1 request was handed on (see session-requests.ts). */
  requestStarted(): void {
    this.requestsInflight++;
  }

  /** RequestHost: a QoS-1 request was answered; a frame held for the window may go now. */
  requestSettled(): void {
    this.requestsInflight--;
    const waiting = this.holding && this.holdReason === HOLD_WINDOW;
    if (waiting && this.requestsInflight < this.ctx.maxInflightSends) this.resumeHeld();
  }

  /** The held frame should fit now: offer it again, then what waited behind it; read again when done. */
  private resumeHeld(): void {
    this.resumeTimer = null;
    if (this.state >= STATE_CLOSING) return;
    // Time held for the rate limit counts as over it (see RateLimiter.heldUntil); time waiting for
    // the window or after a 109 is the node's own slowness, which must not make a client look like a
    // flooder.
    if (this.holdReason === HOLD_RATE) this.limiter.heldUntil(this.ctx.now());
    this.holdReason = 0;
    try {
      const reader = this.reader;
      if (reader !== null) {
        reader.resume(this.onStreamFrame!);
        if (reader.holding) return this.hold();
      } else {
        const held = this.heldMessages!;
        while (held.length > 0) {
          if (!this.intake(held[0]!)) return this.hold();
          held.shift();
        }
        this.heldMessages = null;
      }
    } catch (err) {
      this.intakeFailed(err);
      return;
    }
    if (this.state >= STATE_CLOSING) return;
    this.holding = false;
    this.conn.resumeReading();
  }

  /** 4006: over the limit for the flood tolerance. Logged (once per connection) for the operator. */
  private floodError(now: number): ProtocolError {
    const s = this.ctx.rateLimits.floodToleranceSeconds;
    this.ctx.log.warn(
      {
        conn: this.conn.id,
        transport: this.conn.kind,
        remoteAddress: this.conn.remoteAddress,
        userId: this.userId,
        framesProcessed: this.limiter.passed,
        framesOverLimit: this.limiter.overLimit,
        overLimitMs: this.limiter.streakMs(now),
      },
      'flooding connection cut',
    );
    return new ProtocolError(DisconnectCode.FLOOD, `over the rate limit for ${s} s`);
  }

  /** The one place a failure of this connection's intake becomes a disconnect. */
  private intakeFailed(err: unknown): void {
    if (err instanceof ProtocolError) {
      this.disconnect(err.disconnectCode, err.message);
      return;
    }
    this.ctx.log.error({ err, conn: this.conn.id }, 'unexpected error in frame intake');
    this.disconnect(DisconnectCode.SERVER_ERROR, 'internal error');
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
      validateClientFrame(frame, this.ctx.validation);
    } catch (err) {
      // A malformed Authenticate cannot be answered and retried on a connection that has no identity.
      if (!(err instanceof RequestError)) throw err;
      this.disconnect(DisconnectCode.AUTH_FAILED, err.message);
      return;
    }
    this.authStarted = true;
    this.ctx.authenticator.authenticate(frame.authenticate?.token ?? '').then(
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
    this.ctx.log.error({ err }, 'authenticator failed');
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
    const ctx = this.ctx;
    if (identity.expiresAtMs > 0 && identity.expiresAtMs <= ctx.now()) {
      this.disconnect(DisconnectCode.TOKEN_EXPIRED, 'token expired');
      return;
    }
    const userId = identity.userId;
    const deviceId = identity.deviceId || frame.authenticate?.deviceId || 'default';
    if (ctx.duplicateDevice === 'reject-new' && ctx.registry.get(userId, deviceId) !== undefined) {
      this.disconnect(DisconnectCode.REPLACED, DEVICE_TAKEN_REASON);
      return;
    }
    const lastSeq = frame.authenticate?.lastSeq ?? 0;
    let cursor: number;
    let start: number;
    let logReset: boolean;
    try {
      const [c, end] = await Promise.all([
        ctx.store.userCursor(userId, deviceId),
        lastSeq > 0 ? ctx.store.lastUserSeq(userId) : 0,
      ]);
      cursor = c;
      logReset = lastSeq > end;
      start = logReset ? Math.min(c, end) : Math.max(c, lastSeq);
    } catch (err) {
      ctx.log.warn({ err, userId }, 'reading the ack cursor failed');
      this.disconnect(DisconnectCode.SERVER_ERROR, 'message store unavailable');
      return;
    }
    if (this.state !== STATE_AUTHENTICATING) return; // deadline or peer close while the store answered
    this.userId = userId;
    this.deviceId = deviceId;
    if (logReset) {
      ctx.metrics.storeLogResets.inc();
      ctx.log.debug({ userId, deviceId, lastSeq, start }, 'last_seq past the end of the log: log reset');
    }
    this.open(identity, frame.id, start, cursor, logReset);
  }

  /** Registers the session, answers AuthResult, starts the replay, runs pipelined frames. */
  private open(identity: Identity, id: number, start: number, cursor: number, logReset: boolean): void {
    const { ctx, userId, deviceId } = this;
    const now = ctx.now();
    this.sessionId = ctx.sessionIdPrefix + this.conn.id.toString(36);
    this.expiresAtMs = identity.expiresAtMs;
    this.grants = new SessionGrants(identity.grants);
    this.sinceMs = this.lastPingMs = now;
    if (ctx.registry.add(this, ctx.duplicateDevice) === 'rejected') {
      this.disconnect(DisconnectCode.REPLACED, DEVICE_TAKEN_REASON);
      return;
    }
    this.state = STATE_OPEN;
    this.wasOpen = true;
    this.owner.sessionOpened(this);
    if (ctx.duplicateDevice === 'replace-old') ctx.router.announceSession(userId, deviceId, this.sessionId);
    this.sendFrame({
      id,
      authResult: {
        userId,
        deviceId,
        sessionId: this.sessionId,
        nodeId: ctx.nodeId,
        heartbeatMs: ctx.heartbeatMs,
        idleTimeoutMs: ctx.idleTimeoutMs,
        maxFrameBytes: ctx.maxFrameBytes,
        ackedSeq: start,
        expiresAtMs: identity.expiresAtMs,
        logReset,
      },
    });
    this.resumeFrom(start, cursor);
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    try {
      for (const f of pending) {
        if (this.state !== STATE_OPEN) break;
        this.process(f, f.body!);
      }
    } catch (err) {
      this.intakeFailed(err);
    }
  }

  /** An open session's frame: validate, dispatch; a RequestError answers this request only. */
  private process(frame: Frame, kind: FrameBody): void {
    try {
      validateClientFrame(frame, this.ctx.validation);
      this.dispatch(frame, kind);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      this.sendError(frame.id, err);
    }
  }

  /** `kind` is `frame.body`, read once: protobufjs computes it by scanning every oneof field. */
  private dispatch(frame: Frame, kind: FrameBody): void {
    switch (kind) {
      case 'ping':
        this.sendFrame({ id: frame.id, pong: { timestampMs: frame.ping?.timestampMs ?? 0 } });
        return;
      case 'pong':
        return;
      case 'ack':
        this.onAck(frame.ack?.seq ?? 0);
        return;
      case 'send':
        handleSend(this, frame);
        return;
      case 'publish':
        handlePublish(this, frame);
        return;
      case 'subscribe': {
        const b = frame.subscribe!;
        this.subscribe(frame.id, {
          topic: b.topic ?? '',
          sinceSeq: b.sinceSeq ?? 0,
          fromStart: b.fromStart === true,
          token: b.token ?? '',
        });
        return;
      }
      case 'unsubscribe':
        this.unsubscribe(frame.id, frame.unsubscribe?.topic ?? '');
        return;
      case 'presenceQuery':
        handlePresenceQuery(this, frame);
        return;
      case 'serviceRequest':
        handleServiceRequest(this, frame);
        return;
      case 'authenticate':
        throw new RequestError(ReplyCode.ALREADY_AUTHENTICATED, 'this connection is already authenticated');
      case 'disconnect':
        this.closeByClient();
        return;
      default:
        // validateClientFrame refuses server-only bodies first; this is the backstop.
        throw new ProtocolError(DisconnectCode.PROTOCOL_VIOLATION, `${kind} is not a client frame`);
    }
  }

  /** The client said goodbye: close without a Disconnect of our own (nothing is counted). */
  private closeByClient(): void {
    this.state = STATE_CLOSING;
    this.releaseQueue();
    this.detach();
    this.conn.close(DisconnectCode.NORMAL, 'client disconnected');
  }

  /**
   * Leaves the registry, presence and topics, and writes the cursor owed now (every way of closing
   * comes here with the state already past open, so the write interval no longer holds it back).
   * Idempotent (the registry matches by identity).
   */
  private detach(): void {
    this.ctx.registry.remove(this);
    this.dropSubscriptions();
    this.pending = null;
    this.heldMessages = null;
    this.holdReason = 0;
    if (this.resumeTimer !== null) this.ctx.timers.clear(this.resumeTimer);
    this.resumeTimer = null;
    if (this.holding) {
      // Read again so that the close handshake can complete (a flooder is stopped again after
      // CLOSING_READ_BYTES, see `receive`).
      this.holding = false;
      this.conn.resumeReading();
    }
    this.flushCursor(this.ctx.now());
  }
}

/** docs/protocol.md §2.2: frames travel in binary WebSocket messages only. */
function textMessageError(): ProtocolError {
  return new ProtocolError(
    DisconnectCode.BAD_FRAME,
    'WebSocket text message: frames must be binary messages',
  );
}
