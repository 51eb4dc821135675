/**
 * The receiving half of a session: framing, the rate limit, the send window and holding, up to a
 * decoded frame handed to the session.
 *
 * Holding: a frame that may not be processed yet (over the rate limit, behind a full send window, or
 * a request before the retry_after_ms of a 109 BUSY this connection got) is kept with everything after
 * it and the connection is not read. One hold serves every reason: the held frame is offered again
 * when its reason lets go (a timer fires, or a request is answered) and goes through every check
 * again, so reading resumes only once none holds it back.
 */
import { DisconnectCode, ProtocolError, ReplyCode, RequestError } from '../errors.js';
import { decodeFrame, type Frame } from '../protocol/codec.js';
import { isControlFrame } from '../protocol/peek.js';
import { StreamFrameReader } from '../protocol/stream-reader.js';
import { checkDatagramFrame } from '../protocol/validate.js';
import type { Connection } from '../transport/transport.js';
import type { Outbox } from './outbox.js';
import { RATE_FLOOD, RATE_OK, RateLimiter } from './rate-limiter.js';
import type { SessionContext } from './session-context.js';
import { STATE_CLOSING, STATE_OPEN, type SessionState } from './session-state.js';
import { RATE_DROPPED, RATE_HELD, RATE_REFUSED } from './session-telemetry.js';

/** Bytes a closing connection is still read for while its close handshake runs; then reading stops. */
const CLOSING_READ_BYTES = 64 * 1024;
/** Why the held frame waits: its rate-limit tokens, a send-window slot, or a 109's retry_after_ms. */
const HOLD_RATE = 1;
const HOLD_WINDOW = 2;
const HOLD_BUSY = 3;

/** The session an Intake reads for. */
export interface IntakeHost {
  readonly ctx: SessionContext;
  readonly conn: Connection;
  readonly out: Outbox;
  readonly state: SessionState;
  readonly userId: string;
  /** One decoded frame to process now. Throws ProtocolError; answers RequestErrors itself. */
  onFrame(frame: Frame): void;
  /** Sends an Error frame answering request `id`. */
  sendError(id: number, err: unknown): void;
  /** The one place a failure of this connection's intake becomes a disconnect. */
  intakeFailed(err: unknown): void;
}

/** Reads one connection's frames into its session, at the pace its limits allow. */
export class Intake {
  private readonly host: IntakeHost;
  /** Stream framing only (TCP, WebTransport streams); message transports hand whole frames. */
  private readonly reader: StreamFrameReader | null;
  /** Bound once per stream session, not per chunk. */
  private readonly onStreamFrame: ((body: Uint8Array) => void) | null;
  private readonly limiter: RateLimiter;
  /** When a frame last arrived (liveness for the idle timeout). */
  lastSeenMs: number;
  /**
   * Held back: reading is paused, and the held frame is offered again once it may go. Stream framing
   * keeps the frame (and the rest of its read) in the reader; message framing keeps it, and whatever
   * the transport had already read, in `heldMessages`.
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
  /** The timer callback that offers the held frames again: bound at the first hold (most never hold). */
  private onResume: (() => void) | null = null;

  constructor(host: IntakeHost, nowMs: number) {
    this.host = host;
    this.lastSeenMs = nowMs;
    this.limiter = new RateLimiter(host.ctx.settings.rateLimits, nowMs);
    if (host.conn.framing === 'stream') {
      const reader = (this.reader = new StreamFrameReader(host.ctx.settings.maxFrameBytes));
      this.onStreamFrame = (body) => {
        if (!this.intake(body)) reader.hold();
      };
    } else {
      this.reader = null;
      this.onStreamFrame = null;
    }
  }

  /** Bytes from the reliable channel. */
  onData(bytes: Uint8Array): void {
    this.receive(bytes, false);
  }

  /** A datagram is always exactly one frame, whatever the reliable channel's framing. */
  onDatagram(bytes: Uint8Array): void {
    this.receive(bytes, true);
  }

