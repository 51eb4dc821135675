/**
 * A Node WebTransport client on the same QUIC driver and HTTP/3 code as the server: one QUIC
 * connection, one session. Used by Ferry's tests and benchmarks (and the Node SDK).
 *
 * Server authentication mirrors the browser's `serverCertificateHashes`: with `certHashes` the TLS
 * chain is not verified (quiche `verifyPeer=false`) and the leaf certificate's SHA-256 must match one
 * of the hashes once the handshake completes, else the connection is closed with the TLS alert
 * bad_certificate (RFC 9001 §4.8: CRYPTO_ERROR 0x100 + 42). With `caPem` the chain is verified.
 *
 * The client sends its CONNECT only after the server's SETTINGS showed WebTransport support
 * (draft-ietf-webtrans-http3 §3.2), using the draft-02 `:protocol` token when the server speaks it.
 */
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { SessionRequest, WebTransportLimits, WebTransportSession, WtLogger } from './api.js';
import { H3_NO_ERROR, WEBTRANSPORT_PROTOCOL, WEBTRANSPORT_PROTOCOL_DRAFT02 } from './constants.js';
import { H3Connection } from './h3-connection.js';
import { encodeHeadersFrame } from './h3-frames.js';
import { RequestStreamSink, responseStatus } from './h3-request.js';
import type { HeaderField } from './qpack/decoder.js';
import { encodeFieldSection, type EncodableField } from './qpack/encoder.js';
import { QuicClientEndpoint } from './quic/client-endpoint.js';
import { transportConfig } from './quic/defaults.js';
import type { QuicCloseInfo } from './quic/engine.js';
import { quicheEngine } from './quic/quiche-engine.js';
import { DEFAULT_LIMITS } from './server.js';
import { WtSession } from './session.js';

/** RFC 9001 §4.8 / RFC 8446 §6.2: CRYPTO_ERROR carrying the bad_certificate alert (42). */
const CRYPTO_BAD_CERTIFICATE = 0x100 + 42;
const DEFAULT_TIMEOUT_MS = 10_000;
const SILENT_LOGGER: WtLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Options of {@link connect}. */
export interface WebTransportClientOptions {
  /** SHA-256 of the server certificate's DER, hex or base64 (as `serverCertificateHashes`). */
  certHashes?: readonly string[];
  /** Verify the server's chain against this PEM bundle instead of pinning by hash. */
  caPem?: string;
  /** `origin` request header (browsers always send one; omitted when undefined). */
  origin?: string;
  /** Extra request headers (lowercase names). */
  headers?: Readonly<Record<string, string>>;
  /** Handshake + CONNECT deadline. Default 10 s. */
  timeoutMs?: number;
  /** Local IP address to connect from (default: chosen by the route to the server). */
  localAddress?: string;
  /** Stream and idle limits for this side; server defaults otherwise. */
  limits?: Partial<WebTransportLimits>;
  logger?: WtLogger;
}

/** The CONNECT failed: `status` is the server's HTTP status, or null if none was received. */
export class WebTransportConnectError extends Error {
  override readonly name = 'WebTransportConnectError';

  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** A client session: the server-side session API plus an abrupt `destroy`. */
export interface WebTransportClientSession extends WebTransportSession {
  /**
   * Drops the connection without sending anything (no close capsule, no CONNECTION_CLOSE), as a
   * vanished peer would; `onClose(0, 'destroyed')` follows.
   */
  destroy(): void;
}

interface Target {
  authority: string;
  path: string;
  origin: string | undefined;
  headers: Readonly<Record<string, string>>;
  certHashes: Buffer[] | null;
}

/** Client-role HTTP/3: sends one CONNECT and runs the session it opens. */
class ClientH3Connection extends H3Connection {
  session: WtSession | null = null;
  private sink: RequestStreamSink | null = null;
  private settled = false;
  private resolve!: (session: WtSession) => void;
  private reject!: (err: Error) => void;
  readonly ready: Promise<WtSession>;

  constructor(
    private readonly target: Target,
    private readonly endpoint: QuicClientEndpoint,
    limits: WebTransportLimits,
    logger: WtLogger,
  ) {
    super(false, {
      quic: endpoint.connection,
      limits,
      logger,
      remoteAddress: endpoint.connection.remote.host,
    });
    this.ready = new Promise<WtSession>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Abandons the connection silently; the session (if any) sees `onClose(0, reason)`. */
  destroy(reason: string): void {
    this.fail(new WebTransportConnectError(reason));
    this.closing = true;
    this.session?.connectionLost(reason);
    void this.endpoint.destroy();
  }

  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err);
  }

  protected afterEstablished(): void {
    const hashes = this.target.certHashes;
    if (hashes !== null) {
      const leaf = this.quic.peerCertChain()?.[0];
      const digest = leaf === undefined ? null : createHash('sha256').update(leaf).digest();
      if (digest === null || !hashes.some((h) => h.equals(digest))) {
        this.fail(new WebTransportConnectError('server certificate does not match any certHashes'));
        this.quic.close(false, CRYPTO_BAD_CERTIFICATE, 'certificate hash mismatch');
        return;
      }
    }
    this.sendConnect();
  }

  protected afterPeerSettings(): void {
    if (this.peerSupport?.webTransport !== true) {
      this.fail(new WebTransportConnectError('server SETTINGS do not enable WebTransport'));
      this.closeConnection(H3_NO_ERROR, '');
      return;
    }
    this.sendConnect();
  }

  protected acceptRequestStream(): RequestStreamSink {
    throw new Error('unreachable: servers do not open request streams');
  }

