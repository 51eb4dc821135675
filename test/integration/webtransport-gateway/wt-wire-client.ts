import {
  decodeFrame,
  encodeFrame,
  encodeFramePrefixed,
  type Frame,
  type FrameInit,
} from '../../../src/protocol/codec.js';
import { StreamFrameReader } from '../../../src/protocol/stream-reader.js';
import {
  connect,
  type WebTransportClientSession,
  type WtBidiStream,
} from '../../../src/webtransport/index.js';

/** What `GET /webtransport/cert-hashes` answers. */
export interface CertHashes {
  hashes: { algorithm: string; value: string; hex: string; notAfter: string }[];
  url: string;
  ca: boolean;
}

/** Fetches the hashes and session URL a node publishes on its admin port. */
export async function certHashes(adminUrl: string): Promise<CertHashes> {
  const res = await fetch(`${adminUrl}/webtransport/cert-hashes`);
  return (await res.json()) as CertHashes;
}

/**
 * A Ferry client over WebTransport with the module's Node client, in the style of WireClient: frames
 * on the first bidi stream, datagrams as single frames, and everything received recorded for the test
 * to wait on. Like the browser test page it answers the server's FIN on the frame stream with its own.
 */
export class WtWireClient {
  readonly frames: Frame[] = [];
  readonly datagrams: Frame[] = [];
  closed = false;
  closeCode = 0;
  closeReason = '';
  /** Reset codes of streams the server refused. */
  readonly refusedStreams: number[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 1;

  private constructor(
    readonly session: WebTransportClientSession,
    readonly stream: WtBidiStream,
  ) {}

  /** Opens a session pinned by the node's published hashes, and the frame stream. */
  static async connect(
    url: string,
    hashes: string[],
    opts: { origin?: string; localAddress?: string } = {},
  ): Promise<WtWireClient> {
    const session = await connect(url, { certHashes: hashes, ...opts });
    const stream = session.openBidiStream();
    const c = new WtWireClient(session, stream);
    const reader = new StreamFrameReader(16 * 1024 * 1024);
    session.setHandler({
      onBidiStream: (s) => s.reset(0),
      onUniStream: (s) => s.stop(0),
      onDatagram: (b) => c.push(c.datagrams, decodeFrame(b, Infinity)),
      onClose: (code, reason) => {
        c.closed = true;
        c.closeCode = code;
        c.closeReason = reason;
        c.wake();
      },
    });
    stream.setHandler({
      onData: (b) => reader.push(b, (body) => c.push(c.frames, decodeFrame(body, Infinity))),
      onEnd: () => stream.end(),
      onReset: () => undefined,
      onDrain: () => undefined,
    });
    return c;
  }

  /** Connects and authenticates; rejects with the Disconnect if refused. */
  static async login(
    url: string,
    hashes: string[],
    token: string,
    deviceId = '',
    opts: { localAddress?: string } = {},
  ): Promise<WtWireClient> {
    const c = await WtWireClient.connect(url, hashes, opts);
    c.send({ authenticate: { token, deviceId } });
    const f = await c.next((x) => x.body === 'authResult' || x.body === 'disconnect');
    if (f.body === 'disconnect')
      throw new Error(`auth refused: ${f.disconnect?.code} ${f.disconnect?.reason}`);
    return c;
  }

  send(frame: FrameInit): number {
    const id = frame.id ?? this.nextId++;
    this.stream.write(encodeFramePrefixed({ ...frame, id }));
    return id;
  }

  sendDatagram(frame: FrameInit): boolean {
    return this.session.sendDatagram(encodeFrame(frame));
  }

  /** Opens one more bidi stream and writes to it (the server must refuse it). */
  openExtraStream(): WtBidiStream {
    const s = this.session.openBidiStream();
    s.setHandler({
      onData: () => undefined,
      onEnd: () => undefined,
      onReset: (code) => {
        this.refusedStreams.push(code);
        this.wake();
      },
      onDrain: () => undefined,
    });
    s.write(encodeFramePrefixed({ ping: { timestampMs: 1 } }));
    return s;
  }

  /** Resolves with the first matching frame on the stream (taking it). */
  next(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return this.take(this.frames, pred, timeoutMs);
  }

  nextBody(body: NonNullable<Frame['body']>, timeoutMs?: number): Promise<Frame> {
    return this.next((f) => f.body === body, timeoutMs);
  }

  nextDatagram(timeoutMs = 5000): Promise<Frame> {
    return this.take(this.datagrams, () => true, timeoutMs);
  }

  /** Resolves once `check` holds (re-checked on every event). */
  until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const poll = (): void => {
        if (check()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(poll);
      };
      poll();
    });
  }

  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closed, timeoutMs, 'close').then(() => ({
      code: this.closeCode,
      reason: this.closeReason,
    }));
  }

  close(code = 0, reason = ''): void {
    this.session.close(code, reason);
  }

  private take(list: Frame[], pred: (f: Frame) => boolean, timeoutMs: number): Promise<Frame> {
    let found: Frame | undefined;
    return this.until(
      () => {
        const i = list.findIndex(pred);
        if (i < 0) return false;
        found = list.splice(i, 1)[0];
        return true;
      },
      timeoutMs,
      `a frame; have ${list.map((f) => f.body).join(',')}`,
    ).then(() => found as Frame);
  }

  private push(list: Frame[], f: Frame): void {
    list.push(f);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