  /** A 109 BUSY with retry advice was sent: requests wait until then. */
  busyUntil(ms: number): void {
    this.busyUntilMs = ms;
  }

  /** A QoS-1 request was handed on. */
  requestStarted(): void {
    this.requestsInflight++;
  }

  /** A QoS-1 request was answered; a frame held for the window may go now. */
  requestSettled(): void {
    this.requestsInflight--;
    const waiting = this.holding && this.holdReason === HOLD_WINDOW;
    if (waiting && this.requestsInflight < this.host.ctx.settings.maxInflightSends) this.resumeHeld();
  }

  /**
   * The session is closing: drops what is held and reads again, so that the close handshake can
   * complete (a flooder is stopped again after CLOSING_READ_BYTES, see `receive`). Idempotent.
   */
  stop(): void {
    this.heldMessages = null;
    this.holdReason = 0;
    if (this.resumeTimer !== null) this.host.ctx.timers.clear(this.resumeTimer);
    this.resumeTimer = null;
    if (this.holding) {
      this.holding = false;
      this.host.conn.resumeReading();
    }
  }

  private receive(bytes: Uint8Array, datagram: boolean): void {
    const host = this.host;
    if (host.state >= STATE_CLOSING) {
      // Only the close handshake is awaited now. A peer that keeps sending past CLOSING_READ_BYTES
      // (a flooder, megabytes already in the socket) is not read further: a WebSocket would parse
      // every message until its close linger, for nothing. The linger then ends the connection.
      this.closingBytes += bytes.length;
      if (this.closingBytes > CLOSING_READ_BYTES) host.conn.pauseReading();
      return;
    }
    try {
      const reader = this.reader;
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
      host.intakeFailed(err);
    }
  }

  /**
   * One frame's bytes (no length prefix), priced against the rate limit before it is decoded: a Ping,
   * Pong or Ack costs `controlFrameCost` of a frame token, anything else one, and the bytes count in
   * full either way. Returns false when the frame does not fit and must wait: the caller holds it,
   * and reading stops until it fits. Throws ProtocolError; the host answers RequestErrors.
   */
  private intake(body: Uint8Array): boolean {
    const host = this.host;
    if (host.state >= STATE_CLOSING) return true; // a frame behind a fatal one in the same chunk
    const settings = host.ctx.settings;
    const now = host.ctx.now();
    this.lastSeenMs = now; // any frame counts as liveness, even one that has to wait
    const control = isControlFrame(body);
    if (!control && host.state === STATE_OPEN) {
      // Checked before the rate limit so that a frame waiting here is charged once, when it is
      // processed. Only requests wait here: acks, pings and pongs that are not behind one pass.
      if (this.requestsInflight >= settings.maxInflightSends) return this.holdRequest(HOLD_WINDOW, 0);
      // The client was told to come back later: what it sends before then waits in its socket
      // instead of earning one 109 after another (each costs the node a decode and a reply).
      if (now < this.busyUntilMs) return this.holdRequest(HOLD_BUSY, this.busyUntilMs - now);
    }
    const cost = control ? settings.rateLimits.controlFrameCost : 1;
    const verdict = this.limiter.take(body.length, cost, now);
    if (verdict !== RATE_OK) return this.overLimit(body, control, cost, verdict === RATE_FLOOD, now);
    host.out.countIn(body.length);
    host.onFrame(decodeFrame(body, settings.maxFrameBytes));
    return true;
  }

