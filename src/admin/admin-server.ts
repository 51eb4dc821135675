import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import {
  ADMIN_REFUSALS,
  AdminKey,
  crossSiteReason,
  jsonOrEmpty,
  readBody,
  type AdminRefusal,
} from './admin-guard.js';
import { HostAllowList } from './admin-hosts.js';

/**
 * Answers one admin request. For a mutating route (any method but GET) `body` is the request's JSON
 * body (undefined when it had none), already read within the size and time limits; for GET it is
 * undefined. Throwing (or rejecting) yields a 500 with a JSON error body.
 */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, body: unknown) => void | Promise<void>;

/** Methods that read. Every other method changes something and is guarded as mutating. */
export type AdminReadMethod = 'GET';

/** How a read route (GET) is guarded beyond the `Host` check. Mutating routes need no options. */
export interface AdminRouteOptions {
  /** Needs the admin key although it changes nothing (it reveals users or topology). */
  key?: boolean;
  /** Answers any `Host`: liveness and readiness probes (kubelet sends `Host: <pod IP>:<port>`). */
  anyHost?: boolean;
}

/** Where the admin port binds, what it serves, and how it is guarded (the `admin.*` settings). */
export interface AdminServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  logger: Logger;
  /** JSON for /stats; called per request. */
  stats: () => unknown;
  /** /ready answers 200 only while this returns true (false while starting and draining). */
  isReady: () => boolean;
  /** Called before /metrics renders, so counters kept outside prom-client are exact. */
  beforeMetrics?: () => void;
  /** The bearer key of mutating routes, /stats, and /metrics when `metricsAuth` (admin.apiKey). */
  apiKey: string;
  /** `Host` names answered besides the bound address (admin.allowedHosts; `*` = any). */
  allowedHosts: readonly string[];
  /** /metrics needs the key too (admin.metricsAuth; Prometheus sends it with `authorization`). */
  metricsAuth: boolean;
  /** Largest request body a mutating route reads (admin.maxBodyBytes). */
  maxBodyBytes: number;
  /** Time allowed for a request body to arrive (admin.bodyTimeoutMs). */
  bodyTimeoutMs: number;
}

interface Route {
  handler: AdminHandler;
  mutating: boolean;
  key: boolean;
  anyHost: boolean;
}

/**
 * The operator's HTTP port (default 127.0.0.1:9090): /health (liveness), /ready (readiness for a load
 * balancer), /metrics (Prometheus text), /stats (JSON). Later features add routes with `route()`.
 *
 * Every request must name an allowed `Host` (421 otherwise; /health and /ready answer any). A mutating
 * route (any method but GET) always needs `Authorization: Bearer <admin key>` (401), is refused when a
 * browser marks it cross-site (403), takes only JSON bodies (415) of bounded size (413) and read time
 * (408): this follows from the method, so a route added later cannot forget it. No CORS headers are
 * sent, so other origins cannot read the answers. docs/security.md, "The admin plane".
 */
export class AdminServer {
  private readonly opts: AdminServerOptions;
  private readonly routes = new Map<string, Route>();
  private readonly key: AdminKey;
  private readonly hosts: HostAllowList;
  private server: Server | null = null;

  constructor(opts: AdminServerOptions) {
    this.opts = opts;
    this.key = new AdminKey(opts.apiKey);
    this.hosts = new HostAllowList(opts.allowedHosts, opts.host);
    const probe = { anyHost: true };
    this.route('GET', '/health', (_req, res) => sendJson(res, 200, { status: 'ok' }), probe);
    this.route(
      'GET',
      '/ready',
      (_req, res) =>
        opts.isReady()
          ? sendJson(res, 200, { status: 'ready' })
          : sendJson(res, 503, { status: 'not ready' }),
      probe,
    );
    this.route(
      'GET',
      '/metrics',
      async (_req, res) => {
        opts.beforeMetrics?.();
        const body = await opts.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': opts.metrics.registry.contentType });
        res.end(body);
      },
      { key: opts.metricsAuth },
    );
    // Session counts, node ids, upstream instances and Redis state: topology an attacker should not map.
    this.route('GET', '/stats', (_req, res) => sendJson(res, 200, opts.stats()), { key: true });
  }

