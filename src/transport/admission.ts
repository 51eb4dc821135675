/**
 * Admission: the one place that decides, at accept, whether a new socket may exist at all. Every
 * listener asks it for every socket (raw TCP and TLS, the WebSocket port's HTTP sockets, gRPC
 * sockets, QUIC connections) before any handshake work, so the per-IP and global caps hold for
 * sockets that never finish a TLS handshake, an HTTP upgrade or a gRPC call, not only for sessions.
 *
 * Two pools with their own caps: client transports (ws, tcp, wt: `limits.connectionsPerIp`,
 * `limits.maxConnections`) and gRPC callers (`access.connectionsPerIp`, `access.maxConnections`), so
 * a flood on one port cannot lock business systems out of the other. Both draw on one budget of file
 * descriptors (the open-file limit minus `limits.reservedFds`; QUIC connections share the UDP socket
 * and hold none), of which no one address may hold more than half, so a client from elsewhere gets in
 * while one address holds all it can.
 *
 * Each admitted socket holds an {@link AdmissionTicket} until its socket closes: its phase
 * (`pre_auth` until the session layer accepts its identity, or a gRPC socket makes its first call)
 * feeds the `ferry_sockets{transport,phase}` gauge, and it carries the socket's pre-auth deadline.
 */
import type { Duplex } from 'node:stream';
import { DisconnectCode } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { AbusePenalty, type PenaltySettings } from './abuse-penalty.js';

/** What admission counts: the three client transports and the gRPC port. */
export type AdmissionKind = 'ws' | 'tcp' | 'wt' | 'grpc';
/** Why a socket was refused at accept (the `reason` label of `ferry_connections_refused_total`). */
export type AdmissionRefusal = 'per_ip' | 'server_full' | 'fd_reserve' | 'abuse';
/** Where an admitted socket is in its life: before or after its peer proved who it is. */
export type AdmissionPhase = 'pre_auth' | 'authenticated';

/** The caps admission enforces (Infinity = no cap). */
export interface AdmissionLimits {
  /** Client sockets (ws, tcp, wt) from one IP address. */
  connectionsPerIp: number;
  /** Client sockets on this node. */
  maxConnections: number;
  /** gRPC sockets from one IP address. */
  grpcConnectionsPerIp: number;
  /** gRPC sockets on this node. */
  grpcMaxConnections: number;
  /**
   * Sockets holding a file descriptor that may be open at once (one address: at most half of them,
   * over both pools); Infinity when the limit is unknown.
   */
  maxSocketFds: number;
  /** Time from accept to the end of a socket's transport handshake (TLS, HTTP upgrade, first gRPC call). */
  handshakeTimeoutMs: number;
  /** Refused sockets that may linger at once to deliver their answer (see `refuseSocket`). */
  maxLingeringRefusals: number;
  /** When an address that keeps getting cut for abuse is refused at accept (see abuse-penalty.ts). */
  penalty: Readonly<PenaltySettings>;
}

/** Caps that never refuse anything (listeners built without a gateway, in tests and tools). */
export const UNLIMITED: Readonly<AdmissionLimits> = Object.freeze({
  connectionsPerIp: Infinity,
  maxConnections: Infinity,
  grpcConnectionsPerIp: Infinity,
  grpcMaxConnections: Infinity,
  maxSocketFds: Infinity,
  handshakeTimeoutMs: 10_000,
  maxLingeringRefusals: 64,
  penalty: Object.freeze({ threshold: 0, windowMs: 10_000, firstBanMs: 1000, maxBanMs: 60_000 }),
});

/** What a refused client is told, per refusal: the disconnect code and reason, and the HTTP status. */
export const REFUSALS: Readonly<
  Record<AdmissionRefusal, { code: DisconnectCode; reason: string; httpStatus: number }>
