import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateDevSecret } from '../auth/jwt/dev-secret.js';
import { hasConfiguredKeys } from '../auth/jwt/jwt-authenticator.js';
import { mintToken } from '../auth/jwt/mint.js';
import type { FerryConfig } from '../config-types.js';
import { sendJson, type AdminServer } from './admin-server.js';
import { DEMO_PAGE } from './demo-page.js';

/** Where the node's client endpoints are, for the demo page. */
export interface DemoAdminInfo {
  config: Pick<FerryConfig, 'admin' | 'auth' | 'dataDir'>;
  /** WebSocket URL ('' when the listener is off). */
  ws: string;
  /** WebTransport session URL ('' when off). */
  wt: string;
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
/** Largest request body POST /demo/token reads. */
const MAX_BODY_BYTES = 4096;
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

async function demoSigner(config: DemoAdminInfo['config']): Promise<Signer> {
  const mode = config.admin.demo;
  if (mode === 'off') return { disabled: 'admin.demo is off' };
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
 *    configured HS256 secret; "off" never. Otherwise it answers 403 with the reason.
 */
export async function registerDemoRoutes(admin: AdminServer, info: DemoAdminInfo): Promise<void> {
  const signer = await demoSigner(info.config);
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
  admin.route('POST', '/demo/token', async (req, res) => {
    if ('disabled' in signer) {
      sendJson(res, 403, { error: `demo tokens are disabled: ${signer.disabled}` });
      return;
    }
    const body = await readJson(req);
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

/** The request's JSON object body, or null when it is not one (or is too large). */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function sendText(res: ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
