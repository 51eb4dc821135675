/**
 * {@link QuicEngine} on Cloudflare quiche 0.18, through the napi-rs binding that ships inside
 * `@matrixai/quic` (its high-level classes have no datagram API, so only the native `Config`,
 * `Connection` and `Header` are used). This is the only file that imports the binding.
 *
 * quiche reports "nothing to do" (`Error::Done`) as `null` and every other error as a JS `Error` whose
 * message is the Rust variant's name, e.g. `StreamReset(271)`; {@link classifyQuicheError} is the one
 * place that maps those names.
 */
import quiche from '@matrixai/quic/native/quiche.js';
import type { Config, Connection, RecvInfo } from '@matrixai/quic/native/types.js';
import {
  QuicStreamError,
  RECV_DONE,
  RECV_GONE,
  RECV_RESET,
  type QuicAddress,
  type QuicCloseInfo,
  type QuicConnectionStats,
  type QuicEngine,
  type QuicEngineConfig,
  type QuicEngineConnection,
  type QuicLongHeader,
  type QuicStreamErrorKind,
  type QuicTransportConfig,
} from './engine.js';

const NO_STREAMS: readonly number[] = Object.freeze([]);

/** RFC 9000 §5.1: we issue 20-byte connection ids (the maximum), so short headers route by 20 bytes. */
const SERVER_CID_LENGTH = 20;

const HEADER_TYPES: readonly QuicLongHeader['type'][] = [
  'initial',
  'retry',
  'handshake',
  '0rtt',
  'version-negotiation',
  'short',
];

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/** A quiche error name and its numeric argument, e.g. `StreamStopped(77)` -> ['StreamStopped', 77]. */
export function classifyQuicheError(err: unknown): { name: string; code: number; kind: QuicStreamErrorKind } {
  const message = err instanceof Error ? err.message : String(err);
  const match = /^([A-Za-z]+)(?:\((\d+)\))?/.exec(message);
  const name = match?.[1] ?? 'Unknown';
  const code = match?.[2] !== undefined ? Number(match[2]) : 0;
  let kind: QuicStreamErrorKind;
  switch (name) {
    case 'StreamReset':
      kind = 'reset';
      break;
    case 'StreamStopped':
      kind = 'stopped';
      break;
    case 'InvalidStreamState':
    case 'FinalSize':
      kind = 'state';
      break;
    case 'StreamLimit':
      kind = 'limit';
      break;
    default:
      kind = 'other';
  }
  return { name, code, kind };
}

class QuicheEngineConfig implements QuicEngineConfig {
  constructor(
    readonly native: Config,
    readonly maxUdpPayloadBytes: number,
  ) {}
}

class QuicheConnection implements QuicEngineConnection {
  lastRecvFin = false;
  lastResetCode = 0;
  sendTo: QuicAddress;
  private closeCalled = false;
  /** Reused RecvInfo: quiche parses the strings per call, but we avoid allocating one per datagram. */
  private recvInfo: RecvInfo;

  constructor(
    private readonly native: Connection,
    local: QuicAddress,
    peer: QuicAddress,
  ) {
    this.sendTo = peer;
    this.recvInfo = { from: peer, to: local };
  }

  recv(packet: Uint8Array, fromHost: string, fromPort: number): boolean {
    const info = this.recvInfo;
    if (info.from.port !== fromPort || info.from.host !== fromHost) {
      this.recvInfo = { from: { host: fromHost, port: fromPort }, to: info.to };
    }
    try {
      this.native.recv(packet, this.recvInfo);
      return true;
    } catch {
      // quiche drops undecryptable or malformed packets itself; fatal errors close the connection,
      // which the driver notices through isClosing().
      return false;
    }
  }

  send(out: Uint8Array): number {
    let result;
    try {
      result = this.native.send(out);
    } catch {
      return 0;
    }
    if (result === null) return 0;
    const to = result[1].to;
    if (to.port !== this.sendTo.port || to.host !== this.sendTo.host) this.sendTo = to;
    return result[0];
  }