> = Object.freeze({
  per_ip: {
    code: DisconnectCode.CONNECTION_LIMIT,
    reason: 'too many connections from this address',
    httpStatus: 429,
  },
  server_full: { code: DisconnectCode.SERVER_FULL, reason: 'server is full', httpStatus: 503 },
  // The client cannot act on the difference; the metric label tells the operator.
  fd_reserve: { code: DisconnectCode.SERVER_FULL, reason: 'server is full', httpStatus: 503 },
  abuse: {
    code: DisconnectCode.CONNECTION_LIMIT,
    reason: 'too many connections from this address were cut for abuse; retry later',
    httpStatus: 429,
  },
});

/**
 * Close codes that count against the peer's address (see abuse-penalty.ts): bytes that are no frame,
 * frames out of place, refused credentials, a missed authentication deadline, a flood.
 */
const ABUSIVE_CLOSES: ReadonlySet<number> = new Set<number>([
  DisconnectCode.BAD_FRAME,
  DisconnectCode.FRAME_TOO_LARGE,
  DisconnectCode.UNKNOWN_FRAME_TYPE,
  DisconnectCode.PROTOCOL_VIOLATION,
  DisconnectCode.AUTH_FAILED,
  DisconnectCode.AUTH_TIMEOUT,
  DisconnectCode.FLOOD,
]);

/** Advised wait before reconnecting after a refusal (Disconnect `reconnect_delay_ms`, HTTP Retry-After). */
export const REFUSAL_RECONNECT_DELAY_MS = 5000;
/**
 * A refused socket keeps its descriptor for at most this long while its answer is delivered: closing
 * with unread input makes the kernel send RST, which can destroy the answer before the client reads it.
 */
export const REFUSAL_LINGER_MS = 1000;

const KINDS: readonly AdmissionKind[] = ['ws', 'tcp', 'wt', 'grpc'];
const PHASES: readonly AdmissionPhase[] = ['pre_auth', 'authenticated'];

/** One pool of caps: sockets per IP and in total. */
class Pool {
  readonly perIp = new Map<string, number>();
  total = 0;

  constructor(
    readonly ipLimit: number,
    readonly max: number,
  ) {}

  take(ip: string): void {
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    this.total++;
  }

  give(ip: string): void {
    const n = this.perIp.get(ip) ?? 1;
    if (n <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, n - 1);
    this.total--;
  }
}

/** Socket counts for /stats. */
export interface AdmissionStats {
  sockets: Record<AdmissionKind, Record<AdmissionPhase, number>>;
  /** Sockets holding a descriptor, and how many may (null = no limit known). */
  fds: { used: number; max: number | null };
  /** Distinct client and gRPC addresses with an open socket. */
  addresses: { client: number; grpc: number };
  /** Addresses with recent abusive closes on record (banned or not). */
  penalized: number;
}

/** Counts admitted sockets; see the file comment. One per node, shared by every listener. */
export class Admission {
  readonly limits: Readonly<AdmissionLimits>;
  private readonly client: Pool;
  private readonly grpc: Pool;
  private fdsUsed = 0;
  /** Descriptor-holding sockets by address, over both pools: none may hold half the budget. */
  private readonly fdsPerIp = new Map<string, number>();
  private readonly maxSocketFdsPerIp: number;
  private lingering = 0;
  private readonly penalty: AbusePenalty;
  /** Sockets by kind and phase (KINDS x PHASES), mirrored into the gauge. */
  private readonly counts = new Int32Array(KINDS.length * PHASES.length);
  private readonly gauges: ({ inc(): void; dec(): void } | null)[];
  private readonly onLingerEnd: () => void;

  constructor(
    limits: Partial<AdmissionLimits> = {},
    private readonly metrics?: Metrics,
    /** Told when an address starts a ban (for one log line per ban). */
    private readonly onBan: (address: string, banMs: number) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = Object.freeze({ ...UNLIMITED, ...limits });
    this.penalty = new AbusePenalty(this.limits.penalty);
    this.client = new Pool(this.limits.connectionsPerIp, this.limits.maxConnections);
    this.grpc = new Pool(this.limits.grpcConnectionsPerIp, this.limits.grpcMaxConnections);
    this.maxSocketFdsPerIp = Math.max(1, Math.floor(this.limits.maxSocketFds / 2));
    this.gauges = KINDS.flatMap((transport) =>
      PHASES.map((phase) => metrics?.sockets.labels({ transport, phase }) ?? null),
    );
    this.onLingerEnd = () => {
      this.lingering--;
    };
  }

