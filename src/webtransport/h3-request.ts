/**
 * HTTP/3 request streams as WebTransport uses them: the extended CONNECT (RFC 9220; RFC 9114 §4.4;
 * draft-ietf-webtrans-http3 §3) and, once the session is up, the capsule stream it carries
 * (RFC 9297 §3). One sink serves both roles: the server reads the request, the client the response;
 * the role-specific decisions are the connection's.
 */
import type { SessionRequest } from './api.js';
import { CapsuleReader } from './capsules.js';
import {
  FRAME_HEADERS,
  H3_FRAME_UNEXPECTED,
  WEBTRANSPORT_PROTOCOL,
  WEBTRANSPORT_PROTOCOL_DRAFT02,
} from './constants.js';
import { H3Error } from './errors.js';
import type { H3Sink } from './h3-streams.js';
import { H3FrameReader } from './h3-frames.js';
import { decodeFieldSection, type HeaderField } from './qpack/decoder.js';
import type { WtSession } from './session.js';

/** The connection side of a request stream. */
export interface RequestStreamHost {
  /** Largest decoded header section accepted (SETTINGS_MAX_FIELD_SECTION_SIZE). */
  readonly maxHeaderBytes: number;
  /** The first HEADERS frame arrived, decoded (request on a server, response on a client). */
  onHeaders(sink: RequestStreamSink, fields: HeaderField[]): void;
  /** The header section was too large (RFC 9114 §4.2.2): refuse the request, keep the connection. */
  onHeadersTooLarge(sink: RequestStreamSink): void;
  /** The stream ended, or was reset, before a session started on it. */
  onRequestEnded(sink: RequestStreamSink): void;
}

/** What the first HEADERS frame of a request stream means before the session exists. */
type SinkState = 'head' | 'waiting' | 'session' | 'done';

/**
 * Reads one request stream: HEADERS first (RFC 9114 §4.1: DATA before it is H3_FRAME_UNEXPECTED),
 * then, after {@link startSession}, DATA frames whose payload is the capsule stream. Unknown frame
 * types are skipped by the frame reader; trailing HEADERS are ignored.
 */
export class RequestStreamSink implements H3Sink {
  readonly paused = false;
  readonly critical = false;
  readonly readLimit = 0;
  /** The session running on this stream, once started. */
  session: WtSession | null = null;
  private state: SinkState = 'head';
  private capsules: CapsuleReader | null = null;
  private readonly reader: H3FrameReader;

  constructor(
    readonly streamId: number,
    private readonly host: RequestStreamHost,
  ) {
    this.reader = new H3FrameReader(
      {
        onFrame: (type, payload) => this.onFrame(type, payload),
        onData: (chunk) => this.onData(chunk),
      },
      { kind: 'request', maxFramePayload: host.maxHeaderBytes },
    );
  }

  /** True until the request has been answered or abandoned. */
  get isPending(): boolean {
    return this.state === 'head' || this.state === 'waiting';
  }

  /** The headers were handed to the host and a decision is pending (e.g. waiting for SETTINGS). */
  markWaiting(): void {
    if (this.state === 'head') this.state = 'waiting';
  }

  /** The request was answered without a session (refused, or a failed CONNECT on the client). */
  markDone(): void {
    this.state = 'done';
  }

  /** From now on DATA payload is the capsule stream of `session`. */
  startSession(session: WtSession): void {
    this.session = session;
    this.state = 'session';
    this.capsules = new CapsuleReader({ onCapsule: (type, value) => session.onCapsule(type, value) });
  }

  onBytes(bytes: Uint8Array, fin: boolean): void {
    if (bytes.length > 0) this.reader.push(bytes);
    if (!fin) return;
    this.reader.finish();
    if (this.session !== null) {
      this.capsules?.finish();
      this.session.onConnectFin();
    } else {
      this.state = 'done';
      this.host.onRequestEnded(this);
    }
  }

  onReset(code: number): void {
    if (this.session !== null) {
      this.session.onConnectAborted(code);
    } else {
      this.state = 'done';
      this.host.onRequestEnded(this);
    }
  }

