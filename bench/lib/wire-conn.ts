/**
 * One client connection speaking Ferry frames over WebSocket (one binary message per frame) or raw TCP
 * (u32-BE length prefix), with the handful of operations the benchmarks need. Frames arrive as
 * (buf, start, end) views so a receiver can read a timestamp without copying.
 */
import net from 'node:net';
import WebSocket from 'ws';
import {
  BODY,
  FieldReader,
  PrefixedReader,
  encodeAuthenticate,
  readFrame,
  type FrameView,
} from './frames.js';

export type FrameHandler = (buf: Buffer, start: number, end: number) => void;
export type CloseHandler = (code: number, reason: string) => void;

export interface ConnectOptions {
  /** Source address (127.0.0.x) so that many connections do not exhaust one address's ports. */
  localAddress?: string;
  /** Give up on the connect (TCP or WebSocket handshake) after this long. */
  timeoutMs?: number;
}

export class WireConn {
  onClose: CloseHandler = () => {};
  closed = false;
  closeCode = 0;
  closeReason = '';

  private handler: FrameHandler | null = null;
  /**
   * Frames that arrived before a handler was set: a server that refuses a connection at once (4008
   * SERVER_FULL) writes its Disconnect right behind the WebSocket handshake, and ws emits it in the
   * same tick as 'open', before the caller has had a chance to listen.
   */
  private early: Buffer[] = [];

  private constructor(
    readonly prefixed: boolean,
    private readonly ws: WebSocket | null,
    private readonly socket: net.Socket | null,
  ) {}

  /** Opens a connection to `ws://…` or `tcp://…`; rejects with a short reason ("HTTP 503", "ECONNRESET"). */
  static connect(url: string, opts: ConnectOptions = {}): Promise<WireConn> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    if (url.startsWith('tcp://')) {
      const u = new URL(url);
      return new Promise((resolve, reject) => {
        const socket = net.connect({
          host: u.hostname,
          port: Number(u.port),
          localAddress: opts.localAddress,
        });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error('connect timeout'));
        }, timeoutMs);
        socket.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(new Error(err.code ?? err.message));
        });
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.setNoDelay(true);
          const conn = new WireConn(true, null, socket);
          const frames = new PrefixedReader();
          socket.on('data', (chunk: Buffer) => frames.push(chunk, (buf, s, e) => conn.frameIn(buf, s, e)));
          socket.on('error', () => {});
          socket.on('close', () => conn.closedWith(0, ''));
          resolve(conn);
        });
      });
    }
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        localAddress: opts.localAddress,
        handshakeTimeout: timeoutMs,
        maxPayload: 16 * 1024 * 1024,
      });
      const conn = new WireConn(false, ws, null);
      let opened = false;
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`HTTP ${res.statusCode}`));
        ws.terminate();
      });
      ws.on('error', (err: NodeJS.ErrnoException) => {
        if (!opened) reject(new Error(err.code ?? err.message));
      });
      ws.once('close', (code, reason) => {
        if (!opened) reject(new Error(`closed ${code} before open`));
        conn.closedWith(code, reason.toString());
      });
      ws.once('open', () => {
        opened = true;
        resolve(conn);
      });
      ws.on('message', (data: Buffer) => conn.frameIn(data, 0, data.length));
    });
  }

  /** Sets the frame handler; frames received before it are replayed to it first. */
  setFrameHandler(handler: FrameHandler): void {
    this.handler = handler;
    const early = this.early;
    this.early = [];
    for (const f of early) handler(f, 0, f.length);
  }

  private frameIn(buf: Buffer, start: number, end: number): void {
    if (this.handler !== null) this.handler(buf, start, end);
    else this.early.push(Buffer.from(buf.subarray(start, end)));
  }

  send(frame: Buffer): void {
    if (this.ws !== null) this.ws.send(frame);
    else this.socket?.write(frame);
  }

  /** Bytes queued in user space, not yet written to the kernel. */
  buffered(): number {
    return this.ws !== null ? this.ws.bufferedAmount : (this.socket?.writableLength ?? 0);
  }

  /** Orderly close (WebSocket close 1000 / TCP FIN). */
  close(): void {
    if (this.ws !== null) this.ws.close(1000);
    else this.socket?.end();
  }

  /** Drops the connection at once. */
  terminate(): void {
    if (this.ws !== null) this.ws.terminate();
    else this.socket?.destroy();
  }

  private closedWith(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    this.closeReason = reason;
    this.onClose(code, reason);
  }
}

/** Why an authentication failed: a Disconnect frame's code, a close code, or a timeout. */
export class AuthError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** How the pair load generators count a failed connect: refused authentications apart from the rest. */
export function connectFailureKey(err: unknown): string {
  return err instanceof AuthError ? `auth ${err.message}` : (err as Error).message;
}

/** What `authenticate` needs of a connection: WireConn and bench/lib/wt-conn.ts's BenchConn alike. */
export interface AuthConn {
  readonly prefixed: boolean;
  readonly closed: boolean;
  readonly closeCode: number;
  onClose: CloseHandler;
  setFrameHandler(handler: FrameHandler): void;
  send(frame: Buffer): void;
}

/**
 * Sends Authenticate and waits for the first answer. Resolves on AuthResult; rejects with AuthError
 * carrying the Disconnect code (or the close code, or 0 on timeout). The caller replaces the frame
 * handler and `conn.onClose` afterwards.
 */
export function authenticate(conn: AuthConn, token: string, timeoutMs = 15_000): Promise<void> {
  const reader = new FieldReader();
  const view: FrameView = { id: 0, body: 0, start: 0, end: 0 };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new AuthError(0, 'auth timeout')), timeoutMs);
    conn.onClose = (code) => {
      clearTimeout(timer);
      reject(new AuthError(code, `closed ${code}`));
    };
    conn.setFrameHandler((buf, start, end) => {
      readFrame(reader, buf, start, end, view);
      if (view.body === BODY.authResult) {
        clearTimeout(timer);
        resolve();
      } else if (view.body === BODY.disconnect) {
        let code = 0;
        reader.reset(buf, view.start, view.end);
        while (reader.next()) if (reader.field === 1 && reader.wireType === 0) code = reader.value;
        clearTimeout(timer);
        reject(new AuthError(code, `disconnect ${code}`));
      }
    });
    if (conn.closed) {
      clearTimeout(timer);
      reject(new AuthError(conn.closeCode, `closed ${conn.closeCode}`));
      return;
    }
    conn.send(encodeAuthenticate(1, token, conn.prefixed));
  });
}