  /**
   * A frame over the limit. Past the flood tolerance the connection is cut (4006). Otherwise a request
   * is refused with 104 while the reply budget lasts (it tells a well-behaved client how long to back
   * off); a Ping, Pong or Ack, and any request past the budget, waits instead (returns false): it gets
   * no answer now, so a flood earns no output, and nothing is lost (a held Ack still moves the cursor).
   */
  private overLimit(body: Uint8Array, control: boolean, cost: number, flood: boolean, now: number): boolean {
    const host = this.host;
    const traffic = host.ctx.telemetry.traffic;
    if (flood) throw this.floodError(now);
    if (!control && this.limiter.mayReply(now)) {
      host.out.countIn(body.length);
      const frame = decodeFrame(body, host.ctx.settings.maxFrameBytes); // garbage still gets 4500, not a 104
      traffic.rateLimited[RATE_REFUSED]!++;
      const retryAfterMs = this.limiter.waitMs(body.length, cost);
      const refusal = { retryable: true, retryAfterMs };
      host.sendError(frame.id, new RequestError(ReplyCode.RATE_LIMITED, 'rate limit exceeded', refusal));
      return true;
    }
    traffic.rateLimited[RATE_HELD]!++;
    this.holdReason = HOLD_RATE;
    this.holdWaitMs = this.limiter.waitMs(body.length, cost);
    return false;
  }

  /**
   * A datagram: priced like a request, never held (it has no flow control to hold it with): one over
   * the limit is dropped, as the network may drop any datagram, and counts toward the flood streak.
   */
  private intakeDatagram(body: Uint8Array): void {
    const host = this.host;
    const now = host.ctx.now();
    this.lastSeenMs = now;
    host.out.countIn(body.length);
    const verdict = this.limiter.take(body.length, 1, now);
    if (verdict === RATE_FLOOD) throw this.floodError(now);
    if (verdict !== RATE_OK) {
      host.ctx.telemetry.traffic.rateLimited[RATE_DROPPED]!++;
      return;
    }
    const frame = decodeFrame(body, host.ctx.settings.maxFrameBytes);
    checkDatagramFrame(frame); // docs/protocol.md §2.3: ephemeral QoS-0 Send/Publish only
    if (host.state !== STATE_OPEN) return; // unreliable: one racing ahead of AuthResult may be lost
    host.onFrame(frame);
  }

  /**
   * Stops reading until the held frame may go (TCP or QUIC flow control holds the peer back
   * meanwhile): after `holdWaitMs` for the rate limit, at the next answered request for the window.
   */
  private hold(): void {
    if (!this.holding) {
      this.holding = true;
      this.host.conn.pauseReading();
    }
    if (this.holdReason !== HOLD_WINDOW)
      this.resumeTimer = this.host.ctx.timers.set(
        (this.onResume ??= () => this.resumeHeld()),
        this.holdWaitMs,
      );
  }

  /** A request frame waits for a window slot or for the end of a 109's retry_after_ms (counted). */
  private holdRequest(reason: number, waitMs: number): false {
    this.holdReason = reason;
    this.holdWaitMs = waitMs;
    this.host.ctx.telemetry.traffic.windowHeld++;
    return false;
  }

  /** The held frame should fit now: offer it again, then what waited behind it; read again when done. */
  private resumeHeld(): void {
    const host = this.host;
    this.resumeTimer = null;
    if (host.state >= STATE_CLOSING) return;
    // Time held for the rate limit counts as over it (see RateLimiter.heldUntil); time waiting for
    // the window or after a 109 is the node's own slowness, which must not make a client look like a
    // flooder.
    if (this.holdReason === HOLD_RATE) this.limiter.heldUntil(host.ctx.now());
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
      host.intakeFailed(err);
      return;
    }
    if (host.state >= STATE_CLOSING) return;
    this.holding = false;
    host.conn.resumeReading();
  }

  /** 4006: over the limit for the flood tolerance. Logged (once per connection) for the operator. */
  private floodError(now: number): ProtocolError {
    const { ctx, conn, userId } = this.host;
    ctx.telemetry.log.warn(
      {
        conn: conn.id,
        transport: conn.kind,
        remoteAddress: conn.remoteAddress,
        userId,
        framesProcessed: this.limiter.passed,
        framesOverLimit: this.limiter.overLimit,
        overLimitMs: this.limiter.streakMs(now),
      },
      'flooding connection cut',
    );
    const s = ctx.settings.rateLimits.floodToleranceSeconds;
    return new ProtocolError(DisconnectCode.FLOOD, `over the rate limit for ${s} s`);
  }
}
