/**
 * Helpers for the WebTransport integration tests: a throwaway ECDSA P-256 certificate, a server on
 * 127.0.0.1 port 0 that records sessions, and recorders that turn session and stream callbacks into
 * awaitable state (no timing assertions: every wait polls a condition with a generous deadline).
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type {
  SessionHandler,
  StreamHandler,
  WebTransportServerOptions,
  WebTransportSession,
  WtBidiStream,
  WtReceiveStream,
} from '../../../src/webtransport/api.js';
import { buildSelfSignedCertificate, toPem } from '../../../src/webtransport/cert-der.js';
import { connect, type WebTransportClientOptions } from '../../../src/webtransport/client.js';
import { WebTransportServer } from '../../../src/webtransport/server.js';

/** A self-signed development certificate and the SHA-256 of its DER (hex). */
export interface TestCert {
  certPem: string;
  keyPem: string;
  hash: string;
}

const DAY_MS = 86_400_000;

/** ECDSA P-256, valid for 10 days (browsers accept pinned certificates of at most 14). */
export function makeCert(): TestCert {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const der = buildSelfSignedCertificate({
    commonName: 'localhost',
    altNames: ['localhost', '127.0.0.1'],
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 10 * DAY_MS),
    publicKey,
    privateKey,
  });
  return {
    certPem: toPem('CERTIFICATE', der),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    hash: createHash('sha256').update(der).digest('hex'),
  };
}

/** Scales waits on slow machines (FERRY_TEST_TIMEOUT_FACTOR, as the other integration suites). */
const FACTOR = Number(process.env.FERRY_TEST_TIMEOUT_FACTOR ?? '1') || 1;

/** Polls `ready` until it holds; fails after `ms` (scaled). */
export async function until(ready: () => boolean, what = 'condition', ms = 5000): Promise<void> {
  const deadline = Date.now() + ms * FACTOR;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Everything a stream delivered. */
export class StreamRecorder implements StreamHandler {
  chunks: Uint8Array[] = [];
  bytes = 0;
  ended = false;
  resetCode: number | null = null;
  drains = 0;
  /** Called for each chunk (e.g. to echo it). */
  onChunk: ((bytes: Uint8Array) => void) | null = null;

  constructor(readonly stream: WtReceiveStream) {
    stream.setHandler(this);
  }

  onData(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.bytes += bytes.length;
    this.onChunk?.(bytes);
  }

  onEnd(): void {
    this.ended = true;
  }

  onReset(code: number): void {
    this.resetCode = code;
  }

  onDrain(): void {
    this.drains++;
  }

  /** All data so far, concatenated. */
  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.data.toString('utf8');
  }
}

/** Everything a session delivered. */
export class SessionRecorder implements SessionHandler {
  bidi: WtBidiStream[] = [];
  uni: WtReceiveStream[] = [];
  datagrams: Uint8Array[] = [];
  closed: [number, string] | null = null;
  closes = 0;
  /** Set to echo every incoming bidi stream back on itself. */
  echo = false;
  readonly streams = new Map<number, StreamRecorder>();

  constructor(readonly session: WebTransportSession) {
    session.setHandler(this);
  }

  onBidiStream(stream: WtBidiStream): void {
    this.bidi.push(stream);
    const rec = new StreamRecorder(stream);
    this.streams.set(stream.id, rec);
    if (this.echo) {
      rec.onChunk = (bytes) => stream.write(bytes);
      const onEnd = rec.onEnd.bind(rec);
      rec.onEnd = () => {
        onEnd();
        stream.end();
      };
    }
  }

  onUniStream(stream: WtReceiveStream): void {
    this.uni.push(stream);
    this.streams.set(stream.id, new StreamRecorder(stream));
  }

  onDatagram(bytes: Uint8Array): void {
    this.datagrams.push(bytes);
  }

  onClose(code: number, reason: string): void {
    this.closes++;
    this.closed = [code, reason];
  }
}

/**
 * The QUIC engine under test: FERRY_WT_ENGINE (the gateway's own setting) picks it, so `npm test`
 * runs the WebTransport suites once per engine.
 */
export function testEngine(): 'native' | 'matrixai' {
  return process.env.FERRY_WT_ENGINE === 'native' ? 'native' : 'matrixai';
}

/** A server on 127.0.0.1:0 recording its sessions. */
export class TestServer {
  readonly sessions: SessionRecorder[] = [];
  server!: WebTransportServer;
  port = 0;
  /** Set before a session arrives to echo its bidi streams. */
  echo = true;

  constructor(
    readonly cert: TestCert,
    private readonly extra: Partial<WebTransportServerOptions> = {},
  ) {}

  async start(): Promise<this> {
    this.server = new WebTransportServer({
      host: '127.0.0.1',
      port: 0,
      certPem: this.cert.certPem,
      keyPem: this.cert.keyPem,
      engine: testEngine(),
      onSession: (session) => {
        const rec = new SessionRecorder(session);
        rec.echo = this.echo;
        this.sessions.push(rec);
      },
      ...this.extra,
    });
    this.port = (await this.server.listen()).port;
    return this;
  }

  url(path = '/wt'): string {
    return `https://127.0.0.1:${this.port}${path}`;
  }

  /** A Node client session to `path`, pinned to the server's certificate. */
  connect(path = '/wt', options: WebTransportClientOptions = {}): ReturnType<typeof connect> {
    return connect(this.url(path), { certHashes: [this.cert.hash], ...options });
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/**
 * A random corruption of a recorded QUIC datagram, for fuzzing an engine: bit flips, truncation (to
 * at least `minLength` bytes), extension, or the header kept and the payload replaced (the packet is
 * routed by its real connection id and AEAD must refuse it).
 */
export function mutatePacket(packet: Buffer, minLength = 0): Buffer {
  const out = Buffer.from(packet);
  switch (Math.floor(Math.random() * 4)) {
    case 0: {
      const flips = 1 + Math.floor(Math.random() * 8);
      for (let i = 0; i < flips; i++) {
        const at = Math.floor(Math.random() * out.length);
        out[at] = out[at]! ^ (1 << Math.floor(Math.random() * 8));
      }
      return out;
    }
    case 1:
      return out.subarray(0, minLength + Math.floor(Math.random() * (out.length - minLength)));
    case 2:
      return Buffer.concat([out, randomBytes(1 + Math.floor(Math.random() * 64))]);
    default: {
      const keep = Math.min(out.length, 1 + Math.floor(Math.random() * 60));
      return Buffer.concat([out.subarray(0, keep), randomBytes(out.length - keep)]);
    }
  }
}
