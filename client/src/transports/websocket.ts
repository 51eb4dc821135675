/**
 * WebSocket transport (docs/protocol.md §2.2): one binary message per frame. Works with any
 * WHATWG-style WebSocket class: the browser's global, or the `ws` package in Node (node.ts passes it).
 */
import { ClientFrameReader } from '../frame-reader.js';
import { TransportUnavailableError } from '../errors.js';
import { encodeFrame, type FrameInit } from '../wire.js';
import {
  withTimeout,
  type ClientTransport,
  type TransportClose,
  type TransportFactory,
  type TransportOpenOptions,
} from './transport.js';

/** The part of the WHATWG WebSocket interface the transport uses. */
export interface WebSocketLike {
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** A factory for WebSocket transports built on `impl` (default: the global `WebSocket`). */
export function webSocketTransport(impl?: WebSocketConstructor): TransportFactory {
  return (opts) => openWebSocket(impl ?? globalWebSocket(), opts);
}

function globalWebSocket(): WebSocketConstructor {
  const ctor = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (ctor === undefined) throw new TransportUnavailableError('ws', 'no WebSocket in this environment');
  return ctor;
}

async function openWebSocket(
  impl: WebSocketConstructor,
  opts: TransportOpenOptions,
): Promise<ClientTransport> {
  let ws: WebSocketLike;
  try {
    ws = new impl(opts.url);
  } catch (err) {
    throw new TransportUnavailableError('ws', `cannot open ${opts.url}: ${String(err)}`, { cause: err });
  }
  ws.binaryType = 'arraybuffer';
  const transport = new WebSocketTransport(ws, opts);
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new TransportUnavailableError('ws', `cannot connect to ${opts.url}`));
    ws.onclose = (ev) => reject(new TransportUnavailableError('ws', `closed while connecting (${ev.code})`));
  });
  await withTimeout(
    opened,
    opts.timeoutMs,
    () => ws.close(),
    () => new TransportUnavailableError('ws', `not open within ${opts.timeoutMs} ms`),
  );
  transport.attach();
  return transport;
}

class WebSocketTransport implements ClientTransport {
  readonly kind = 'ws';
  readonly datagrams = false;
  private readonly reader: ClientFrameReader;
  private closed = false;

  constructor(
    private readonly ws: WebSocketLike,
    private readonly opts: TransportOpenOptions,
  ) {
    this.reader = new ClientFrameReader('message', {
      onFrame: (frame) => opts.events.onFrame(frame),
      onProtocolError: (err) => this.drop(err.code, err.message),
    });
  }

  /** Switches the socket's handlers from "opening" to "open". */
  attach(): void {
    this.ws.onerror = () => undefined;
    this.ws.onmessage = (ev) => this.wsOnMessage(ev.data);
    this.ws.onclose = (ev) => this.finish({ code: ev.code, reason: ev.reason });
  }

  send(frame: FrameInit): void {
    if (this.closed) return;
    try {
      this.ws.send(encodeFrame(frame));
    } catch {
      // Sending on a socket that is closing: the close event reports the end.
    }
  }

  sendDatagram(): boolean {
    return false;
  }

  setMaxFrameBytes(bytes: number): void {
    this.reader.setMaxFrameBytes(bytes);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.close();
    }
  }

  private wsOnMessage(data: unknown): void {
    if (data instanceof ArrayBuffer) this.reader.push(new Uint8Array(data));
    else if (ArrayBuffer.isView(data))
      this.reader.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    // §2.2: frames are binary messages only; text from the server is as bad as garbage.
    else this.drop(4500, 'text message from the server');
  }

  /** The server's bytes are unreadable: close, and report it as a protocol error. */
  private drop(code: number, message: string): void {
    if (this.closed) return;
    this.close(code, message.slice(0, 120));
    this.finish({ code: 0, reason: message, protocolError: true });
  }

  private finish(info: TransportClose): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.onmessage = null;
    this.opts.events.onClose(info);
  }
}
