import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import {
  decodeFrame,
  encodeFrame,
  prefixLength,
  type Frame,
  type FrameInit,
} from '../../src/protocol/codec.js';
import { StreamFrameReader } from '../../src/protocol/stream-reader.js';
import {
  connect as connectWebTransport,
  type WebTransportClientSession,
  type WtBidiStream,
} from '../../src/webtransport/index.js';

/** The client transports a gateway serves. */
export type WireKind = 'ws' | 'tcp' | 'wt';

/** A WebTransport session and its frame stream (docs/protocol.md §2.3). */
interface WtChannel {
  session: WebTransportClientSession;
  stream: WtBidiStream;
}

/** Which body a frame carries, e.g. 'deliver'. */
export type BodyName = NonNullable<Frame['body']>;

/**
 * A minimal protocol client for integration tests: speaks Ferry frames over WebSocket, raw TCP or
 * WebTransport,
 * records every frame it receives, and lets a test wait for one. Deliberately not the SDK: tests
 * must be able to misbehave (garbage, late auth, no acks, no reading).
 */
export class WireClient {
  readonly frames: Frame[] = [];
  closed = false;
  closeCode = 0;
  closeReason = '';
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private closeWaiters: (() => void)[] = [];
  private takers: { pred: (f: Frame) => boolean; handler: (f: Frame) => void }[] = [];
  private nextId = 1;

  private constructor(
    readonly kind: WireKind,
    private readonly ws: WebSocket | null,
    private readonly socket: net.Socket | null,
    private readonly wt: WtChannel | null = null,
  ) {}