  timeoutMs(): number | null {
    return this.native.timeout();
  }

  onTimeout(): void {
    this.native.onTimeout();
  }

  streamRecv(streamId: number, buf: Uint8Array): number {
    let result;
    try {
      result = this.native.streamRecv(streamId, buf);
    } catch (err) {
      const { kind, code } = classifyQuicheError(err);
      if (kind === 'reset') {
        this.lastResetCode = code;
        return RECV_RESET;
      }
      return RECV_GONE;
    }
    if (result === null) return RECV_DONE;
    this.lastRecvFin = result[1];
    return result[0];
  }

  streamSend(streamId: number, data: Uint8Array, fin: boolean): number {
    let written;
    try {
      written = this.native.streamSend(streamId, data, fin);
    } catch (err) {
      const { kind, code, name } = classifyQuicheError(err);
      throw new QuicStreamError(kind, code, `stream ${streamId}: ${name}`);
    }
    return written === null ? -1 : written;
  }

  streamShutdown(streamId: number, direction: 'read' | 'write', code: number): void {
    try {
      this.native.streamShutdown(
        streamId,
        direction === 'read' ? quiche.Shutdown.Read : quiche.Shutdown.Write,
        code,
      );
    } catch {
      // InvalidStreamState: unknown or already collected stream; nothing left to shut down.
    }
  }

  readableStreams(): Iterable<number> {
    // readable() builds a napi StreamIter on every call (~9 us and garbage that drove major GCs, see
    // bench/RESULTS.md); isReadable() answers "any?" for ~0.08 us, and most turns have nothing to read.
    return this.native.isReadable() ? this.native.readable() : NO_STREAMS;
  }

  isReadable(): boolean {
    return this.native.isReadable();
  }

  streamReadable(streamId: number): boolean {
    return this.native.streamReadable(streamId);
  }

  peerStreamsLeftBidi(): number {
    return this.native.peerStreamsLeftBidi();
  }

  peerStreamsLeftUni(): number {
    return this.native.peerStreamsLeftUni();
  }

  dgramSend(data: Uint8Array): boolean {
    try {
      return this.native.dgramSend(data) !== null;
    } catch {
      return false; // BufferTooShort (too big) or InvalidState (peer has no datagram support)
    }
  }

  dgramRecv(): Uint8Array | null {
    try {
      return this.native.dgramRecvVec();
    } catch {
      return null;
    }
  }

  dgramMaxWritableLen(): number {
    return this.native.dgramMaxWritableLen() ?? 0;
  }

  close(isApp: boolean, code: number, reason: string): void {
    if (this.closeCalled) return;
    this.closeCalled = true;
    try {
      this.native.close(isApp, code, textEncoder.encode(reason));
    } catch {
      // Already closed.
    }
  }

  isEstablished(): boolean {
    return this.native.isEstablished();
  }

  isClosing(): boolean {
    return this.closeCalled || this.native.isDraining() || this.native.isClosed();
  }

  isClosed(): boolean {
    return this.native.isClosed();
  }

  closeInfo(): QuicCloseInfo | null {
    const native = this.native;
    if (native.isTimedOut()) return { isApp: false, code: 0, reason: 'idle timeout', by: 'idle' };
    const peer = native.peerError();
    if (peer !== null) {
      const reason = textDecoder.decode(peer.reason);
      return { isApp: peer.isApp, code: peer.errorCode, reason, by: 'peer' };
    }
    const local = native.localError();
    if (local !== null) {
      const reason = textDecoder.decode(local.reason);
      return { isApp: local.isApp, code: local.errorCode, reason, by: 'local' };
    }
    return this.isClosing() ? { isApp: false, code: 0, reason: '', by: 'local' } : null;
  }

  peerCertChain(): Uint8Array[] | null {
    return this.native.peerCertChain();
  }

