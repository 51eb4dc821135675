import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import WebSocket from 'ws';
import {
  connect as connectWebTransport,
  type WebTransportClientSession,
  type WtBidiStream,
} from '../../src/webtransport/index.js';

/**
 * Tiny raw clients for transport tests: no Ferry frames, just bytes, so a test can send anything and
 * see exactly what the server wrote and how it closed.
 */

/** How a client saw its connection end. TCP has no close code: it reports 0 and ''. */
export interface ClientClose {
  code: number;
  reason: string;
}

/** What the transport conformance suite needs from a client of any transport. */
export interface TestClient {
  /** ws: one binary message; tcp: raw bytes on the stream. */
  send(bytes: Uint8Array | string): void;
  /** Everything received so far, concatenated. */
  received(): Buffer;
  /** Resolves with all bytes received once there are at least `n`; rejects if the connection closes first. */
  waitForBytes(n: number): Promise<Buffer>;
  /** Resolves when the connection has closed, however it closed. */
  readonly closed: Promise<ClientClose>;
  /** Stops reading from the socket, so the server's writes back up. */
  pause(): void;
  /** Bytes this client has written that wait on its side (user space) for the server to read them. */
  bufferedAmount(): number;
  resume(): void;
  /** Destroys the socket without a close handshake: the client "vanishes". */
  destroy(): void;
  /** Transports with datagrams: sends one; false if it was dropped. */
  sendDatagram?(bytes: Uint8Array): boolean;
  /** Transports with datagrams: resolves with every datagram received once there are `n`. */
  waitForDatagrams?(n: number): Promise<Buffer[]>;
}

/** Collects what a client receives and wakes waiters when it changes. */
class Inbox {
  readonly chunks: Buffer[] = [];
  length = 0;
  isClosed = false;
  private waiters: (() => boolean)[] = [];

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    this.wake();
  }

  close(): void {
    this.isClosed = true;
    this.wake();
  }

  all(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves when `ready()` holds; rejects if the connection closes while it does not. */
  until(ready: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (ready()) resolve();
        else if (this.isClosed) reject(new Error(`connection closed before ${what}`));
        else return false;
        return true;
      };
      if (!check()) this.waiters.push(check);
    });
  }

  private wake(): void {
    this.waiters = this.waiters.filter((check) => !check());
  }
}

/** A WebSocket client (the `ws` package) that records binary messages and the close code/reason. */
export class WsTestClient implements TestClient {
  readonly inbox = new Inbox();
  readonly closed: Promise<ClientClose>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.inbox.push(data));
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.inbox.close();
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /** Opens a connection; rejects with `HTTP <status>` when the server refuses the upgrade. */
  static async connect(url: string, opts: { origin?: string; ca?: string } = {}): Promise<WsTestClient> {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      ...(opts.origin === undefined ? {} : { origin: opts.origin }),
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        reject(new HttpStatusError(res.statusCode ?? 0));
      });
    });
    return new WsTestClient(ws);
  }

  /** The binary messages received so far, one Buffer each. */
  get messages(): Buffer[] {
    return this.inbox.chunks;
  }

  send(bytes: Uint8Array | string): void {
    this.ws.send(bytes, { binary: typeof bytes !== 'string' });
  }

  received(): Buffer {
    return this.inbox.all();
  }

  async waitForBytes(n: number): Promise<Buffer> {
    await this.inbox.until(() => this.inbox.length >= n, `${n} bytes arrived`);
    return this.inbox.all();
  }

  /** Resolves once `n` messages have arrived. */
  async waitForMessages(n: number): Promise<Buffer[]> {
    await this.inbox.until(() => this.inbox.chunks.length >= n, `${n} messages arrived`);
    return this.inbox.chunks;
  }

  pause(): void {
    this.ws.pause();
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  resume(): void {
    this.ws.resume();
  }

  /** Sends a close frame (graceful close from the client side). */
  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  destroy(): void {
    this.ws.terminate();
  }
}

/** A refused WebSocket handshake. */
export class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** Attempts a WebSocket handshake that the server should refuse; resolves with the HTTP status. */
export async function wsHandshakeStatus(url: string, opts: { origin?: string } = {}): Promise<number> {
  try {
    const client = await WsTestClient.connect(url, opts);
    client.destroy();
  } catch (err) {
    if (err instanceof HttpStatusError) return err.status;
    throw err;
  }
  throw new Error(`handshake to ${url} was accepted`);
}

