/** Options of `connect()` and their defaults. */
import type { BackoffOptions } from './backoff.js';
import type { TransportKind } from './transports/transport.js';
import type { KeyValueStorage } from './transport-memory.js';

/** Where each transport of one node (or load balancer) listens. */
export interface Endpoints {
  /** WebTransport session URL, `https://host:4433/wt`. */
  wt?: string;
  /** WebSocket URL, `ws://host:8080/ws` or `wss://...`. */
  ws?: string;
  /** Raw TCP (Node only), `tcp://host:7000` or `tls://host:7000`. */
  tcp?: string;
}

/** Options shared by the browser and Node entries. */
export interface ConnectOptions {
  /** One URL; its scheme picks the transport (`https:` WebTransport, `ws(s):` WebSocket, `tcp:`/`tls:`). */
  url?: string;
  /**
   * Several transports of the same node (the client picks one, see `transports`), or a list of nodes,
   * each an `Endpoints` or one URL. With a list the client stays on the node that worked last and moves
   * to the next one when that node cannot be reached or sends 4001 GOING_AWAY (docs/client.md).
   */
  endpoints?: Endpoints | readonly (Endpoints | string)[];
  /** A fixed token (JWT or access-gateway session token). Use `getToken` when tokens expire. */
  token?: string;
  /**
   * Returns a fresh token. Called before the first connect, after 4009 TOKEN_EXPIRED, and shortly
   * before `expires_at_ms` of the current token (the client then reconnects seamlessly).
   */
  getToken?: () => string | Promise<string>;
  /** Stable per-installation device id (resume and multi-device rely on it). '' = the server's choice. */
  deviceId?: string;
  /** Free-form client name for the server's logs. Default `ferry-client/<version>`. */
  clientName?: string;
  /**
   * Transports to try, in order. Default: browser `['wt', 'ws']`, Node `['wt', 'ws', 'tcp']`, each
   * only where an endpoint is known.
   */
  transports?: TransportKind[];
  /**
   * WebTransport certificate hashes (SHA-256, base64 or hex) for development certificates, or a
   * function returning them (fetch `GET /webtransport/cert-hashes` from the admin port: they rotate,
   * so the function is called before every WebTransport attempt). Omit for CA-issued certificates.
   */
  certHashes?: readonly string[] | (() => Promise<readonly string[]>);
  /** Give up on a transport that is not ready within this time and try the next. Default 5 s. */
  transportTimeoutMs?: number;
  /** How long a fallback is remembered before the preferred transport is tried again. Default 10 min. */
  rememberFallbackMs?: number;
  /** Where the fallback is remembered. Default: localStorage in browsers, memory in Node. */
  storage?: KeyValueStorage;
  /** Time allowed for AuthResult after the transport opened. Default 10 s. */
  authTimeoutMs?: number;
  /** Time allowed for replies to subscribe, presence queries and pings. Default 10 s. */
  requestTimeoutMs?: number;
  /** Reconnect backoff (default 0.5 s doubling to 30 s, 50 % jitter). */
  backoff?: BackoffOptions;
  /** Reconnect automatically (default true). */
  reconnect?: boolean;
  /** Resume point: the highest QoS-1 user seq already processed (persisted by the app). Default 0. */
  lastSeq?: number;
  /** Acks are batched: sent this long after the first unacked message, or at 64 messages. Default 20 ms. */
  ackDelayMs?: number;
  /** Reconnect with a fresh token this long before the current one expires. Default 30 s. */
  tokenRefreshMarginMs?: number;
}

/** The resolved values the client runs with. */
export interface ResolvedOptions {
  /** One entry per node, in the order given (at least one; each with at least one chosen transport). */
  nodes: Endpoints[];
  /** Order of preference over every node's transports. */
  transports: TransportKind[];
  transportTimeoutMs: number;
  rememberFallbackMs: number;
  authTimeoutMs: number;
  requestTimeoutMs: number;
  ackDelayMs: number;
  tokenRefreshMarginMs: number;
  reconnect: boolean;
  deviceId: string;
  clientName: string;
  lastSeq: number;
}

/** SDK version reported in `Authenticate.client`. */
export const CLIENT_VERSION = '0.1.0';

/** Maps a URL to the transport its scheme names. */
export function transportOfUrl(url: string): TransportKind {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (scheme === 'https') return 'wt';
  if (scheme === 'ws' || scheme === 'wss') return 'ws';
  if (scheme === 'tcp' || scheme === 'tls') return 'tcp';
  throw new TypeError(`unsupported URL scheme in ${url} (https: WebTransport, ws:/wss:, tcp:/tls:)`);
}

/** Validates `opts` and fills in defaults; throws TypeError on a configuration that cannot work. */
export function resolveOptions(opts: ConnectOptions, defaultOrder: TransportKind[]): ResolvedOptions {
  const nodes = nodesOf(opts);
  const wanted = opts.transports ?? defaultOrder;
  const order = wanted.filter((k) => nodes.some((n) => n[k] !== undefined));
  if (order.length === 0 || nodes.some((n) => !wanted.some((k) => n[k] !== undefined)))
    throw new TypeError('connect() needs a url, or endpoints for the chosen transports');
  if (opts.token === undefined && opts.getToken === undefined)
    throw new TypeError('connect() needs token or getToken');
  const lastSeq = opts.lastSeq ?? 0;
  if (!Number.isSafeInteger(lastSeq) || lastSeq < 0)
    throw new TypeError('lastSeq must be a safe non-negative integer');
  return {
    nodes,
    transports: order,
    transportTimeoutMs: opts.transportTimeoutMs ?? 5000,
    rememberFallbackMs: opts.rememberFallbackMs ?? 10 * 60_000,
    authTimeoutMs: opts.authTimeoutMs ?? 10_000,
    requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
    ackDelayMs: opts.ackDelayMs ?? 20,
    tokenRefreshMarginMs: opts.tokenRefreshMarginMs ?? 30_000,
    reconnect: opts.reconnect ?? true,
    deviceId: opts.deviceId ?? '',
    clientName: opts.clientName ?? `ferry-client/${CLIENT_VERSION}`,
    lastSeq,
  };
}

/** The nodes `opts` names: `url` merged into a single `endpoints` object, or the list as given. */
function nodesOf(opts: ConnectOptions): Endpoints[] {
  const e = opts.endpoints;
  if (!Array.isArray(e)) {
    const endpoints: Endpoints = { ...(e as Endpoints | undefined) };
    if (opts.url !== undefined) endpoints[transportOfUrl(opts.url)] = opts.url;
    return [endpoints];
  }
  if (opts.url !== undefined) throw new TypeError('connect() takes a url or a list of endpoints, not both');
  if (e.length === 0) throw new TypeError('connect() needs at least one endpoint');
  return e.map((n: Endpoints | string) => (typeof n === 'string' ? { [transportOfUrl(n)]: n } : { ...n }));
}
