/**
 * The narrow seam between Ferry's QUIC driving code and a QUIC implementation. Everything above this
 * file (endpoints, connections, HTTP/3, WebTransport) talks to these interfaces only. Two engines
 * implement them: `quiche-engine.ts` on the quiche binding of `@matrixai/quic`, and `native-engine.ts`
 * on ngtcp2 + GnuTLS through Ferry's own addon (server side only); `engines.ts` picks one.
 *
 * The contract is deliberately sans-IO and callback-free, like quiche itself: the driver feeds
 * datagrams in with `recv`, pulls datagrams out with `send`, and asks `timeoutMs` when to call
 * `onTimeout`. Engine failures never escape as foreign exceptions: "nothing to do" is a return
 * value, and stream-level failures are reported as {@link QuicStreamError}. One optional capability
 * leaves sans-IO: an engine may own the server's UDP socket ({@link QuicEngine.openSocket}), moving
 * per-packet reads, routing and writes out of JavaScript; connections are still driven through the
 * same calls otherwise.
 */

/** A UDP address as the engine sees it (IP literal, no DNS). */
export interface QuicAddress {
  host: string;
  port: number;
}

/** Transport parameters and TLS material for one side (RFC 9000 §18.2). */
export interface QuicTransportConfig {
  /** TLS ALPN tokens (RFC 9114 §3.1: `h3`). */
  alpn: readonly string[];
  /** Server: PEM chain and key. Client: omit both. */
  certPem?: string;
  keyPem?: string;
  /** Client: verify the server's chain against `caPem` (false when pinning by certificate hash). */
  verifyPeer: boolean;
  caPem?: string;
  idleTimeoutMs: number;
  /** Largest UDP payload we send (RFC 9000 §14: at least 1200; 1350 stays under common path MTUs). */
  maxUdpPayloadBytes: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  /** Upper bounds for receive-window auto-tuning. */
  maxStreamWindow: number;
  maxConnectionWindow: number;
  /** RFC 9221 DATAGRAM frames: queue lengths in datagrams (0 disables datagrams). */
  datagramRecvQueue: number;
  datagramSendQueue: number;
}

/** How a connection ended: the CONNECTION_CLOSE we sent or received, or an idle timeout. */
export interface QuicCloseInfo {
  /** True for an application (HTTP/3) error code, false for a transport error (RFC 9000 §20). */
  isApp: boolean;
  code: number;
  reason: string;
  /** Who closed: 'local' (we sent CONNECTION_CLOSE), 'peer', or 'idle' (RFC 9000 §10.1). */
  by: 'local' | 'peer' | 'idle';
}

/** Stream-level failure reported by the engine. */
export type QuicStreamErrorKind =
  /** The peer reset the stream (RESET_STREAM, RFC 9000 §19.4); `code` is its error code. */
  | 'reset'
  /** The peer asked us to stop sending (STOP_SENDING, RFC 9000 §19.5); `code` is its error code. */
  | 'stopped'
  /** The stream is not open in this direction, or already finished/collected. */
  | 'state'
  /** Opening the stream would exceed the peer's MAX_STREAMS limit (RFC 9000 §4.6). */
  | 'limit'
  /** Anything else the engine reported (flow-control violations, internal errors). */
  | 'other';

/** A stream operation failed; the connection itself is still usable. */
export class QuicStreamError extends Error {
  override readonly name = 'QuicStreamError';