/** A TCP (or TLS) client that collects every byte it receives. */
export class TcpTestClient implements TestClient {
  readonly inbox = new Inbox();
  readonly closed: Promise<ClientClose>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.inbox.push(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.inbox.close();
        resolve({ code: 0, reason: '' });
      });
    });
  }

  /** Connects; with `ca`, speaks TLS and verifies the server against that certificate. */
  static async connect(port: number, opts: { host?: string; ca?: string } = {}): Promise<TcpTestClient> {
    const host = opts.host ?? '127.0.0.1';
    const socket =
      opts.ca === undefined
        ? net.connect({ host, port })
        : tls.connect({ host, port, ca: opts.ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.ca === undefined ? 'connect' : 'secureConnect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new TcpTestClient(socket);
  }

  send(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  received(): Buffer {
    return this.inbox.all();
  }

  async waitForBytes(n: number): Promise<Buffer> {
    await this.inbox.until(() => this.inbox.length >= n, `${n} bytes arrived`);
    return this.inbox.all();
  }

  pause(): void {
    this.socket.pause();
  }

  bufferedAmount(): number {
    return this.socket.writableLength;
  }

  resume(): void {
    this.socket.resume();
  }

  /** Half-closes (sends FIN) after what was written. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Writes `bytes` on a fresh plain TCP connection and resolves with everything the server answered
 * once it closed the connection (for HTTP-level refusals and garbage tests).
 */
export function rawExchange(port: number, bytes: Uint8Array | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the answer is still an answer: the server closed without reading everything.
      if (err.code === 'ECONNRESET') return;
      reject(err);
    });
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** A self-signed certificate for localhost / 127.0.0.1 in a temporary directory. */
export interface TestCertificate {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
  /** Deletes the temporary directory. */
  remove(): void;
}

/** Generates a throwaway P-256 certificate with the `openssl` CLI (X.509 is not in node:crypto). */
export function generateTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cert-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'];
  const args = 'req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2'.split(' ');
  execFileSync('openssl', [...args, ...subject, '-keyout', keyPath, '-out', certPath], { stdio: 'ignore' });
  return {
    certPath,
    keyPath,
    certPem: readFileSync(certPath, 'utf8'),
    keyPem: readFileSync(keyPath, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A WebTransport client (Ferry's own, src/webtransport/client.ts) that uses the session's first bidi
 * stream as its byte stream, as a Ferry client does (docs/protocol.md §2.3), and records the session's
 * close code and reason. Like a browser page it answers the server's FIN on that stream with its own.
 */
export class WtTestClient implements TestClient {
  readonly inbox = new Inbox();
  readonly closed: Promise<ClientClose>;
  /** Datagrams received, one Buffer each. */
  readonly datagrams: Buffer[] = [];
  private readonly stream: WtBidiStream;

  private constructor(readonly session: WebTransportClientSession) {
    let resolveClosed!: (c: ClientClose) => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    session.setHandler({
      onBidiStream: (s) => s.reset(0),
      onUniStream: (s) => s.stop(0),
      onDatagram: (bytes) => {
        this.datagrams.push(Buffer.from(bytes));
        this.inbox.push(Buffer.alloc(0));
      },
      onClose: (code, reason) => {
        this.inbox.close();
        resolveClosed({ code, reason });
      },
    });
    this.stream = session.openBidiStream();
    this.stream.setHandler({
      onData: (bytes) => this.inbox.push(Buffer.from(bytes)),
      onEnd: () => this.stream.end(),
      onReset: () => undefined,
      onDrain: () => undefined,
    });
  }

  /** Opens a session pinned by certificate hash (base64 or hex SHA-256 of the DER). */
  static async connect(url: string, certHashes: readonly string[]): Promise<WtTestClient> {
    return new WtTestClient(await connectWebTransport(url, { certHashes, timeoutMs: 5000 }));
  }

  send(bytes: Uint8Array | string): void {
    this.stream.write(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  }

  sendDatagram(bytes: Uint8Array): boolean {
    return this.session.sendDatagram(bytes);
  }

  received(): Buffer {
    return this.inbox.all();
  }

  async waitForBytes(n: number): Promise<Buffer> {
    await this.inbox.until(() => this.inbox.length >= n, `${n} bytes arrived`);
    return this.inbox.all();
  }

  /** Resolves once `n` datagrams have arrived. */
  async waitForDatagrams(n: number): Promise<Buffer[]> {
    await this.inbox.until(() => this.datagrams.length >= n, `${n} datagrams arrived`);
    return this.datagrams;
  }

  pause(): void {
    this.stream.pause();
  }

  bufferedAmount(): number {
    return this.stream.bufferedAmount();
  }

  resume(): void {
    this.stream.resume();
  }

  /** Closes the session with a code and reason (graceful close from the client side). */
  close(code: number, reason: string): void {
    this.session.close(code, reason);
  }

  /** Drops the QUIC connection without a word, as a vanished peer would. */
  destroy(): void {
    this.session.destroy();
  }
}
