/**
 * The operator's console on the admin port:
 *  - `GET /console`: the page (no data in it, so no key: it asks the operator for the admin key and
 *    sends it as `Authorization: Bearer` on every call below);
 *  - `GET /console/app.js`: its script, built by scripts/build-client.mjs with the chart library inlined;
 *  - `GET /console/api/overview?since=<ms>` (admin key): every node's samples taken after `since`;
 *  - `GET /console/api/user?id=<user>` (admin key): devices and login sessions of a user;
 *  - `POST /console/api/kick|push|broadcast|reload-routes` (admin key, same-origin, JSON bodies).
 * The admin server applies the Host allow-list, the key and the cross-site rules (admin-server.ts);
 * no CORS headers are sent, so other origins cannot read any answer. docs/operations.md, "The console".
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendJson, type AdminServer } from '../admin/admin-server.js';
import { ConfigError } from '../errors.js';
import type { ConsoleActions } from './console-actions.js';
import { CONSOLE_PAGE } from './console-page.js';
import { HISTORY_MS, SAMPLE_INTERVAL_MS } from './node-sample.js';
import type { SampleStore } from './sample-store.js';

/** What the routes act on. */
export interface ConsoleRouteDeps {
  nodeId: string;
  store: SampleStore;
  actions: ConsoleActions;
  /** The routes reload of SIGHUP and POST /routes/reload (Gateway.reloadRoutes). */
  reloadRoutes: () => Promise<unknown>;
}

/** The script bundle (same relative place from src/ and dist/). */
const SCRIPT_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'client', 'dist', 'console.js');

/** The page loads only its own script and talks only to its own origin, and may not be framed. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Adds the console's routes to `admin`. */
export function registerConsoleRoutes(admin: AdminServer, deps: ConsoleRouteDeps): void {
  admin.route('GET', '/console', (_req, res) => {
    res.writeHead(200, PAGE_HEADERS);
    res.end(CONSOLE_PAGE);
  });
  let script: Promise<Buffer> | null = null;
  admin.route('GET', '/console/app.js', async (_req, res) => {
    script ??= readFile(SCRIPT_PATH);
    let body: Buffer;
    try {
      body = await script;
    } catch {
      script = null;
      sendJson(res, 404, { error: 'console script not built: run npm run build' });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(body);
  });
  const key = { key: true };
  admin.route(
    'GET',
    '/console/api/overview',
    async (req, res) => {
      const now = Date.now();
      const since = sinceParam(req, now);
      sendJson(res, 200, {
        nodeId: deps.nodeId,
        now,
        intervalMs: SAMPLE_INTERVAL_MS,
        historyMs: HISTORY_MS,
        nodes: await deps.store.read(since, now),
      });
    },
    key,
  );
  admin.route(
    'GET',
    '/console/api/user',
    async (req, res) => {
      const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
      send(res, await deps.actions.findUser(id));
    },
    key,
  );
  admin.route('POST', '/console/api/kick', async (_req, res, body) =>
    send(res, await deps.actions.kick(obj(body))),
  );
  admin.route('POST', '/console/api/push', async (_req, res, body) =>
    send(res, await deps.actions.push(obj(body))),
  );
  admin.route('POST', '/console/api/broadcast', async (_req, res, body) =>
    send(res, await deps.actions.broadcast(obj(body))),
  );
  admin.route('POST', '/console/api/reload-routes', async (_req, res) => {
    try {
      sendJson(res, 200, { reloaded: true, routes: await deps.reloadRoutes() });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      sendJson(res, 400, { reloaded: false, errors: err.message.split('\n') });
    }
  });
}

function send(res: ServerResponse, r: { status: number; body: unknown }): void {
  sendJson(res, r.status, r.body);
}

function obj(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

/** `since` (ms since the epoch) clamped to the history window; absent or bad = the whole window. */
function sinceParam(req: IncomingMessage, now: number): number {
  const raw = new URL(req.url ?? '/', 'http://x').searchParams.get('since');
  const n = raw === null ? NaN : Number(raw);
  return Number.isFinite(n) ? Math.max(n, now - HISTORY_MS) : now - HISTORY_MS;
}
