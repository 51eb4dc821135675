import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ADMIN_REFUSALS, AdminKey, crossSiteReason, jsonOrEmpty } from '../../../src/admin/admin-guard.js';
import { HostAllowList, isLoopbackHost, normalizeHost } from '../../../src/admin/admin-hosts.js';
import { loadAdminKey } from '../../../src/admin/admin-key.js';
import { formatBanner } from '../../../src/cli/output.js';
import { loadConfig, redactConfig } from '../../../src/config/load.js';
import { defaultConfig } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';

/** Just the headers of a request, which is all the guards read. */
const req = (headers: IncomingHttpHeaders): IncomingMessage => ({ headers }) as IncomingMessage;

describe('admin plane', () => {
  describe('host names', () => {
    it('normalizes Host values: case, port, IPv6 brackets, one trailing dot', () => {
      const cases: [string, string | null][] = [
        ['LocalHost:9090', 'localhost'],
        ['127.0.0.1', '127.0.0.1'],
        ['[::1]:9090', '::1'],
        ['[::1]', '::1'],
        ['::1', '::1'],
        ['localhost.', 'localhost'],
        ['admin.internal:80', 'admin.internal'],
        ['[::1]x', null],
        ['[evil.example]', null],
        ['evil.example:port', null],
        ['a b', null],
        ['', null],
        ['user@host', null],
      ];
      for (const [raw, want] of cases) expect(normalizeHost(raw), raw).to.equal(want);
    });

    it('knows loopback binds', () => {
      for (const h of [
        '127.0.0.1',
        '127.1.2.3',
        '::1',
        '[::1]',
        'localhost',
        'LOCALHOST',
        '::ffff:127.0.0.1',
      ])
        expect(isLoopbackHost(h), h).to.equal(true);
      for (const h of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '128.0.0.1', 'localhost.example'])
        expect(isLoopbackHost(h), h).to.equal(false);
    });

    it('allows the configured names and a specific bound address, at any port', () => {
      const list = new HostAllowList(['localhost', '127.0.0.1', '::1'], '10.0.0.5');
      for (const h of ['localhost:9090', '127.0.0.1', '[::1]:1', '10.0.0.5:9090'])
        expect(list.allows(h), h).to.equal(true);
      for (const h of [
        'evil.example',
        'evil.example:9090',
        '10.0.0.6',
        undefined,
        '',
        'localhost.evil.example',
      ])
        expect(list.allows(h), String(h)).to.equal(false);
      expect(new HostAllowList(['localhost'], '0.0.0.0').allows('0.0.0.0:9090')).to.equal(false);
      expect(new HostAllowList(['*'], '127.0.0.1').allows('anything.example')).to.equal(true);
    });
  });

  describe('guards', () => {
    it('accepts only the exact admin key as a bearer token', () => {
      const key = new AdminKey('the-admin-key-0123456789');
      expect(key.accepts(req({ authorization: 'Bearer the-admin-key-0123456789' }))).to.equal(true);
      expect(key.accepts(req({ authorization: 'bearer the-admin-key-0123456789 ' }))).to.equal(true);
      for (const authorization of [
        undefined,
        '',
        'Bearer',
        'Bearer the-admin-key-012345678',
        'Bearer the-admin-key-0123456789x',
        'Basic the-admin-key-0123456789',
        'Bearer the-admin-key-0123456789 extra',
        `Bearer ${'k'.repeat(5000)}`,
      ])
        expect(key.accepts(req({ authorization })), String(authorization)).to.equal(false);
      expect(() => new AdminKey('')).to.throw(RangeError);
    });

    it('tells cross-site requests from same-origin and non-browser ones', () => {
      const host = '127.0.0.1:9090';
      expect(crossSiteReason(req({ host }))).to.equal(null);
      expect(
        crossSiteReason(req({ host, 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:9090' })),
      ).to.equal(null);
      expect(crossSiteReason(req({ host, 'sec-fetch-site': 'none' }))).to.equal(null);
      expect(crossSiteReason(req({ host, 'sec-fetch-site': 'cross-site' }))).to.match(/cross-site/);
      expect(crossSiteReason(req({ host, 'sec-fetch-site': 'same-site' }))).to.match(/same-site/);
      for (const origin of ['http://evil.example', 'null', 'http://127.0.0.1:9091', 'http://localhost:9090'])
        expect(crossSiteReason(req({ host, origin })), origin).to.match(/Origin/);
    });

    it('lets through only JSON bodies, or no body at all', () => {
      expect(jsonOrEmpty(req({ 'content-type': 'application/json' }))).to.equal(true);
      expect(jsonOrEmpty(req({ 'content-type': 'Application/JSON; charset=utf-8' }))).to.equal(true);
      expect(jsonOrEmpty(req({}))).to.equal(true);
      expect(jsonOrEmpty(req({ 'content-length': '0' }))).to.equal(true);
      for (const headers of [
        { 'content-type': 'text/plain' },
        { 'content-type': 'application/x-www-form-urlencoded' },
        { 'content-type': 'multipart/form-data; boundary=x' },
        { 'content-type': 'application/jsonp' },
        { 'content-length': '3' },
        { 'transfer-encoding': 'chunked' },
      ])
        expect(jsonOrEmpty(req(headers)), JSON.stringify(headers)).to.equal(false);
    });

    it('documents every refusal code with its status in docs/security.md', () => {
      const doc = readFileSync(new URL('../../../docs/security.md', import.meta.url), 'utf8');
      for (const [code, status] of Object.entries(ADMIN_REFUSALS))
        expect(doc, code).to.include(`| ${status} | \`${code}\` |`);
    });
  });

  describe('configuration', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ferry-admin-config-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const load = (env: NodeJS.ProcessEnv, flags: Record<string, unknown> = {}) =>
      loadConfig({ cwd: dir, env, flags });
    const problem = (env: NodeJS.ProcessEnv, flags: Record<string, unknown> = {}): string => {
      try {
        load(env, flags);
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return (err as Error).message;
      }
      return expect.fail('expected a ConfigError');
    };

    it('has loopback hosts, an unset key and open /metrics by default', () => {
      expect(defaultConfig().admin).to.deep.include({
        apiKey: '',
        allowedHosts: ['localhost', '127.0.0.1', '::1'],
        metricsAuth: false,
      });
    });

    it('reads the admin settings from env and flags, normalizing host names', () => {
      const config = load(
        {
          FERRY_ADMIN_KEY: 'an-admin-key-from-env',
          FERRY_ADMIN_METRICS_AUTH: 'true',
          FERRY_ADMIN_BODY_TIMEOUT: '2s',
        },
        { adminAllowedHosts: 'Admin.Internal,[::1],*', adminMaxBodyBytes: '1KiB' },
      );
      expect(config.admin).to.deep.include({
        apiKey: 'an-admin-key-from-env',
        allowedHosts: ['admin.internal', '::1', '*'],
        metricsAuth: true,
        maxBodyBytes: 1024,
        bodyTimeoutMs: 2000,
      });
      expect(redactConfig(config).admin.apiKey).to.equal('[redacted]');
    });

    it('refuses a short admin key without echoing it, and host entries with a port', () => {
      const short = problem({ FERRY_ADMIN_KEY: 'short-key' });
      expect(short).to.equal(
        'invalid config: admin.apiKey (from env FERRY_ADMIN_KEY) must be 16-1024 characters without spaces, got a secret value',
      );
      for (const hosts of ['localhost:9090', '[::1]:9090', 'a b'])
        expect(problem({ FERRY_ADMIN_ALLOWED_HOSTS: hosts }), hosts).to.match(
          /^invalid config: admin\.allowedHosts \(from env FERRY_ADMIN_ALLOWED_HOSTS\) must be a list of host names or IP addresses without ports/,
        );
    });

    it('refuses admin.demo on with a non-loopback admin.host, and allows it on loopback or when off', () => {
      expect(problem({ FERRY_ADMIN_DEMO: 'on', FERRY_ADMIN_HOST: '0.0.0.0' })).to.match(
        /^invalid config: admin\.demo \(from env FERRY_ADMIN_DEMO\) is on, but admin\.host \(from env FERRY_ADMIN_HOST\) 0\.0\.0\.0 is not a loopback address: .*set admin\.demo to auto or off$/,
      );
      expect(load({ FERRY_ADMIN_DEMO: 'on', FERRY_ADMIN_HOST: '::1' }).admin.demo).to.equal('on');
      expect(load({ FERRY_ADMIN_DEMO: 'auto', FERRY_ADMIN_HOST: '0.0.0.0' }).admin.demo).to.equal('auto');
      expect(
        load({ FERRY_ADMIN_DEMO: 'on', FERRY_ADMIN_HOST: '0.0.0.0', FERRY_ADMIN_ENABLED: 'false' }).admin
          .demo,
      ).to.equal('on');
    });

    it('generates the admin key once in <dataDir>/admin/dev-secret unless one is configured', async () => {
      const config = { ...defaultConfig(), dataDir: dir };
      const first = await loadAdminKey(config);
      expect(first.path).to.equal(join(dir, 'admin', 'dev-secret'));
      expect(first.key).to.have.length.of.at.least(32);
      expect(await loadAdminKey(config)).to.deep.equal(first);
      const configured = { ...config, admin: { ...config.admin, apiKey: 'configured-admin-key-0001' } };
      expect(await loadAdminKey(configured)).to.deep.equal({ key: 'configured-admin-key-0001', path: null });
    });
  });

  describe('banner', () => {
    const base = {
      nodeId: 'n1',
      addresses: {
        admin: {
          host: '127.0.0.1',
          port: 9090,
          url: 'http://127.0.0.1:9090',
          bindUrl: 'http://127.0.0.1:9090',
        },
      },
      auth: { kind: 'dev-secret' as const, path: '.ferry/dev-secret' },
      tokenCommand: 'npx ferry token --user alice',
    };

    it('prints the demo URL with a generated key in its fragment, and where the key is', () => {
      const text = formatBanner({ ...base, adminKey: { key: 'GENERATED', path: '.ferry/admin/dev-secret' } });
      expect(text).to.include('Demo:       http://127.0.0.1:9090/demo#key=GENERATED (');
      expect(text).to.include('Admin key:  contents of .ferry/admin/dev-secret, as Authorization: Bearer');
    });

    it('never prints a configured key, nor a generated one when production auth keys are configured', () => {
      const text = formatBanner({ ...base, adminKey: { key: 'CONFIGURED-SECRET', path: null } });
      expect(text).to.not.include('CONFIGURED-SECRET');
      expect(text).to.include('/demo#key=<admin key>');
      expect(text).to.include('Admin key:  the configured admin.apiKey');
      const production = formatBanner({
        ...base,
        auth: { kind: 'hmac', kids: [''] },
        adminKey: { key: 'GENERATED', path: '.ferry/admin/dev-secret' },
      });
      expect(production).to.not.include('GENERATED');
      expect(production).to.include('/demo#key=<admin key>');
      expect(production).to.include('Admin key:  contents of .ferry/admin/dev-secret');
    });
  });
});
