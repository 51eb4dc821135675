import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** Answers one admin request. Throwing (or rejecting) yields a 500 with a JSON error body. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

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
}

/**
 * The operator's HTTP port (default 127.0.0.1:9090): /health (liveness), /ready (readiness for a load
 * balancer), /metrics (Prometheus text), /stats (JSON). Later features add routes with `route()`.
 */
export class AdminServer {
  private readonly opts: AdminServerOptions;
  private readonly routes = new Map<string, AdminHandler>();
  private server: Server | null = null;

  constructor(opts: AdminServerOptions) {
    this.opts = opts;
    this.route('GET', '/health', (_req, res) => sendJson(res, 200, { status: 'ok' }));
    this.route('GET', '/ready', (_req, res) =>
      opts.isReady() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'not ready' }),
    );
    this.route('GET', '/metrics', async (_req, res) => {
      opts.beforeMetrics?.();
      const body = await opts.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': opts.metrics.registry.contentType });
      res.end(body);
    });
    this.route('GET', '/stats', (_req, res) => sendJson(res, 200, opts.stats()));
  }

  /** Adds or replaces the handler for an exact method and path. */
  route(method: string, path: string, handler: AdminHandler): void {
    this.routes.set(`${method} ${path}`, handler);
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
    const handler = this.routes.get(`${method} ${path}`);
    if (handler === undefined) {
      const known = [...this.routes.keys()].some((k) => k.endsWith(` ${path}`));
      sendJson(res, known ? 405 : 404, { error: known ? 'method not allowed' : 'not found', path });
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        this.opts.logger.error({ err, path }, 'admin handler failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
  }
}

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}
