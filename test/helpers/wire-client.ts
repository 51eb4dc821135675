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

/** Which body a frame carries, e.g. 'deliver'. */
export type BodyName = NonNullable<Frame['body']>;

/**
 * A minimal protocol client for integration tests: speaks Ferry frames over WebSocket or raw TCP,
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
  private nextId = 1;

  private constructor(
    readonly kind: 'ws' | 'tcp',
    private readonly ws: WebSocket | null,
    private readonly socket: net.Socket | null,
  ) {}

  /**
   * Opens a connection (no auth). `url` is ws://host:port/ws, tcp://host:port or tls://host:port (the
   * server certificate is not verified: test certificates are self-signed).
   */
  static async connect(
    url: string,
    opts: { origin?: string; localAddress?: string } = {},
  ): Promise<WireClient> {
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
    opts: { deviceId?: string; lastSeq?: number; origin?: string; localAddress?: string } = {},
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
    else this.socket?.write(prefixLength(body));
  }

  /** Writes bytes as they are (TCP) or as one binary message (WebSocket): for garbage tests. */
  sendBytes(bytes: Uint8Array): void {
    if (this.ws !== null) this.ws.send(bytes);
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
    else this.socket?.pause();
  }

  resumeReading(): void {
    if (this.ws !== null) this.ws.resume();
    else this.socket?.resume();
  }

  /** Closes politely. */
  close(): void {
    if (this.ws !== null) this.ws.close(1000);
    else this.socket?.end();
  }

  /** Drops the connection without a goodbye, like a client that vanished. */
  destroy(): void {
    if (this.ws !== null) this.ws.terminate();
    else this.socket?.destroy();
  }

  private onFrame(f: Frame): void {
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