  /**
   * Admits a new socket from `remoteAddress` (normalised, without port) or says why not. Refusals are
   * counted in `ferry_connections_refused_total{transport,reason}`; the caller answers the client.
   * `holdsFd`: false for QUIC connections (they share the UDP socket).
   */
  admit(kind: AdmissionKind, remoteAddress: string, holdsFd: boolean): AdmissionTicket | AdmissionRefusal {
    const pool = kind === 'grpc' ? this.grpc : this.client;
    let refusal: AdmissionRefusal | null = null;
    // gRPC callers hold API keys and are judged per call; the penalty is for the client ports.
    if (kind !== 'grpc' && this.penalty.bannedFor(remoteAddress, this.now()) > 0) refusal = 'abuse';
    else if ((pool.perIp.get(remoteAddress) ?? 0) >= pool.ipLimit) refusal = 'per_ip';
    else if (pool.total >= pool.max) refusal = 'server_full';
    else if (holdsFd && (this.fdsPerIp.get(remoteAddress) ?? 0) >= this.maxSocketFdsPerIp) refusal = 'per_ip';
    else if (holdsFd && this.fdsUsed >= this.limits.maxSocketFds) refusal = 'fd_reserve';
    if (refusal !== null) {
      this.refused(kind, refusal);
      return refusal;
    }
    pool.take(remoteAddress);
    if (holdsFd) {
      this.fdsUsed++;
      this.fdsPerIp.set(remoteAddress, (this.fdsPerIp.get(remoteAddress) ?? 0) + 1);
    }
    this.count(kind, 'pre_auth', 1);
    return new AdmissionTicket(this, kind, remoteAddress, holdsFd);
  }

  /** Counts a refusal decided elsewhere (TLS failures, handshake timeouts, bad HTTP on the WebSocket port). */
  refused(kind: AdmissionKind, reason: string): void {
    this.metrics?.connectionsRefused.inc({ transport: kind, reason });
  }

  /**
   * Answers a refused socket and closes it: writes `answer` (may be empty), sends FIN, discards what
   * the client still sends, and destroys the socket when the client closes or after REFUSAL_LINGER_MS.
   * When `maxLingeringRefusals` are already lingering (their descriptors come out of the reserve) the
   * socket is destroyed at once, unanswered. A socket refused for `abuse` is not read at all: what an
   * abuser sends meanwhile waits in the kernel (its window closes) instead of costing the node a read
   * per chunk, and the close at the end of the linger may reach it as a reset.
   */
  refuseSocket(socket: Duplex, answer: Uint8Array | string, refusal?: AdmissionRefusal): void {
    if (this.lingering >= this.limits.maxLingeringRefusals || !socket.writable) {
      socket.destroy();
      return;
    }
    this.lingering++;
    socket.once('close', this.onLingerEnd);
    socket.on('error', destroyOnError);
    socket.on('end', destroyOnEnd);
    if (refusal !== 'abuse') socket.resume();
    socket.end(answer);
    setTimeout(destroySocket, REFUSAL_LINGER_MS, socket).unref();
  }

  /** @internal A socket of `ticket` was cut for abuse, or missed its handshake deadline. */
  penalize(ticket: AdmissionTicket): void {
    if (ticket.kind === 'grpc') return;
    const ban = this.penalty.penalize(ticket.remoteAddress, this.now());
    if (ban > 0) this.onBan(ticket.remoteAddress, ban);
  }

  /** Numbers for /stats. */
  stats(): AdmissionStats {
    const sockets = {} as AdmissionStats['sockets'];
    KINDS.forEach((kind, k) => {
      sockets[kind] = { pre_auth: this.counts[k * 2]!, authenticated: this.counts[k * 2 + 1]! };
    });
    const max = this.limits.maxSocketFds;
    return {
      sockets,
      fds: { used: this.fdsUsed, max: Number.isFinite(max) ? max : null },
      addresses: { client: this.client.perIp.size, grpc: this.grpc.perIp.size },
      penalized: this.penalty.size,
    };
  }

