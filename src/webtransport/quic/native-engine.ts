/**
 * {@link QuicEngine} on ngtcp2 0.12 with GnuTLS (Debian's libngtcp2 and libngtcp2-crypto-gnutls),
 * through Ferry's own N-API addon in `native/quic/` (built by `npm install` when the libraries are
 * present). Server side only: Ferry's Node client and tests keep using the quiche engine, which also
 * makes every native-engine test an interoperability test between two QUIC implementations.
 *
 * The addon buffers stream data in C (ngtcp2 delivers it in callbacks and refers to sent data until it
 * is acknowledged), so `streamRecv` copies out of that buffer and `streamSend` copies into it. Results
 * that need more than a number (FIN, reset and stop codes) come back in a Float64Array shared with the
 * addon, so no call on the data path allocates a JS object.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  QuicStreamError,
  RECV_RESET,
  type QuicAddress,
  type QuicCloseInfo,
  type QuicConnectionStats,
  type QuicEngine,
  type QuicEngineConfig,
  type QuicEngineConnection,
  type QuicEngineSocket,
  type QuicLongHeader,
  type QuicSocketSink,
  type QuicTransportConfig,
} from './engine.js';

/** The addon's Connection (native/quic/src/addon.cc). */
interface NativeConnection {
  recv(packet: Uint8Array): boolean;
  setPeer(host: string, port: number): void;
  send(out: Uint8Array): number;
  timeout(): number;
  onTimeout(): void;
  streamRecv(id: number, buf: Uint8Array): number;
  streamSend(id: number, data: Uint8Array, fin: boolean): number;
  streamShutdown(id: number, read: boolean, code: number): void;
  streamReadable(id: number): boolean;
  isReadable(): boolean;
  readable(): number[];
  streamsLeft(bidi: boolean): number;
  dgramSend(data: Uint8Array): boolean;
  dgramRecv(): Uint8Array | null;
  dgramMaxWritableLen(): number;
  close(isApp: boolean, code: number, reason: string): void;
  isEstablished(): boolean;
  isClosing(): boolean;
  isClosed(): boolean;
  closeInfo(): QuicCloseInfo | null;
  takeNewCids(): Uint8Array[] | null;
  stats(): QuicConnectionStats;
  release(): void;
}

/** The addon's Socket (native/quic/src/endpoint.h): the UDP socket it owns. */
interface NativeSocket {
  address(): [string, number];
  route(conn: NativeConnection, handle: number, cid: Uint8Array): void;
  detach(conn: NativeConnection): void;
  flush(conn: NativeConnection): number;
  sendTo(bytes: Uint8Array, length: number, host: string, port: number): boolean;
  close(done: () => void): void;
  stats(): NativeSocketStats;
}

/** Counters of an addon-owned socket (benchmarks, tests). */
export interface NativeSocketStats {
  readCalls: number;
  datagramsIn: number;
  routedIn: number;
  droppedIn: number;
  writeCalls: number;
  datagramsOut: number;
  gsoBatches: number;
  sendErrors: number;
}

interface NativeBinding {
  Socket: new (
    host: string,
    port: number,
    cidLength: number,
    bufferBytes: number,
    handles: Int32Array,
    onDatagram: (msg: Buffer, host: string, port: number) => void,
    onInput: (count: number) => void,
  ) => NativeSocket;
  Connection: new (
    config: unknown,
    scid: Uint8Array,
    odcid: Uint8Array | null,
    localHost: string,
    localPort: number,
    peerHost: string,
    peerPort: number,
    state: Float64Array,
  ) => NativeConnection;
  createConfig(options: Record<string, unknown>): unknown;
  counters(): NativeCounters;
  retry(
    clientScid: Uint8Array,
    clientDcid: Uint8Array,
    newScid: Uint8Array,
    token: Uint8Array,
    version: number,
    out: Uint8Array,
  ): number;
}

/**
 * What the addon holds right now (leak tests): ngtcp2 connections, TLS sessions, streams, ngtcp2's
 * bytes, open sockets.
 */
export interface NativeCounters {
  conns: number;
  sessions: number;
  streams: number;
  ngtcp2Bytes: number;
  sockets: number;
}

/** Where node-gyp puts the addon (this file sits three levels below the package root, in src/ and dist/). */
const ADDON_PATH = fileURLToPath(
  new URL('../../../native/quic/build/Release/ferry_quic.node', import.meta.url),
);