  onHeaders(sink: RequestStreamSink, fields: HeaderField[]): void {
    const status = responseStatus(fields);
    if (status >= 100 && status < 200) return; // RFC 9114 §4.1: interim response, the final follows
    const session = this.session;
    if (status === 200 && session !== null && !this.settled) {
      this.settled = true;
      sink.startSession(session);
      this.sessionStarted(session);
      this.resolve(session);
      return;
    }
    sink.markDone();
    this.sessionRefused(sink.streamId);
    this.fail(
      new WebTransportConnectError(
        `CONNECT refused with status ${status}`,
        Number.isNaN(status) ? null : status,
      ),
    );
    this.closeWhenIdle();
  }

  onHeadersTooLarge(sink: RequestStreamSink): void {
    sink.markDone();
    this.fail(new WebTransportConnectError('response header section too large'));
    this.closeWhenIdle();
  }

  onRequestEnded(): void {
    this.fail(new WebTransportConnectError('CONNECT stream ended without a response'));
    this.closeWhenIdle();
  }

  protected hasPendingRequests(): boolean {
    return !this.settled;
  }

  protected onIdle(): void {
    this.closeWhenIdle();
  }

  protected afterClosed(info: QuicCloseInfo): void {
    const why =
      info.by === 'idle'
        ? 'idle timeout'
        : `connection closed (${info.by}, code ${info.code}) ${info.reason}`;
    this.fail(new WebTransportConnectError(why.trim()));
  }

  /** Sends the extended CONNECT once the handshake is done and the server's SETTINGS are known. */
  private sendConnect(): void {
    if (this.sink !== null || this.settled || !this.quic.isEstablished || this.peerSupport === null) return;
    const { target } = this;
    // Chromium 156 (draft-02) uses 'webtransport'; draft-07+ servers expect 'webtransport-h3'.
    const protocol = this.peerSupport.draft02 ? WEBTRANSPORT_PROTOCOL_DRAFT02 : WEBTRANSPORT_PROTOCOL;
    const fields: EncodableField[] = [
      [':method', 'CONNECT'],
      [':protocol', protocol],
      [':scheme', 'https'],
      [':authority', target.authority],
      [':path', target.path],
      ['sec-webtransport-http3-draft02', '1'],
    ];
    if (target.origin !== undefined) fields.push(['origin', target.origin]);
    for (const [name, value] of Object.entries(target.headers)) fields.push([name.toLowerCase(), value]);
    const streamId = this.allocateStreamId(true);
    const sink = new RequestStreamSink(streamId, this);
    this.sink = sink;
    this.attachRequest(sink);
    const request: SessionRequest = {
      path: target.path,
      origin: target.origin ?? '',
      authority: target.authority,
      protocol,
      headers: new Map(fields.filter(([name]) => !name.startsWith(':')).map(([n, v]) => [n, v])),
      remoteAddress: this.remoteAddress,
    };
    this.session = new ClientSession(streamId, request, this);
    this.quic.streamWrite(streamId, encodeHeadersFrame(encodeFieldSection(fields)), false);
  }
}

class ClientSession extends WtSession implements WebTransportClientSession {
  constructor(
    id: number,
    request: SessionRequest,
    private readonly owner: ClientH3Connection,
  ) {
    super(id, request, owner);
  }

  destroy(): void {
    this.owner.destroy('destroyed');
  }
}

/** Hex (64 digits, optional colons) or base64 SHA-256 digests. */
function parseHashes(hashes: readonly string[]): Buffer[] {
  return hashes.map((h) => {
    const hex = h.replace(/:/g, '');
    const bytes = /^[0-9a-fA-F]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : Buffer.from(h, 'base64');
    if (bytes.length !== 32) throw new TypeError(`not a SHA-256 digest: ${h}`);
    return bytes;
  });
}

/**
 * Opens a WebTransport session to `url` (`https://host:port/path`). Resolves once the server
 * answered the CONNECT with 200; rejects with {@link WebTransportConnectError} (refusal status,
 * certificate mismatch, timeout, connection failure).
 */
export async function connect(
  url: string,
  options: WebTransportClientOptions = {},
): Promise<WebTransportClientSession> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:') throw new TypeError(`WebTransport needs an https: URL, got ${url}`);
  const hostname = parsed.hostname.replace(/^\[|\]$/g, '');
  const host = isIP(hostname) !== 0 ? hostname : (await lookup(hostname)).address;
  const port = parsed.port === '' ? 443 : Number(parsed.port);
  const limits: WebTransportLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const logger = options.logger ?? SILENT_LOGGER;
  const certHashes = options.certHashes !== undefined ? parseHashes(options.certHashes) : null;
  if (certHashes === null && options.caPem === undefined) {
    throw new TypeError('connect() needs certHashes or caPem to authenticate the server');
  }
  const config = quicheEngine.createConfig(
    transportConfig(limits, {
      verifyPeer: certHashes === null,
      ...(options.caPem !== undefined ? { caPem: options.caPem } : {}),
    }),
  );
  const endpoint = await QuicClientEndpoint.connect({
    host,
    port,
    serverName: hostname,
    ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    engine: quicheEngine,
    config,
    logger,
  });
  const h3 = new ClientH3Connection(
    {
      authority: parsed.host,
      path: `${parsed.pathname}${parsed.search}`,
      origin: options.origin,
      headers: options.headers ?? {},
      certHashes,
    },
    endpoint,
    limits,
    logger,
  );
  endpoint.connection.handler = h3;
  endpoint.start();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timer = setTimeout(() => h3.destroy(`no session within ${timeoutMs} ms`), timeoutMs);
  try {
    return (await h3.ready) as ClientSession;
  } catch (err) {
    // A refusal closes the connection with CONNECTION_CLOSE; the socket goes once it is drained.
    h3.closeConnection(H3_NO_ERROR, '');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