  stats(): QuicConnectionStats {
    const s = this.native.stats();
    const path = this.native.pathStats()[0];
    return {
      packetsSent: s.sent,
      packetsReceived: s.recv,
      packetsLost: s.lost,
      bytesSent: s.sentBytes,
      bytesReceived: s.recvBytes,
      rttMs: path?.rtt ?? 0,
    };
  }
}

function buildConfig(c: QuicTransportConfig): Config {
  const pemBytes = (pem: string | undefined): Uint8Array[] | null =>
    pem === undefined ? null : [textEncoder.encode(pem)];
  const config = quiche.Config.withBoringSslCtx(
    c.verifyPeer,
    false,
    c.caPem === undefined ? null : textEncoder.encode(c.caPem),
    pemBytes(c.keyPem),
    pemBytes(c.certPem),
    null,
  );
  config.setApplicationProtos([...c.alpn]);
  config.setMaxIdleTimeout(c.idleTimeoutMs);
  // RFC 9000 §18.2 max_udp_payload_size: accept anything the loopback or a jumbo path delivers; what
  // we send stays at maxUdpPayloadBytes (quiche also caps it by the peer's value).
  config.setMaxRecvUdpPayloadSize(65527);
  config.setMaxSendUdpPayloadSize(c.maxUdpPayloadBytes);
  config.setInitialMaxData(c.initialMaxData);
  config.setInitialMaxStreamDataBidiLocal(c.initialMaxStreamDataBidiLocal);
  config.setInitialMaxStreamDataBidiRemote(c.initialMaxStreamDataBidiRemote);
  config.setInitialMaxStreamDataUni(c.initialMaxStreamDataUni);
  config.setInitialMaxStreamsBidi(c.initialMaxStreamsBidi);
  config.setInitialMaxStreamsUni(c.initialMaxStreamsUni);
  config.setMaxStreamWindow(c.maxStreamWindow);
  config.setMaxConnectionWindow(c.maxConnectionWindow);
  // We issue no extra connection ids, so a peer may not migrate (RFC 9000 §9, §18.2).
  config.setDisableActiveMigration(true);
  if (c.datagramRecvQueue > 0 || c.datagramSendQueue > 0) {
    config.enableDgram(true, c.datagramRecvQueue, c.datagramSendQueue);
  }
  return config;
}

function nativeConfig(config: QuicEngineConfig): Config {
  if (!(config instanceof QuicheEngineConfig)) throw new TypeError('config was not built by this engine');
  return config.native;
}

/** The quiche-backed engine (a stateless singleton). */
export const quicheEngine: QuicEngine = {
  name: 'matrixai',
  serverCidLength: SERVER_CID_LENGTH,
  version: quiche.PROTOCOL_VERSION,

  createConfig(config) {
    return new QuicheEngineConfig(buildConfig(config), config.maxUdpPayloadBytes);
  },

  parseHeader(datagram) {
    try {
      const h = quiche.Header.fromSlice(datagram, SERVER_CID_LENGTH);
      return {
        type: HEADER_TYPES[h.ty] ?? 'short',
        version: h.version,
        dcid: h.dcid,
        scid: h.scid,
        token: h.token ?? null,
      };
    } catch {
      return null;
    }
  },

  versionIsSupported(version) {
    return quiche.versionIsSupported(version);
  },

  negotiateVersion(clientScid, clientDcid, out) {
    try {
      return quiche.negotiateVersion(clientScid, clientDcid, out);
    } catch {
      return 0;
    }
  },

  retry(clientScid, clientDcid, newScid, token, version, out) {
    try {
      return quiche.retry(clientScid, clientDcid, newScid, token, version, out);
    } catch {
      return 0;
    }
  },

  accept(scid, originalDcid, local, peer, config) {
    const native = quiche.Connection.accept(scid, originalDcid, local, peer, nativeConfig(config));
    return new QuicheConnection(native, local, peer);
  },

  connect(serverName, scid, local, peer, config) {
    const native = quiche.Connection.connect(serverName, scid, local, peer, nativeConfig(config));
    return new QuicheConnection(native, local, peer);
  },
};