/** stream_send results besides a byte count (native/quic/src/conn.h). */
const SEND_BLOCKED = -1;
const SEND_STOPPED = -2;
const SEND_LIMIT = -4;

/** RFC 9000 §5.1: we issue 20-byte connection ids. */
const SERVER_CID_LENGTH = 20;
const QUIC_V1 = 1;
const LONG_TYPES: readonly QuicLongHeader['type'][] = ['initial', '0rtt', 'handshake', 'retry'];
const NO_STREAMS: readonly number[] = Object.freeze([]);

let binding: NativeBinding | null = null;
let loadError: string | null = null;

function load(): NativeBinding | null {
  if (binding !== null || loadError !== null) return binding;
  try {
    // FERRY_QUIC_ADDON loads another build of the addon (an AddressSanitizer build, for instance).
    binding = createRequire(import.meta.url)(process.env.FERRY_QUIC_ADDON ?? ADDON_PATH) as NativeBinding;
  } catch (err) {
    loadError = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  }
  return binding;
}

/** Whether the addon is built and loads; `reason` says why not. */
export function nativeEngineStatus(): { available: boolean; reason: string } {
  return load() !== null ? { available: true, reason: '' } : { available: false, reason: loadError ?? '' };
}

/** The addon's live-state counters; throws when the addon is not built. */
export function nativeEngineCounters(): NativeCounters {
  return requireBinding().counters();
}

function requireBinding(): NativeBinding {
  const b = load();
  if (b === null)
    throw new Error(`native QUIC engine unavailable (${loadError ?? 'not built'}); run npm install`);
  return b;
}

class NativeEngineConfig implements QuicEngineConfig {
  constructor(
    readonly native: unknown,
    readonly maxUdpPayloadBytes: number,
  ) {}
}

class NativeQuicConnection implements QuicEngineConnection {
  lastRecvFin = false;
  lastResetCode = 0;
  sendTo: QuicAddress;
  private released = false;
  private readonly state: Float64Array;
  /** The addon object; the engine-owned socket routes to it. */
  readonly native: NativeConnection;

  constructor(
    b: NativeBinding,
    config: unknown,
    scid: Uint8Array,
    odcid: Uint8Array | null,
    local: QuicAddress,
    peer: QuicAddress,
  ) {
    this.state = new Float64Array(2);
    this.native = new b.Connection(
      config,
      scid,
      odcid,
      local.host,
      local.port,
      peer.host,
      peer.port,
      this.state,
    );
    this.sendTo = peer;
  }

  recv(packet: Uint8Array, fromHost: string, fromPort: number): boolean {
    const to = this.sendTo;
    if (to.port !== fromPort || to.host !== fromHost) {
      // NAT rebinding (RFC 9000 §9.3): answer where the packets now come from.
      this.sendTo = { host: fromHost, port: fromPort };
      this.native.setPeer(fromHost, fromPort);
    }
    return this.native.recv(packet);
  }

  send(out: Uint8Array): number {
    return this.native.send(out);
  }

  timeoutMs(): number | null {
    const ms = this.native.timeout();
    return ms < 0 ? null : ms;
  }

  onTimeout(): void {
    this.native.onTimeout();
  }

  streamRecv(streamId: number, buf: Uint8Array): number {
    const n = this.native.streamRecv(streamId, buf);
    this.lastRecvFin = this.state[0] === 1;
    if (n === RECV_RESET) this.lastResetCode = this.state[1]!;
    return n;
  }

  streamSend(streamId: number, data: Uint8Array, fin: boolean): number {
    const n = this.native.streamSend(streamId, data, fin);
    if (n >= SEND_BLOCKED) return n;
    if (n === SEND_STOPPED)
      throw new QuicStreamError('stopped', this.state[1]!, `stream ${streamId}: StreamStopped`);
    if (n === SEND_LIMIT) throw new QuicStreamError('limit', 0, `stream ${streamId}: StreamLimit`);
    throw new QuicStreamError('state', 0, `stream ${streamId}: InvalidStreamState`);
  }

  streamShutdown(streamId: number, direction: 'read' | 'write', code: number): void {
    this.native.streamShutdown(streamId, direction === 'read', code);
  }

  readableStreams(): Iterable<number> {
    return this.native.isReadable() ? this.native.readable() : NO_STREAMS;
  }