  /**
   * Opens a connection (no auth). `url` is ws://host:port/ws, tcp://host:port or tls://host:port (the
   * server certificate is not verified: test certificates are self-signed), or https://host:port/wt
   * for WebTransport with Ferry's Node client, pinned by `certHashes` (the node publishes them at
   * `/webtransport/cert-hashes`, GatewayProcess.wtCertHashes).
   */
  static async connect(
    url: string,
    opts: { origin?: string; localAddress?: string; certHashes?: readonly string[] } = {},
  ): Promise<WireClient> {
    if (url.startsWith('https://')) {
      const session = await connectWebTransport(url, {
        certHashes: opts.certHashes ?? [],
        ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
        ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      });
      const stream = session.openBidiStream();
      const c = new WireClient('wt', null, null, { session, stream });
      const reader = new StreamFrameReader(16 * 1024 * 1024);
      session.setHandler({
        onBidiStream: (s) => s.reset(0),
        onUniStream: (s) => s.stop(0),
        onDatagram: (b) => c.onFrame(decodeFrame(b, Infinity)),
        onClose: (code, reason) => c.onClose(code, reason),
      });
      stream.setHandler({
        onData: (b) => reader.push(b, (body) => c.onFrame(decodeFrame(body, Infinity))),
        // §2.3: the server finished the frame stream after its Disconnect; answer with our FIN.
        onEnd: () => stream.end(),
        onReset: () => undefined,
        onDrain: () => undefined,
      });
      return c;
    }
    if (url.startsWith('tcp://') || url.startsWith('tls://')) {
      const u = new URL(url);
      const target = { host: u.hostname, port: Number(u.port), localAddress: opts.localAddress };
      const secure = url.startsWith('tls://');
      const socket = secure ? tls.connect({ ...target, rejectUnauthorized: false }) : net.connect(target);
      socket.setNoDelay(true);
      await new Promise<void>((resolve, reject) => {
        socket.once(secure ? 'secureConnect' : 'connect', resolve);
        socket.once('error', reject);
      });
      const c = new WireClient('tcp', null, socket);
      const reader = new StreamFrameReader(16 * 1024 * 1024);
      socket.on('data', (chunk) => reader.push(chunk, (body) => c.onFrame(decodeFrame(body, Infinity))));
      socket.on('error', () => {});
      socket.on('close', () => c.onClose(0, ''));
      return c;
    }
    const headers: Record<string, string> = {};
    if (opts.origin !== undefined) headers.origin = opts.origin;
    const ws = new WebSocket(url, { headers, localAddress: opts.localAddress, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    const c = new WireClient('ws', ws, null);
    ws.on('message', (data: Buffer) => c.onFrame(decodeFrame(data, Infinity)));
    ws.on('error', () => {});
    ws.on('close', (code, reason) => c.onClose(code, reason.toString()));
    return c;
  }

  /** Connects and authenticates; resolves with the AuthResult frame or rejects with the Disconnect. */
  static async login(
    url: string,
    token: string,
    opts: {
      deviceId?: string;
      lastSeq?: number;
      origin?: string;
      localAddress?: string;
      certHashes?: readonly string[];
    } = {},
  ): Promise<WireClient> {
    const c = await WireClient.connect(url, opts);
    c.send({ authenticate: { token, deviceId: opts.deviceId ?? '', lastSeq: opts.lastSeq ?? 0 } });
    const f = await c.next((x) => x.body === 'authResult' || x.body === 'disconnect');
    if (f.body === 'disconnect')
      throw new Error(`auth refused: ${f.disconnect?.code} ${f.disconnect?.reason}`);
    return c;
  }

  /** Sends one frame; returns the request id it was given (when the frame had none, a fresh one). */
  send(frame: FrameInit): number {
    const id = frame.id ?? this.nextId++;
    this.sendRaw(encodeFrame({ ...frame, id }));
    return id;
  }

  /** Sends already-encoded frame bytes (adds the length prefix on TCP). */
  sendRaw(body: Uint8Array): void {
    if (this.ws !== null) this.ws.send(body);
    else if (this.wt !== null) this.wt.stream.write(prefixLength(body));
    else this.socket?.write(prefixLength(body));
  }

  /** Writes bytes as they are (TCP) or as one binary message (WebSocket): for garbage tests. */
  sendBytes(bytes: Uint8Array): void {
    if (this.ws !== null) this.ws.send(bytes);
    else if (this.wt !== null) this.wt.stream.write(bytes);
    else this.socket?.write(bytes);
  }

  /** Sends a WebSocket text message (never a valid frame). */
  sendText(s: string): void {
    this.ws?.send(s);
  }

  /** Resolves with the first frame (already received or future) matching `pred`, and consumes it. */
  next(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const i = this.frames.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for a frame; have: ${this.frames.map((f) => f.body).join(',')}`));
      }, timeoutMs);
      const waiter = {
        pred,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits for a frame with the given body. */
  nextBody(body: BodyName, timeoutMs?: number): Promise<Frame> {
    return this.next((f) => f.body === body, timeoutMs);
  }

  /** Resolves when the connection has closed. */
  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve({ code: this.closeCode, reason: this.closeReason });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve({ code: this.closeCode, reason: this.closeReason });
      });
    });
  }

  /** Stops reading from the socket (to play a slow consumer). */
  pauseReading(): void {
    if (this.ws !== null) this.ws.pause();
    else if (this.wt !== null) this.wt.stream.pause();
    else this.socket?.pause();
  }

  resumeReading(): void {
    if (this.ws !== null) this.ws.resume();
    else if (this.wt !== null) this.wt.stream.resume();
    else this.socket?.resume();
  }

  /** Closes politely. */
  close(): void {
    if (this.ws !== null) this.ws.close(1000);
    else if (this.wt !== null) this.wt.stream.end();
    else this.socket?.end();
  }

  /**
   * Drops the connection without a goodbye, like a client that vanished. On WebTransport nothing is
   * sent: the node notices by QUIC's idle timeout.
   */
  destroy(): void {
    if (this.ws !== null) this.ws.terminate();
    else if (this.wt !== null) this.wt.session.destroy();
    else this.socket?.destroy();
  }

  /**
   * Hands every frame matching `pred`, buffered or still to come, to `handler` as it arrives (ahead
   * of `next` waiters), consuming it. Returns the function that stops it.
   */
  take(pred: (f: Frame) => boolean, handler: (f: Frame) => void): () => void {
    const taker = { pred, handler };
    this.takers.push(taker);
    for (let i = this.frames.findIndex(pred); i >= 0; i = this.frames.findIndex(pred))
      handler(this.frames.splice(i, 1)[0]!);
    return () => void (this.takers = this.takers.filter((t) => t !== taker));
  }

  private onFrame(f: Frame): void {
    const taker = this.takers.find((t) => t.pred(f));
    if (taker !== undefined) {
      taker.handler(f);
      return;
    }
    const i = this.waiters.findIndex((w) => w.pred(f));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w?.resolve(f);
      return;
    }
    this.frames.push(f);
  }

  private onClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    this.closeReason = reason;
    for (const w of this.closeWaiters.splice(0)) w();
  }
}