  constructor(
    readonly kind: QuicStreamErrorKind,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A parsed long-header packet (RFC 9000 §17.2), enough to route or answer it statelessly. */
export interface QuicLongHeader {
  type: 'initial' | 'retry' | 'handshake' | '0rtt' | 'version-negotiation' | 'short';
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  token: Uint8Array | null;
}

/** `streamRecv` outcome besides a byte count (>= 0). */
export const RECV_DONE = -1;
/** The peer reset the stream; the code is in {@link QuicEngineConnection.lastResetCode}. */
export const RECV_RESET = -2;
/** The stream does not exist (any more) in the receive direction. */
export const RECV_GONE = -3;

/** One QUIC connection inside the engine. All methods are synchronous and never block. */
export interface QuicEngineConnection {
  /**
   * Feeds one UDP datagram from `fromHost:fromPort` (arrived on the connection's local address);
   * false if the engine discarded it (not fatal). Decrypts `packet` in place.
   */
  recv(packet: Uint8Array, fromHost: string, fromPort: number): boolean;
  /**
   * Writes the next datagram to send into `out` and returns its length, or 0 when there is nothing to
   * send now. The destination is in {@link sendTo} afterwards.
   */
  send(out: Uint8Array): number;
  /** Destination of the datagram last returned by `send`. */
  readonly sendTo: QuicAddress;
  /** Milliseconds until `onTimeout` must be called, or null when no timer is armed. */
  timeoutMs(): number | null;
  onTimeout(): void;

  /**
   * Reads stream data into `buf`: returns the byte count (with {@link lastRecvFin}), or one of
   * RECV_DONE / RECV_RESET / RECV_GONE. Never throws.
   */
  streamRecv(streamId: number, buf: Uint8Array): number;
  /** Whether the last successful `streamRecv` reached the end of the stream. */
  readonly lastRecvFin: boolean;
  /** Error code of the last RECV_RESET. */
  readonly lastResetCode: number;
  /**
   * Writes as much as flow and congestion control allow and returns the count; -1 when blocked
   * (nothing written, FIN not recorded). FIN is recorded only if all of `data` was written. Throws
   * {@link QuicStreamError} ('stopped', 'state', 'limit').
   */
  streamSend(streamId: number, data: Uint8Array, fin: boolean): number;
  /** RESET_STREAM ('write') or STOP_SENDING ('read') with `code`; a no-op on unknown/finished streams. */
  streamShutdown(streamId: number, direction: 'read' | 'write', code: number): void;
  /** Stream ids with data, FIN or a reset to read, in the engine's order (may be costly: see connection.ts). */
  readableStreams(): Iterable<number>;
  /** Whether any stream has something to read (cheap). */
  isReadable(): boolean;
  /** Whether this stream has data or a FIN to read (cheap; a pending reset may answer false). */
  streamReadable(streamId: number): boolean;
  peerStreamsLeftBidi(): number;
  peerStreamsLeftUni(): number;

  /** Queues a DATAGRAM frame (RFC 9221); false if too big, queue full or unsupported. */
  dgramSend(data: Uint8Array): boolean;
  /** Next received datagram, or null. */
  dgramRecv(): Uint8Array | null;
  /** Largest datagram payload that fits in a packet now (0 if the peer does not accept datagrams). */
  dgramMaxWritableLen(): number;

  /** Starts closing with CONNECTION_CLOSE (RFC 9000 §10.2); a no-op if already closing. */
  close(isApp: boolean, code: number, reason: string): void;
  isEstablished(): boolean;
  /** Closing or draining: no new application data will flow. */
  isClosing(): boolean;
  /** Fully closed: the driver can forget the connection. */
  isClosed(): boolean;
  /** Why it closed (null while open). */
  closeInfo(): QuicCloseInfo | null;
  /** DER certificates the peer presented (leaf first), or null. */
  peerCertChain(): Uint8Array[] | null;
  stats(): QuicConnectionStats;
  /**
   * Connection ids the engine issued to the peer (NEW_CONNECTION_ID, RFC 9000 §5.1.1) since the last
   * call, or null. The server endpoint routes them to this connection. Engines that issue no extra
   * ids leave it out.
   */
  takeNewConnectionIds?(): Uint8Array[] | null;
}

/** Counters for logs and benchmarks. */
export interface QuicConnectionStats {
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  bytesSent: number;
  bytesReceived: number;
  /** Smoothed RTT of the active path in milliseconds (0 if unknown). */
  rttMs: number;
}

/** Opaque per-role engine configuration (built once, shared by connections). */
export interface QuicEngineConfig {
  readonly maxUdpPayloadBytes: number;
}

/**
 * What an engine-owned socket reports to the server endpoint. Both are called from the socket's
 * readiness callback, never re-entrantly from a method of the socket.
 */
export interface QuicSocketSink {
  /**
   * A datagram no routed connection claimed: a new connection's Initial, Version Negotiation material,
   * or garbage with a long header. Short-header datagrams for unknown ids never get here.
   */
  onDatagram(msg: Buffer, fromHost: string, fromPort: number): void;
  /**
   * Datagrams went into these connections (the handles given to {@link QuicEngineSocket.route}), each
   * listed once per read pass: `handles[0..count)`.
   */
  onInput(handles: Int32Array, count: number): void;
}

/**
 * A UDP socket owned by the engine (optional capability, {@link QuicEngine.openSocket}): the engine
 * reads datagrams in batches and feeds routed connections itself, and writes a connection's packets in
 * batches, so JavaScript no longer touches individual packets of established connections.
 */
export interface QuicEngineSocket {
  /** The bound address. */
  readonly address: QuicAddress;
  /**
   * Datagrams whose destination connection id is `cid` go into `conn` inside the engine and are
   * reported as `handle`. Ids the engine issues to the peer later are routed by the engine itself.
   */
  route(conn: QuicEngineConnection, handle: number, cid: Uint8Array): void;
  /** Forgets every id of `conn`. */
  unroute(conn: QuicEngineConnection): void;
  /** Sends every packet `conn` has ready now; returns how many. */
  flush(conn: QuicEngineConnection): number;
  /** Sends a datagram built elsewhere (Retry, Version Negotiation, a refusal). */
  sendRaw(bytes: Uint8Array, length: number, to: QuicAddress): void;
  /** Closes the socket; resolves once the port is free. */
  close(): Promise<void>;
}

/** Factory and stateless packet helpers of one QUIC implementation. */
export interface QuicEngine {
  /** How `ferry start` and the logs name the engine ('matrixai', 'native'). */
  readonly name: string;
  /** Length of the connection ids the server issues; short headers carry it implicitly. */
  readonly serverCidLength: number;
  /** The QUIC version this engine speaks (RFC 9000: 1). */
  readonly version: number;
  createConfig(config: QuicTransportConfig): QuicEngineConfig;
  /** Parses a long header; null if the bytes are not a parseable QUIC packet. */
  parseHeader(datagram: Uint8Array): QuicLongHeader | null;
  versionIsSupported(version: number): boolean;
  /** Writes a Version Negotiation packet (RFC 9000 §17.2.1) into `out`; returns its length (0 on failure). */
  negotiateVersion(clientScid: Uint8Array, clientDcid: Uint8Array, out: Uint8Array): number;
  /** Writes a Retry packet (RFC 9000 §17.2.5) into `out`; returns its length (0 on failure). */
  retry(
    clientScid: Uint8Array,
    clientDcid: Uint8Array,
    newScid: Uint8Array,
    token: Uint8Array,
    version: number,
    out: Uint8Array,
  ): number;
  accept(
    scid: Uint8Array,
    originalDcid: Uint8Array | null,
    local: QuicAddress,
    peer: QuicAddress,
    config: QuicEngineConfig,
  ): QuicEngineConnection;
  /**
   * Optional: binds a UDP socket the engine drives itself (server side). Engines without it are driven
   * through node:dgram by the endpoint. Throws when the address cannot be bound.
   */
  openSocket?(host: string, port: number, sink: QuicSocketSink): QuicEngineSocket;
  /** `serverName` is the TLS SNI (RFC 6066 §3); null for IP literals. */
  connect(
    serverName: string | null,
    scid: Uint8Array,
    local: QuicAddress,
    peer: QuicAddress,
    config: QuicEngineConfig,
  ): QuicEngineConnection;
}
