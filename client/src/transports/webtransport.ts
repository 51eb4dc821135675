/**
 * Browser WebTransport transport (docs/protocol.md §2.3): the first client-opened bidirectional
 * stream carries u32-BE length-prefixed frames both ways; datagrams carry single ephemeral frames.
 */
import { ClientFrameReader } from '../frame-reader.js';
import { TransportUnavailableError } from '../errors.js';
import { encodeFrame, encodeFramePrefixed, type FrameInit } from '../wire.js';
import { hashBytes } from './cert-hashes.js';
import {
  withTimeout,
  type ClientTransport,
  type TransportClose,
  type TransportFactory,
  type TransportOpenOptions,
} from './transport.js';

/** Datagrams larger than this go on the stream instead (QUIC datagrams carry about 1200 bytes). */
const MAX_DATAGRAM_BYTES = 1100;

/* The part of the W3C WebTransport API used here (the SDK compiles without the DOM library). */
interface ByteReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}
interface ByteWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
interface WebTransportLike {
  readonly ready: Promise<void>;
  readonly closed: Promise<{ closeCode?: number; reason?: string }>;
  readonly datagrams: {
    readable: { getReader(): ByteReader };
    writable: { getWriter(): ByteWriter };
  };
  createBidirectionalStream(): Promise<{
    readable: { getReader(): ByteReader };
    writable: { getWriter(): ByteWriter };
  }>;
  close(info?: { closeCode?: number; reason?: string }): void;
}
type WebTransportConstructor = new (
  url: string,
  options?: { serverCertificateHashes?: { algorithm: string; value: Uint8Array }[] },
) => WebTransportLike;

/** A factory for the browser's `WebTransport` (rejects with TransportUnavailableError if absent). */
export function browserWebTransport(): TransportFactory {
  return openWebTransport;
}

async function openWebTransport(opts: TransportOpenOptions): Promise<ClientTransport> {
  const ctor = (globalThis as { WebTransport?: WebTransportConstructor }).WebTransport;
  if (typeof ctor !== 'function')
    throw new TransportUnavailableError('wt', 'no WebTransport in this browser');
  let wt: WebTransportLike;
  try {
    const hashes = opts.certHashes.map((h) => ({ algorithm: 'sha-256', value: hashBytes(h) }));
    wt = new ctor(opts.url, hashes.length > 0 ? { serverCertificateHashes: hashes } : {});
  } catch (err) {
    throw new TransportUnavailableError('wt', `cannot open ${opts.url}: ${String(err)}`, { cause: err });
  }
  // A refused session rejects `closed` too; keep that rejection from surfacing as unhandled.
  wt.closed.catch(() => undefined);
  const ready = (async () => {
    await wt.ready;
    return wt.createBidirectionalStream();
  })();
  let stream: Awaited<typeof ready>;
  try {
    stream = await withTimeout(
      ready,
      opts.timeoutMs,
      () => wt.close(),
      () => new TransportUnavailableError('wt', `not ready within ${opts.timeoutMs} ms`),
    );
  } catch (err) {
    if (err instanceof TransportUnavailableError) throw err;
    throw new TransportUnavailableError('wt', `session refused or unreachable: ${String(err)}`, {
      cause: err,
    });
  }
  return new BrowserWebTransport(wt, stream, opts);
}

class BrowserWebTransport implements ClientTransport {
  readonly kind = 'wt';
  readonly datagrams = true;
  private readonly reader: ClientFrameReader;
  private readonly datagramReader: ClientFrameReader;
  private readonly writer: ByteWriter;
  private readonly datagramWriter: ByteWriter;
  private closed = false;
  private protocolError = false;

  constructor(
    private readonly wt: WebTransportLike,
    stream: { readable: { getReader(): ByteReader }; writable: { getWriter(): ByteWriter } },
    private readonly opts: TransportOpenOptions,
  ) {
    const sink = {
      onFrame: opts.events.onFrame.bind(opts.events),
      onProtocolError: (err: { code: number; message: string }) => {
        this.protocolError = true;
        this.close(err.code, err.message.slice(0, 120));
      },
    };
    this.reader = new ClientFrameReader('stream', sink);
    this.datagramReader = new ClientFrameReader('message', sink);
    this.writer = stream.writable.getWriter();
    this.datagramWriter = wt.datagrams.writable.getWriter();
    void this.readStream(stream.readable.getReader());
    void this.readDatagrams(wt.datagrams.readable.getReader());
    wt.closed.then(
      (info) => this.finish({ code: info.closeCode ?? 0, reason: info.reason ?? '' }),
      (err: unknown) => this.finish({ code: 0, reason: String(err) }),
    );
  }

  send(frame: FrameInit): void {
    if (this.closed) return;
    this.writer.write(encodeFramePrefixed(frame)).catch(() => undefined);
  }

  sendDatagram(frame: FrameInit): boolean {
    if (this.closed) return false;
    const bytes = encodeFrame(frame);
    if (bytes.length > MAX_DATAGRAM_BYTES) return false;
    this.datagramWriter.write(bytes).catch(() => undefined);
    return true;
  }

  setMaxFrameBytes(bytes: number): void {
    this.reader.setMaxFrameBytes(bytes);
    this.datagramReader.setMaxFrameBytes(bytes);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    try {
      this.wt.close({ closeCode: code, reason });
    } catch {
      // Already closed: `closed` settles and reports it.
    }
  }

  private async readStream(reader: ByteReader): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value !== undefined) this.reader.push(value);
      }
      // §2.3: the server wrote its Disconnect and finished its side; finish ours so it can close.
      await this.writer.close();
    } catch {
      // Reset with the session: `closed` reports why.
    }
  }

  private async readDatagrams(reader: ByteReader): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (value !== undefined) this.datagramReader.push(value);
      }
    } catch {
      // The session ended.
    }
  }

  private finish(info: TransportClose): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.events.onClose(
      this.protocolError ? { code: 0, reason: info.reason, protocolError: true } : info,
    );
  }
}
