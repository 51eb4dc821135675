import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { AdminServer } from '../../../src/admin/admin-server.js';
import { registerDemoRoutes } from '../../../src/admin/demo-routes.js';
import { defaultConfig } from '../../../src/config-types.js';
import { createLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';

describe('admin demo routes (in process)', function () {
  let dataDir: string;
  let admin: AdminServer;
  let base: string;

  async function start(mutate: (c: ReturnType<typeof defaultConfig>) => void): Promise<void> {
    const config = defaultConfig();
    config.dataDir = dataDir;
    mutate(config);
    admin = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      metrics: new Metrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'silent' }),
      stats: () => ({}),
      isReady: () => true,
    });
    await registerDemoRoutes(admin, { config, ws: 'ws://127.0.0.1:1/ws', wt: '' });
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
    const res = await fetch(`${base}/demo/token`, { method: 'POST', body: '{"user":"alice","device":"t1"}' });
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
    const res = await fetch(`${base}/demo/token`, { method: 'POST', body: '{"user":"alice"}' });
    expect(res.status).to.equal(403);
    expect(((await res.json()) as { error: string }).error).to.match(/only public keys/);
  });

  it('refuses oversized and malformed bodies with 400', async function () {
    await start(() => undefined);
    for (const body of ['x'.repeat(5000), '[]', '{"user":""}', `{"user":"${'u'.repeat(129)}"}`]) {
      const res = await fetch(`${base}/demo/token`, { method: 'POST', body });
      expect(res.status, body.slice(0, 20)).to.equal(400);
    }
  });
});
