import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateDevSecret } from '../auth/jwt/dev-secret.js';
import { hasConfiguredKeys } from '../auth/jwt/jwt-authenticator.js';
import { mintToken } from '../auth/jwt/mint.js';
import type { FerryConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { isLoopbackHost } from './admin-hosts.js';
import { sendJson, type AdminServer } from './admin-server.js';
import { DEMO_PAGE } from './demo-page.js';

/** Where the node's client endpoints are, for the demo page. */
export interface DemoAdminInfo {
  config: Pick<FerryConfig, 'admin' | 'auth' | 'dataDir'>;
  /** WebSocket URL ('' when the listener is off). */
  ws: string;
  /** WebTransport session URL ('' when off). */
  wt: string;
  /** Says once at startup when the loopback rule turned demo tokens off. */
  logger: Logger;
}

/** Body of `GET /demo/config`. */
export interface DemoConfigResponse {
  ws: string;
  wt: string;
  /** Admin path of the certificate hashes ('' without WebTransport). */
  certHashes: string;
  /** Whether `POST /demo/token` mints tokens; when not, `tokensDisabledReason` says why. */
  tokens: boolean;
  tokensDisabledReason: string;
}

/** Demo tokens live this long: a demo session, not a credential worth keeping. */
const DEMO_TOKEN_TTL_MS = 60 * 60_000;
/** The browser bundle built by scripts/build-client.mjs (same relative place from src/ and dist/). */
const BUNDLE_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'client',
  'dist',
  'ferry-client.js',
);

/** The HS256 key the demo signs with, or why there is none (admin.demo, docs/client.md). */
type Signer = { secret: string; kid: string } | { disabled: string };

async function demoSigner(config: DemoAdminInfo['config'], log: Logger): Promise<Signer> {
  const mode = config.admin.demo;
  if (mode === 'off') return { disabled: 'admin.demo is off' };
  // A token for any user, to whoever reaches the port: never from the network. ("on" with another
  // bind is refused when the config loads; this also covers callers that skipped loading.)
  const host = config.admin.host;
  if (!isLoopbackHost(host)) {
    const disabled = `admin.host ${host} is not a loopback address; demo tokens are served only on 127.0.0.1, ::1 or localhost`;
    if (!hasConfiguredKeys(config.auth))
      log.warn({ adminHost: host }, `POST /demo/token is disabled: ${disabled}`);
    return { disabled };
  }
  if (!hasConfiguredKeys(config.auth)) {
    const dev = await loadOrCreateDevSecret(config.dataDir);
    return { secret: dev.secret, kid: dev.kid };
  }
  if (mode === 'auto')
    return {
      disabled: 'auth keys are configured (production); set admin.demo to "on" to mint demo tokens anyway',
    };
  const secrets = config.auth.hmacSecrets;
  const kid = '' in secrets ? '' : Object.keys(secrets)[0];
  if (kid === undefined) return { disabled: 'only public keys are configured: the node cannot sign tokens' };
  return { secret: secrets[kid] ?? '', kid };
}

/**
 * Adds the SDK demo to the admin port:
 *  - `GET /demo`: a two-tab chat page on the client SDK (pick a user, see the transport, acks, latency);
 *  - `GET /client/ferry-client.js`: the SDK's browser bundle;
 *  - `GET /demo/config`: the client endpoints and whether demo tokens are available;
 *  - `POST /demo/token` `{ "user": "alice", "device": "tab-1" }` -> `{ token, expiresAtMs }`: a
 *    development token for any user. Dev-only: `admin.demo` "auto" (the default) enables it only while
 *    the node signs with its generated dev secret, i.e. no auth keys are configured; "on" also with a
 *    configured HS256 secret; "off" never; and only while the admin port binds a loopback address.
 *    Otherwise it answers 403 with the reason. Like every POST route it needs the admin key (the
 *    page reads it from its URL fragment, `/demo#key=<admin key>`, which never reaches the server).
 */
export async function registerDemoRoutes(admin: AdminServer, info: DemoAdminInfo): Promise<void> {
  const signer = await demoSigner(info.config, info.logger);
  const { auth } = info.config;
  admin.route('GET', '/demo', (_req, res) => sendText(res, 200, 'text/html; charset=utf-8', DEMO_PAGE));
  admin.route('GET', '/demo/config', (_req, res) => {
    const body: DemoConfigResponse = {
      ws: info.ws,
      wt: info.wt,
      certHashes: info.wt === '' ? '' : '/webtransport/cert-hashes',
      tokens: !('disabled' in signer),
      tokensDisabledReason: 'disabled' in signer ? signer.disabled : '',
    };
    sendJson(res, 200, body);
  });
  admin.route('GET', '/client/ferry-client.js', async (_req, res) => {
    let code: string;
    try {
      code = await readFile(BUNDLE_PATH, 'utf8');
    } catch {
      sendJson(res, 404, {
        error: 'client bundle not built: run `npm run build` (scripts/build-client.mjs)',
      });
      return;
    }
    sendText(res, 200, 'text/javascript; charset=utf-8', code);
  });
  admin.route('POST', '/demo/token', async (_req, res, json) => {
    if ('disabled' in signer) {
      sendJson(res, 403, { error: `demo tokens are disabled: ${signer.disabled}` });
      return;
    }
    const body = isObject(json) ? json : null;
    const user = typeof body?.user === 'string' ? body.user : '';
    const device = typeof body?.device === 'string' ? body.device : '';
    if (user.length === 0 || user.length > 128 || device.length > 128) {
      sendJson(res, 400, { error: 'expected JSON { "user": 1-128 characters, "device"?: up to 128 }' });
      return;
    }
    const nowMs = Date.now();
    let token: string;
    try {
      token = await mintToken({
        userId: user,
        ...(device !== '' ? { deviceId: device } : {}),
        ttlMs: DEMO_TOKEN_TTL_MS,
        secret: signer.secret,
        kid: signer.kid,
        issuer: auth.issuer,
        audience: auth.audience,
        reservedUserIds: auth.reservedUserIds,
        nowMs,
      });
    } catch (err) {
      // The identifier rule or a reserved id: a token the node would refuse is not minted.
      if (!(err instanceof RangeError)) throw err;
      sendJson(res, 400, { error: err.message });
      return;
    }
    sendJson(res, 200, { token, expiresAtMs: nowMs + DEMO_TOKEN_TTL_MS });
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sendText(res: ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
