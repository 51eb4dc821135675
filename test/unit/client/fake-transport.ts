import type { Frame, FrameInit } from '../../../src/protocol/codec.js';
import { decodeFrame, encodeFrame } from '../../../src/protocol/codec.js';
import { TransportUnavailableError } from '../../../client/src/errors.js';
import type {
  ClientTransport,
  TransportEvents,
  TransportFactory,
  TransportKind,
} from '../../../client/src/transports/transport.js';

/**
 * A hand-written in-memory transport pair for the client state machine: frames go through the real
 * codec both ways; the test plays the server through `FakeServerConn`.
 */
export class FakeServerConn {
  readonly received: Frame[] = [];
  closed = false;
  private waiters: { body: string; resolve(f: Frame): void }[] = [];

  constructor(
    readonly kind: TransportKind,
    private readonly events: TransportEvents,
    readonly url = '',
  ) {}

  /** The client wrote a frame. */
  fromClient(frame: FrameInit): void {
    const f = decodeFrame(encodeFrame(frame), Infinity);
    this.received.push(f);
    const i = this.waiters.findIndex((w) => w.body === f.body);
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(f);
  }

  /** Resolves with the next (or an already received, unclaimed) frame with this body. */
  next(body: string): Promise<Frame> {
    const seen = this.received.find((f) => f.body === body && !claimed.has(f));
    if (seen) {
      claimed.add(seen);
      return Promise.resolve(seen);
    }
    return new Promise((resolve) =>
      this.waiters.push({
        body,
        resolve: (f) => {
          claimed.add(f);
          resolve(f);
        },
      }),
    );
  }

  /** Sends a frame to the client. */
  send(frame: FrameInit): void {
    if (!this.closed) this.events.onFrame(decodeFrame(encodeFrame(frame), Infinity));
  }

  /** Answers the Authenticate. */
  async accept(
    opts: { ackedSeq?: number; expiresAtMs?: number; heartbeatMs?: number; logReset?: boolean } = {},
  ): Promise<Frame> {
    const auth = await this.next('authenticate');
    this.send({
      id: auth.id,
      authResult: {
        userId: 'u',
        deviceId: 'd',
        sessionId: 's',
        nodeId: 'n1',
        heartbeatMs: opts.heartbeatMs ?? 0,
        maxFrameBytes: 65536,
        ackedSeq: opts.ackedSeq ?? 0,
        expiresAtMs: opts.expiresAtMs ?? 0,
        logReset: opts.logReset ?? false,
      },
    });
    return auth;
  }

  /** Ends the connection as the server would (optionally after a Disconnect frame). */
  end(code = 0, reason = '', disconnect?: FrameInit['disconnect']): void {
    if (this.closed) return;
    if (disconnect) this.send({ disconnect });
    this.closed = true;
    this.events.onClose({ code, reason });
  }
}

const claimed = new WeakSet<Frame>();

/** A factory the client opens; each open yields a FakeServerConn on `conns`, or fails while `refuse`. */
export class FakeNetwork {
  readonly conns: FakeServerConn[] = [];
  refuse = new Set<TransportKind>();
  /** URLs that refuse connections (a node that is down). */
  refuseUrls = new Set<string>();
  private waiters: ((c: FakeServerConn) => void)[] = [];

  factory(kind: TransportKind): TransportFactory {
    return async (opts) => {
      if (this.refuse.has(kind) || this.refuseUrls.has(opts.url))
        throw new TransportUnavailableError(kind, 'refused by the test');
      const server = new FakeServerConn(kind, opts.events, opts.url);
      const transport: ClientTransport = {
        kind,
        datagrams: false,
        send: (frame) => {
          if (!server.closed) server.fromClient(frame);
        },
        sendDatagram: () => false,
        setMaxFrameBytes: () => undefined,
        close: (code, reason) => server.end(code, reason),
      };
      this.conns.push(server);
      this.waiters.shift()?.(server);
      return transport;
    };
  }

  /** The next connection the client opens (or the latest one if it is not yet claimed). */
  nextConn(): Promise<FakeServerConn> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