  private onFrame(type: number, payload: Uint8Array): void {
    if (type !== FRAME_HEADERS || this.state !== 'head') return; // trailers, PUSH_PROMISE: ignored
    let fields: HeaderField[];
    try {
      fields = decodeFieldSection(payload, { maxHeaderBytes: this.host.maxHeaderBytes });
    } catch (err) {
      // RFC 9114 §4.2.2: an oversized section is refused on its own stream (431), not fatal.
      if (err instanceof H3Error && err.scope === 'stream') {
        this.state = 'done';
        this.host.onHeadersTooLarge(this);
        return;
      }
      throw err;
    }
    this.host.onHeaders(this, fields);
  }

  private onData(chunk: Uint8Array): void {
    if (this.state === 'head') throw new H3Error(H3_FRAME_UNEXPECTED, 'DATA before HEADERS');
    if (this.state === 'session') this.capsules?.push(chunk);
    // 'waiting' / 'done': a request body we do not need.
  }
}

/** A request the server refuses before it reaches the application. */
export interface RequestRefusal {
  status: number;
  message: string;
}

/** RFC 9114 §4.2: connection-specific fields make a message malformed. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);
const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);

/**
 * Validates a decoded request header section as a WebTransport extended CONNECT and returns what
 * `onSessionRequest` sees, or the status to refuse with: 400 for a malformed request (RFC 9114
 * §4.1.2, §4.3.1: pseudo-headers once each, before regular fields, lowercase names, no
 * connection-specific fields) or a bad extended CONNECT (RFC 9220 §3: `:protocol`, `:scheme`,
 * `:path`, `:authority` required; `:scheme` https), 405 for another method or a classic CONNECT.
 */
export function parseConnectRequest(
  fields: readonly HeaderField[],
  remoteAddress: string,
): SessionRequest | RequestRefusal {
  const pseudo = new Map<string, string>();
  const headers = new Map<string, string>();
  let regularSeen = false;
  for (const [name, value] of fields) {
    if (name !== name.toLowerCase() || name.length === 0)
      return malformed(`field name ${name} is not lowercase`);
    if (name.startsWith(':')) {
      if (regularSeen) return malformed(`pseudo-header ${name} after a regular field`);
      if (!REQUEST_PSEUDO.has(name)) return malformed(`unknown pseudo-header ${name}`);
      if (pseudo.has(name)) return malformed(`duplicate ${name}`);
      pseudo.set(name, value);
      continue;
    }
    regularSeen = true;
    if (CONNECTION_SPECIFIC.has(name)) return malformed(`connection-specific field ${name}`);
    if (name === 'te' && value !== 'trailers') return malformed('te other than trailers');
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  const method = pseudo.get(':method');
  if (method === undefined) return malformed('missing :method');
  const protocol = pseudo.get(':protocol');
  if (method !== 'CONNECT') {
    if (protocol !== undefined) return malformed(':protocol on a non-CONNECT request');
    return { status: 405, message: `method ${method} not allowed` };
  }
  if (protocol === undefined) return { status: 405, message: 'CONNECT without :protocol is not supported' };
  const scheme = pseudo.get(':scheme');
  const path = pseudo.get(':path');
  const authority = pseudo.get(':authority');
  if (scheme === undefined || path === undefined || authority === undefined) {
    return malformed('extended CONNECT needs :scheme, :path and :authority');
  }
  if (protocol !== WEBTRANSPORT_PROTOCOL_DRAFT02 && protocol !== WEBTRANSPORT_PROTOCOL) {
    return { status: 400, message: `unsupported :protocol ${protocol}` };
  }
  if (scheme !== 'https') return malformed(`:scheme ${scheme}`);
  if (path.length === 0 || (path[0] !== '/' && path !== '*')) return malformed(`:path ${path}`);
  return { path, origin: headers.get('origin') ?? '', authority, protocol, headers, remoteAddress };
}

function malformed(message: string): RequestRefusal {
  return { status: 400, message: `malformed request: ${message}` };
}

/** Reads `:status` from a response header section; NaN when missing or not three digits. */
export function responseStatus(fields: readonly HeaderField[]): number {
  for (const [name, value] of fields) {
    if (name === ':status') return /^[1-5]\d\d$/.test(value) ? Number(value) : Number.NaN;
  }
  return Number.NaN;
}
