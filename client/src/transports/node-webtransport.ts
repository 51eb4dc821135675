/**
 * WebTransport for Node, on Ferry's own HTTP/3 client (src/webtransport/client.ts): Node has no
 * `WebTransport` global. Same framing as the browser transport (docs/protocol.md §2.3).
 */
import {
  connect as connectWebTransport,
  type WebTransportClientSession,
  type WtBidiStream,
} from '../../../src/webtransport/index.js';
import { ClientFrameReader } from '../frame-reader.js';
import { TransportUnavailableError } from '../errors.js';
import { encodeFrame, encodeFramePrefixed, type FrameInit } from '../wire.js';
import type { ClientTransport, TransportClose, TransportFactory, TransportOpenOptions } from './transport.js';

/** RFC 9297 / draft-ietf-webtrans-http3: stream error code for "not wanted here" (docs/protocol.md §2.3). */
const REFUSED_STREAM_CODE = 4503;

/** A factory for Node WebTransport sessions; `caPem` verifies a CA-issued certificate instead of hashes. */
export function nodeWebTransport(caPem?: string): TransportFactory {
  return (opts) => openNodeWebTransport(opts, caPem);
}

async function openNodeWebTransport(opts: TransportOpenOptions, caPem?: string): Promise<ClientTransport> {
  let session: WebTransportClientSession;
  try {
    session = await connectWebTransport(opts.url, {
      ...(opts.certHashes.length > 0 ? { certHashes: opts.certHashes } : {}),
      ...(caPem !== undefined ? { caPem } : {}),
      timeoutMs: opts.timeoutMs,
    });
  } catch (err) {
    throw new TransportUnavailableError('wt', `cannot open ${opts.url}: ${String(err)}`, { cause: err });
  }
  return new NodeWebTransport(session, opts);
}

class NodeWebTransport implements ClientTransport {
  readonly kind = 'wt';
  readonly datagrams = true;
  private readonly stream: WtBidiStream;
  private readonly reader: ClientFrameReader;
  private readonly datagramReader: ClientFrameReader;
  private closed = false;
  private protocolError = false;

  constructor(
    private readonly session: WebTransportClientSession,
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
    session.setHandler({
      onBidiStream: (s) => s.reset(REFUSED_STREAM_CODE),
      onUniStream: (s) => s.stop(REFUSED_STREAM_CODE),
      onDatagram: (bytes) => this.datagramReader.push(bytes),
      onClose: (code, reason) => this.finish({ code, reason }),
    });
    this.stream = session.openBidiStream();
    this.stream.setHandler({
      onData: (bytes) => this.reader.push(bytes),
      // §2.3: the server finished its side after its Disconnect; finish ours so it can close.
      onEnd: () => this.stream.end(),
      onReset: () => undefined,
      onDrain: () => undefined,
    });
  }

  send(frame: FrameInit): void {
    if (!this.closed) this.stream.write(encodeFramePrefixed(frame));
  }

  sendDatagram(frame: FrameInit): boolean {
    if (this.closed) return false;
    const bytes = encodeFrame(frame);
    if (bytes.length > this.session.maxDatagramBytes) return false;
    return this.session.sendDatagram(bytes);
  }

  setMaxFrameBytes(bytes: number): void {
    this.reader.setMaxFrameBytes(bytes);
    this.datagramReader.setMaxFrameBytes(bytes);
  }

  close(code: number, reason: string): void {
    if (!this.closed) this.session.close(code, reason);
  }

  private finish(info: TransportClose): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.events.onClose(
      this.protocolError ? { code: 0, reason: info.reason, protocolError: true } : info,
    );
  }
}