  isReadable(): boolean {
    return this.native.isReadable();
  }

  streamReadable(streamId: number): boolean {
    return this.native.streamReadable(streamId);
  }

  peerStreamsLeftBidi(): number {
    return this.native.streamsLeft(true);
  }

  peerStreamsLeftUni(): number {
    return this.native.streamsLeft(false);
  }

  dgramSend(data: Uint8Array): boolean {
    return this.native.dgramSend(data);
  }

  dgramRecv(): Uint8Array | null {
    return this.native.dgramRecv();
  }

  dgramMaxWritableLen(): number {
    return this.native.dgramMaxWritableLen();
  }

  close(isApp: boolean, code: number, reason: string): void {
    this.native.close(isApp, code, reason);
  }

  isEstablished(): boolean {
    return this.native.isEstablished();
  }

  isClosing(): boolean {
    return this.native.isClosing();
  }

  isClosed(): boolean {
    if (this.released) return true;
    if (!this.native.isClosed()) return false;
    // Free ngtcp2 and TLS state now rather than at garbage collection; the close outcome and the
    // counters stay readable.
    this.released = true;
    this.native.release();
    return true;
  }

  closeInfo(): QuicCloseInfo | null {
    return this.native.closeInfo();
  }

  peerCertChain(): Uint8Array[] | null {
    return null; // server side: Ferry asks for no client certificates
  }

  stats(): QuicConnectionStats {
    return this.native.stats();
  }

  takeNewConnectionIds(): Uint8Array[] | null {
    return this.native.takeNewCids();
  }
}

/** Handles reported per input callback; the addon calls again for more. */
const INPUT_BATCH = 1024;
/** SO_RCVBUF/SO_SNDBUF request, as for node:dgram sockets (endpoint.ts). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

function nativeOf(conn: QuicEngineConnection): NativeConnection {
  if (!(conn instanceof NativeQuicConnection)) throw new TypeError('connection was not made by this engine');
  return conn.native;
}

class NativeEngineSocket implements QuicEngineSocket {
  readonly address: QuicAddress;
  private readonly socket: NativeSocket;
  private closing: Promise<void> | null = null;

  constructor(b: NativeBinding, host: string, port: number, sink: QuicSocketSink) {
    const handles = new Int32Array(INPUT_BATCH);
    this.socket = new b.Socket(
      host,
      port,
      SERVER_CID_LENGTH,
      SOCKET_BUFFER_BYTES,
      handles,
      (msg, fromHost, fromPort) => sink.onDatagram(msg, fromHost, fromPort),
      (count) => sink.onInput(handles, count),
    );
    const [boundHost, boundPort] = this.socket.address();
    this.address = { host: boundHost, port: boundPort };
  }

  route(conn: QuicEngineConnection, handle: number, cid: Uint8Array): void {
    this.socket.route(nativeOf(conn), handle, cid);
  }

  unroute(conn: QuicEngineConnection): void {
    this.socket.detach(nativeOf(conn));
  }

  flush(conn: QuicEngineConnection): number {
    return this.socket.flush(nativeOf(conn));
  }

  sendRaw(bytes: Uint8Array, length: number, to: QuicAddress): void {
    if (length > 0) this.socket.sendTo(bytes, length, to.host, to.port);
  }

  stats(): NativeSocketStats {
    return this.socket.stats();
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => this.socket.close(resolve));
    return this.closing;
  }
}

/** The addon socket's counters; null when `socket` is not an addon socket. */
export function nativeSocketStats(socket: QuicEngineSocket | null): NativeSocketStats | null {
  return socket instanceof NativeEngineSocket ? socket.stats() : null;
}

function nativeConfig(config: QuicEngineConfig): unknown {
  if (!(config instanceof NativeEngineConfig)) throw new TypeError('config was not built by this engine');
  return config.native;
}