  /** @internal */
  count(kind: AdmissionKind, phase: AdmissionPhase, delta: 1 | -1): void {
    const i = KINDS.indexOf(kind) * 2 + (phase === 'pre_auth' ? 0 : 1);
    this.counts[i]! += delta;
    const gauge = this.gauges[i];
    if (gauge) {
      if (delta > 0) gauge.inc();
      else gauge.dec();
    }
  }

  /** @internal */
  release(ticket: AdmissionTicket): void {
    (ticket.kind === 'grpc' ? this.grpc : this.client).give(ticket.remoteAddress);
    if (ticket.holdsFd) {
      this.fdsUsed--;
      const n = this.fdsPerIp.get(ticket.remoteAddress) ?? 1;
      if (n <= 1) this.fdsPerIp.delete(ticket.remoteAddress);
      else this.fdsPerIp.set(ticket.remoteAddress, n - 1);
    }
    this.count(ticket.kind, ticket.phase, -1);
  }
}

/**
 * One admitted socket's place in the counts, from accept until `release()` (which the listener calls
 * when the socket closes). Carries the pre-auth deadline: `startDeadline` arms one timer that calls
 * `onExpire(target)` `handshakeTimeoutMs` after it was armed, unless `endDeadline` ran first.
 */
export class AdmissionTicket {
  phase: AdmissionPhase = 'pre_auth';
  /** The handshake deadline passed (counted as `handshake_timeout`). */
  timedOut = false;
  private released = false;
  private timer: NodeJS.Timeout | null = null;

  /** @internal Created by {@link Admission.admit}. */
  constructor(
    private readonly admission: Admission,
    readonly kind: AdmissionKind,
    readonly remoteAddress: string,
    readonly holdsFd: boolean,
  ) {}

  /**
   * Arms the deadline of the transport handshake. When it passes, the timeout is counted
   * (`reason="handshake_timeout"`) and `onExpire(target)` runs: it must close the socket.
   */
  startDeadline<T>(onExpire: (target: T) => void, target: T): void {
    if (this.released || this.timer !== null) return;
    this.timer = setTimeout(
      ticketOnDeadline,
      this.admission.limits.handshakeTimeoutMs,
      this,
      onExpire,
      target,
    );
    this.timer.unref();
  }

  /** The handshake finished in time. Idempotent. */
  endDeadline(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The peer proved who it is (a session authenticated, a gRPC call arrived). Idempotent. */
  authenticated(): void {
    this.endDeadline();
    if (this.released || this.phase === 'authenticated') return;
    this.admission.count(this.kind, 'pre_auth', -1);
    this.admission.count(this.kind, 'authenticated', 1);
    this.phase = 'authenticated';
  }

  /**
   * The session is closing its connection with `code`: a code that says the peer misbehaved counts
   * against its address (abuse-penalty.ts). Called once per connection by the transport's close.
   */
  closing(code: number): void {
    if (!this.released && ABUSIVE_CLOSES.has(code)) this.admission.penalize(this);
  }

  /** The socket is gone: its slot is free again. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.endDeadline();
    this.admission.release(this);
  }

  /**
   * The transport handshake did not finish in time (this ticket's own deadline, or one its transport
   * keeps, like QUIC's connect timer): counted once as `handshake_timeout`.
   */
  handshakeTimedOut(): void {
    this.endDeadline();
    if (this.timedOut || this.released) return;
    this.timedOut = true;
    this.admission.refused(this.kind, 'handshake_timeout');
    this.admission.penalize(this);
  }
}

function ticketOnDeadline<T>(ticket: AdmissionTicket, onExpire: (target: T) => void, target: T): void {
  ticket.handshakeTimedOut();
  onExpire(target);
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** The client closed its side: destroy once our answer is flushed (at once if it already is). */
function destroyOnEnd(this: Duplex): void {
  if (this.writableFinished) this.destroy();
  else this.once('finish', destroyOnError);
}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}