  /**
   * Adds or replaces the handler for an exact method and path. A GET handler must change nothing; any
   * other method is mutating and gets the admin key, same-origin and JSON-body checks whatever
   * `options` say.
   */
  route(method: AdminReadMethod, path: string, handler: AdminHandler, options?: AdminRouteOptions): void;
  route(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, handler: AdminHandler): void;
  route(method: string, path: string, handler: AdminHandler, options: AdminRouteOptions = {}): void {
    const mutating = method !== 'GET';
    this.routes.set(`${method} ${path}`, {
      handler,
      mutating,
      key: mutating || options.key === true,
      anyHost: !mutating && options.anyHost === true,
    });
  }

  /** Binds the port; resolves with the bound address (port 0 resolves to the real port). */
  async listen(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => this.serverOnRequest(req, res));
    this.server = server;
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.opts.logger.error({ err }, 'admin server error'));
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  /** Stops listening and closes idle keep-alive sockets. Idempotent. */
  async close(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private serverOnRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const route = this.routes.get(`${method} ${path}`);
    if (route?.anyHost !== true && !this.hosts.allows(req.headers.host)) {
      this.refuse(
        res,
        'host_not_allowed',
        'this admin port does not answer for that Host (admin.allowedHosts)',
      );
      return;
    }
    if (route === undefined) {
      const known = [...this.routes.keys()].some((k) => k.endsWith(` ${path}`));
      sendJson(res, known ? 405 : 404, { error: known ? 'method not allowed' : 'not found', path });
      return;
    }
    if (route.key && !this.key.accepts(req)) {
      const sent = req.headers.authorization !== undefined;
      res.setHeader('www-authenticate', `Bearer realm="ferry-admin"${sent ? ', error="invalid_token"' : ''}`);
      this.refuse(
        res,
        'unauthorized',
        sent ? 'admin key not accepted' : 'this route needs Authorization: Bearer <admin key>',
      );
      return;
    }
    if (!route.mutating) {
      this.run(route, req, res, path, undefined);
      return;
    }
    const crossSite = crossSiteReason(req);
    if (crossSite !== null) {
      this.refuse(res, 'cross_site', `cross-site requests cannot change this node: ${crossSite}`);
      return;
    }
    if (!jsonOrEmpty(req)) {
      this.refuse(res, 'unsupported_media_type', 'a request body must be Content-Type: application/json');
      return;
    }
    void this.readAndRun(route, req, res, path);
  }

  private async readAndRun(
    route: Route,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<void> {
    const read = await readBody(req, this.opts.maxBodyBytes, this.opts.bodyTimeoutMs);
    if (read.kind === 'aborted') {
      this.opts.logger.debug({ path }, 'admin request aborted by the client');
      return;
    }
    if (read.kind === 'refused') {
      // The rest of the body is not read: the connection cannot carry another request.
      res.setHeader('connection', 'close');
      const limit =
        read.refusal === 'body_too_large'
          ? `at most ${this.opts.maxBodyBytes} bytes (admin.maxBodyBytes)`
          : `within ${this.opts.bodyTimeoutMs} ms (admin.bodyTimeoutMs)`;
      this.refuse(res, read.refusal, `the request body must arrive ${limit}`);
      return;
    }
    let body: unknown;
    if (read.body.length > 0) {
      try {
        body = JSON.parse(read.body.toString('utf8'));
      } catch {
        this.refuse(res, 'bad_json', 'the request body is not valid JSON');
        return;
      }
    }
    this.run(route, req, res, path, body);
  }

  private run(route: Route, req: IncomingMessage, res: ServerResponse, path: string, body: unknown): void {
    Promise.resolve()
      .then(() => route.handler(req, res, body))
      .catch((err: unknown) => {
        // A client that went away is not a server fault: no stack, and nobody to send a 500 to.
        if (res.destroyed || req.destroyed) {
          this.opts.logger.debug({ path }, 'admin request ended by the client before its answer');
          return;
        }
        this.opts.logger.error({ err, path }, 'admin handler failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
  }

  private refuse(res: ServerResponse, code: AdminRefusal, message: string): void {
    this.opts.metrics.adminRefused.inc({ reason: code });
    sendJson(res, ADMIN_REFUSALS[code], { error: message, code });
  }
}

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}
