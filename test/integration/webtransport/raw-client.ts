/**
 * A QUIC client that speaks HTTP/3 by hand, for tests that must send what a correct client never
 * would (malformed control streams, QPACK bombs, streams ahead of their CONNECT). It uses Ferry's QUIC
 * driver directly and records everything the server sends on each stream.
 */
import { encodeFieldSection, type EncodableField } from '../../../src/webtransport/qpack/encoder.js';
import { decodeFieldSection, type HeaderField } from '../../../src/webtransport/qpack/decoder.js';
import {
  encodeControlStreamPreamble,
  encodeHeadersFrame,
  H3FrameReader,
} from '../../../src/webtransport/h3-frames.js';
import { QuicClientEndpoint } from '../../../src/webtransport/quic/client-endpoint.js';
import type { QuicConnection, QuicConnectionHandler } from '../../../src/webtransport/quic/connection.js';
import { transportConfig } from '../../../src/webtransport/quic/defaults.js';
import {
  RECV_DONE,
  RECV_GONE,
  RECV_RESET,
  type QuicCloseInfo,
} from '../../../src/webtransport/quic/engine.js';
import { quicheEngine } from '../../../src/webtransport/quic/quiche-engine.js';
import { DEFAULT_LIMITS } from '../../../src/webtransport/server.js';
import { serverSettings } from '../../../src/webtransport/settings.js';

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

/** What arrived on one stream from the server. */
export interface RawStream {
  bytes: Buffer;
  fin: boolean;
  resetCode: number | null;
}

/** A hand-driven HTTP/3 client; see the file comment. */
export class RawH3Client implements QuicConnectionHandler {
  established = false;
  closed: QuicCloseInfo | null = null;
  readonly streams = new Map<number, RawStream>();
  private endpoint!: QuicClientEndpoint;
  private readonly buf = new Uint8Array(65536);

  get quic(): QuicConnection {
    return this.endpoint.connection;
  }

  /** Connects and starts the QUIC handshake (no HTTP/3 streams yet); `established` tells when it is done. */
  static async connect(port: number, opts: { localAddress?: string } = {}): Promise<RawH3Client> {
    const client = new RawH3Client();
    const config = quicheEngine.createConfig(transportConfig(DEFAULT_LIMITS, { verifyPeer: false }));
    client.endpoint = await QuicClientEndpoint.connect({
      host: '127.0.0.1',
      port,
      serverName: 'localhost',
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      engine: quicheEngine,
      config,
      logger: SILENT,
    });
    client.endpoint.connection.handler = client;
    client.endpoint.start();
    return client;
  }

  /** Opens our control stream (id 2) with a SETTINGS frame enabling WebTransport, plus QPACK streams. */
  sendSettings(): void {
    const settings = serverSettings({ maxFieldSectionSize: 16384, maxSessions: 1 });
    this.write(2, encodeControlStreamPreamble(settings));
    this.write(6, Uint8Array.of(0x02));
    this.write(10, Uint8Array.of(0x03));
  }

  /** A WebTransport extended CONNECT on bidi stream `streamId`. */
  sendConnect(streamId: number, path = '/wt', extra: EncodableField[] = []): void {
    const fields: EncodableField[] = [
      [':method', 'CONNECT'],
      [':protocol', 'webtransport'],
      [':scheme', 'https'],
      [':authority', 'localhost'],
      [':path', path],
      ...extra,
    ];
    this.write(streamId, encodeHeadersFrame(encodeFieldSection(fields)));
  }

  write(streamId: number, bytes: Uint8Array, fin = false): void {
    this.quic.streamWrite(streamId, bytes, fin);
  }

  /** The first HEADERS frame the server sent on `streamId`, decoded; null until complete. */
  responseHeaders(streamId: number): HeaderField[] | null {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return null;
    let fields: HeaderField[] | null = null;
    const reader = new H3FrameReader({
      onFrame: (type, payload) => {
        if (type === 0x01 && fields === null) fields = decodeFieldSection(payload);
      },
      onData: () => {},
    });
    try {
      reader.push(stream.bytes);
    } catch {
      return null;
    }
    return fields;
  }

  /** `:status` of the response on `streamId`, or null. */
  status(streamId: number): number | null {
    const status = this.responseHeaders(streamId)?.find(([name]) => name === ':status');
    return status === undefined ? null : Number(status[1]);
  }

  /** Drops the socket without CONNECTION_CLOSE. */
  destroy(): Promise<void> {
    return this.endpoint.destroy();
  }

  onEstablished(): void {
    this.established = true;
  }

  onStreamReadable(streamId: number): void {
    let stream = this.streams.get(streamId);
    if (stream === undefined) {
      stream = { bytes: Buffer.alloc(0), fin: false, resetCode: null };
      this.streams.set(streamId, stream);
    }
    for (;;) {
      const n = this.quic.streamRecv(streamId, this.buf);
      if (n === RECV_DONE || n === RECV_GONE) return;
      if (n === RECV_RESET) {
        stream.resetCode = this.quic.lastResetCode;
        return;
      }
      stream.bytes = Buffer.concat([stream.bytes, this.buf.subarray(0, n)]);
      if (this.quic.lastRecvFin) {
        stream.fin = true;
        return;
      }
    }
  }

  onDatagram(): void {}
  onStreamWritable(): void {}
  onStreamSendError(): void {}

  onClosed(info: QuicCloseInfo): void {
    this.closed = info;
  }

  onProcessError(err: unknown): void {
    throw err;
  }
}