/** RFC 9000 §17.2: the long header up to the token; null when truncated or not a long header we route. */
export function parseLongHeader(d: Uint8Array): QuicLongHeader | null {
  if (d.length < 7) return null;
  const first = d[0]!;
  if ((first & 0x80) === 0) {
    if (d.length < 1 + SERVER_CID_LENGTH) return null;
    const dcid = d.slice(1, 1 + SERVER_CID_LENGTH);
    return { type: 'short', version: 0, dcid, scid: new Uint8Array(0), token: null };
  }
  const version = ((d[1]! << 24) | (d[2]! << 16) | (d[3]! << 8) | d[4]!) >>> 0;
  let p = 5;
  const dcidLen = d[p++]!;
  if (dcidLen > 20 || p + dcidLen + 1 > d.length) return null;
  const dcid = d.slice(p, p + dcidLen);
  p += dcidLen;
  const scidLen = d[p++]!;
  if (scidLen > 20 || p + scidLen > d.length) return null;
  const scid = d.slice(p, p + scidLen);
  p += scidLen;
  if (version === 0) return { type: 'version-negotiation', version, dcid, scid, token: null };
  const type = LONG_TYPES[(first & 0x30) >> 4]!;
  let token: Uint8Array | null = null;
  if (type === 'initial') {
    // RFC 9000 §16: variable-length integer token length.
    if (p >= d.length) return null;
    const lenBytes = 1 << (d[p]! >> 6);
    if (p + lenBytes > d.length) return null;
    let len = d[p]! & 0x3f;
    for (let i = 1; i < lenBytes; i++) len = len * 256 + d[p + i]!;
    p += lenBytes;
    if (p + len > d.length) return null;
    token = d.slice(p, p + len);
  }
  return { type, version, dcid, scid, token };
}

/** The ngtcp2-backed engine (server only; a stateless singleton). */
export const nativeEngine: QuicEngine = {
  name: 'native',
  serverCidLength: SERVER_CID_LENGTH,
  version: QUIC_V1,

  createConfig(c: QuicTransportConfig) {
    if (c.certPem === undefined || c.keyPem === undefined) {
      throw new Error('the native QUIC engine is server-only: a certificate and key are required');
    }
    const native = requireBinding().createConfig({
      certPem: c.certPem,
      keyPem: c.keyPem,
      alpn: c.alpn[0] ?? 'h3',
      idleTimeoutMs: c.idleTimeoutMs,
      maxUdpPayloadBytes: c.maxUdpPayloadBytes,
      initialMaxData: c.initialMaxData,
      initialMaxStreamDataBidiLocal: c.initialMaxStreamDataBidiLocal,
      initialMaxStreamDataBidiRemote: c.initialMaxStreamDataBidiRemote,
      initialMaxStreamDataUni: c.initialMaxStreamDataUni,
      initialMaxStreamsBidi: c.initialMaxStreamsBidi,
      initialMaxStreamsUni: c.initialMaxStreamsUni,
      maxStreamWindow: c.maxStreamWindow,
      maxConnectionWindow: c.maxConnectionWindow,
      datagramRecvQueue: c.datagramRecvQueue,
      datagramSendQueue: c.datagramSendQueue,
    });
    return new NativeEngineConfig(native, c.maxUdpPayloadBytes);
  },

  parseHeader(datagram) {
    return parseLongHeader(datagram);
  },

  versionIsSupported(version) {
    return version === QUIC_V1;
  },

  negotiateVersion(clientScid, clientDcid, out) {
    // RFC 9000 §17.2.1: echo the client's ids swapped, then the versions we speak.
    const length = 1 + 4 + 1 + clientScid.length + 1 + clientDcid.length + 4;
    if (out.length < length || clientScid.length > 255 || clientDcid.length > 255) return 0;
    let p = 0;
    out[p++] = 0x80 | ((Math.random() * 0x80) & 0x7f);
    out.fill(0, p, p + 4);
    p += 4;
    out[p++] = clientScid.length;
    out.set(clientScid, p);
    p += clientScid.length;
    out[p++] = clientDcid.length;
    out.set(clientDcid, p);
    p += clientDcid.length;
    out.set([0, 0, 0, QUIC_V1], p);
    return length;
  },

  retry(clientScid, clientDcid, newScid, token, version, out) {
    return requireBinding().retry(clientScid, clientDcid, newScid, token, version, out);
  },

  openSocket(host, port, sink) {
    return new NativeEngineSocket(requireBinding(), host, port, sink);
  },

  accept(scid, originalDcid, local, peer, config) {
    return new NativeQuicConnection(requireBinding(), nativeConfig(config), scid, originalDcid, local, peer);
  },

  connect() {
    throw new Error('the native QUIC engine is server-only; clients use @matrixai/quic');
  },
};
