/**
 * Raw TCP transport for Node (docs/protocol.md §2.1): u32-BE length + frame, optional TLS
 * (`tls://host:port`). TCP has no close code; the Disconnect frame before the FIN carries it.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ClientFrameReader } from '../frame-reader.js';
import { TransportUnavailableError } from '../errors.js';
import { encodeFramePrefixed, type FrameInit } from '../wire.js';
import {
  withTimeout,
  type ClientTransport,
  type TransportClose,
  type TransportFactory,
  type TransportOpenOptions,
} from './transport.js';

/** How long an orderly close waits for the server's FIN before dropping the socket. */
const CLOSE_GRACE_MS = 2000;

/** A factory for TCP transports; `tlsOptions` apply to `tls://` URLs (e.g. `ca`). */
export function tcpTransport(tlsOptions: tls.ConnectionOptions = {}): TransportFactory {
  return (opts) => openTcp(opts, tlsOptions);
}

async function openTcp(
  opts: TransportOpenOptions,
  tlsOptions: tls.ConnectionOptions,
): Promise<ClientTransport> {
  const url = new URL(opts.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port);
  let socket: net.Socket;
  let ready: string;
  if (url.protocol === 'tls:') {
    socket = tls.connect({ servername: net.isIP(host) === 0 ? host : undefined, ...tlsOptions, host, port });
    ready = 'secureConnect';
  } else if (url.protocol === 'tcp:') {
    socket = net.connect({ host, port });
    ready = 'connect';
  } else {
    throw new TransportUnavailableError('tcp', `not a tcp:// or tls:// URL: ${opts.url}`);
  }
  socket.setNoDelay(true);
  const opened = new Promise<void>((resolve, reject) => {
    socket.once(ready, resolve);
    socket.once('error', (err) =>
      reject(
        new TransportUnavailableError('tcp', `cannot connect to ${opts.url}: ${err.message}`, { cause: err }),
      ),
    );
  });
  await withTimeout(
    opened,
    opts.timeoutMs,
    () => socket.destroy(),
    () => new TransportUnavailableError('tcp', `not connected within ${opts.timeoutMs} ms`),
  );
  return new TcpTransport(socket, opts);
}

class TcpTransport implements ClientTransport {
  readonly kind = 'tcp';
  readonly datagrams = false;
  private readonly reader: ClientFrameReader;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly opts: TransportOpenOptions,
  ) {
    this.reader = new ClientFrameReader('stream', {
      onFrame: (frame) => opts.events.onFrame(frame),
      onProtocolError: (err) => {
        socket.destroy();
        this.finish({ code: 0, reason: err.message, protocolError: true });
      },
    });
    socket.removeAllListeners('error');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('close', () => this.finish({ code: 0, reason: '' }));
  }

  send(frame: FrameInit): void {
    if (!this.closed && this.socket.writable) this.socket.write(encodeFramePrefixed(frame));
  }

  sendDatagram(): boolean {
    return false;
  }

  setMaxFrameBytes(bytes: number): void {
    this.reader.setMaxFrameBytes(bytes);
  }

  close(): void {
    // The Disconnect frame the client wrote goes out before the FIN.
    if (this.closed) return;
    this.socket.end();
    // A server that never answers the FIN must not keep the socket (and the close event) forever.
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private finish(info: TransportClose): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.events.onClose(info);
  }
}
