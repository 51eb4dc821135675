import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { AdminServer } from '../../../src/admin/admin-server.js';
import { registerDemoRoutes } from '../../../src/admin/demo-routes.js';
import { defaultConfig } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';

const KEY = 'unit-test-admin-key-0123456789';
const HEADERS = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

describe('admin demo routes (in process)', function () {
  let dataDir: string;
  let admin: AdminServer;
  let base: string;
  let warnings: string[];

  async function start(mutate: (c: ReturnType<typeof defaultConfig>) => void): Promise<void> {
    const config = defaultConfig();
    config.dataDir = dataDir;
    mutate(config);
    admin = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      apiKey: KEY,
      allowedHosts: config.admin.allowedHosts,
      metricsAuth: false,
      maxBodyBytes: config.admin.maxBodyBytes,
      bodyTimeoutMs: config.admin.bodyTimeoutMs,
      metrics: new Metrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'silent' }),
      stats: () => ({}),
      isReady: () => true,
    });
    warnings = [];
    const logger = createLogger({ level: 'silent' });
    logger.warn = ((_obj: unknown, msg: string) => void warnings.push(msg)) as typeof logger.warn;
    await registerDemoRoutes(admin, { config, ws: 'ws://127.0.0.1:1/ws', wt: '', logger });
    const a = await admin.listen();
    base = `http://127.0.0.1:${a.port}`;
  }

  beforeEach(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'ferry-demo-'));
  });
  afterEach(async function () {
    await admin?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('signs with the generated dev secret (kid "dev") when no auth keys are configured', async function () {
    await start(() => undefined);
    const res = await fetch(`${base}/demo/token`, {
      method: 'POST',
      headers: HEADERS,
      body: '{"user":"alice","device":"t1"}',
    });
    expect(res.status).to.equal(200);
    const { token } = (await res.json()) as { token: string };
    expect(decodeProtectedHeader(token)).to.include({ alg: 'HS256', kid: 'dev' });
    expect(decodeJwt(token)).to.include({ sub: 'alice', did: 't1' });
    const cfg = (await (await fetch(`${base}/demo/config`)).json()) as Record<string, unknown>;
    expect(cfg).to.deep.equal({
      ws: 'ws://127.0.0.1:1/ws',
      wt: '',
      certHashes: '',
      tokens: true,
      tokensDisabledReason: '',
    });
  });

  it('cannot sign when only public keys are configured, even with admin.demo on', async function () {
    await start((c) => {
      c.admin.demo = 'on';
      c.auth.publicKeys = { k1: '/nonexistent.pem' };
    });
    const res = await fetch(`${base}/demo/token`, {
      method: 'POST',
      headers: HEADERS,
      body: '{"user":"alice"}',
    });
    expect(res.status).to.equal(403);
    expect(((await res.json()) as { error: string }).error).to.match(/only public keys/);
  });

  it('refuses malformed bodies with 400 and oversized ones with 413', async function () {
    await start((c) => (c.admin.maxBodyBytes = 1024));
    for (const body of ['x'.repeat(500), '[]', '{"user":""}', `{"user":"${'u'.repeat(129)}"}`]) {
      const res = await fetch(`${base}/demo/token`, { method: 'POST', headers: HEADERS, body });
      expect(res.status, body.slice(0, 20)).to.equal(400);
    }
    const big = await fetch(`${base}/demo/token`, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({ user: 'u', pad: 'x'.repeat(2000) }),
    });
    expect(big.status).to.equal(413);
    expect(await big.json()).to.include({ code: 'body_too_large' });
  });

  it('disables demo tokens with one warning when the admin port binds a non-loopback address', async function () {
    await start((c) => (c.admin.host = '0.0.0.0'));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(
      /POST \/demo\/token is disabled: admin.host 0.0.0.0 is not a loopback address/,
    );
    const res = await fetch(`${base}/demo/token`, {
      method: 'POST',
      headers: HEADERS,
      body: '{"user":"alice"}',
    });
    expect(res.status).to.equal(403);
  });

  it('needs the admin key: 401 with WWW-Authenticate: Bearer without it or with a wrong one', async function () {
    await start(() => undefined);
    for (const authorization of [undefined, 'Bearer wrong-key-0123456789', `Basic ${KEY}`]) {
      const res = await fetch(`${base}/demo/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: '{"user":"alice"}',
      });
      expect(res.status, String(authorization)).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.match(/^Bearer realm="ferry-admin"/);
      expect(await res.json()).to.include({ code: 'unauthorized' });
    }
  });
});
