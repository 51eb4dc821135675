/**
 * The admin port against hostile callers, on real nodes: CSRF from a web page the operator opens, DNS
 * rebinding (a foreign `Host`), a missing or wrong admin key, the demo token route on a network bind,
 * aborted and slow request bodies. Two bystanders keep exchanging QoS-1 messages after every attack.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Bystanders } from '../../helpers/bystanders.js';
import { GatewayProcess } from '../../helpers/gateway-process.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with exactly the headers given (fetch would not let a test set `Host`). */
function send(
  base: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.end(opts.body);
  });
}

/** The `code` of a JSON error body. */
function codeOf(a: Answer): unknown {
  return (JSON.parse(a.body) as { code?: unknown }).code;
}

/** A value of `ferry_admin_requests_refused_total` for one reason (0 when absent). */
function refused(metrics: string, reason: string): number {
  const m = new RegExp(`^ferry_admin_requests_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(
    metrics,
  );
  return m ? Number(m[1]) : 0;
}

describe('abuse: the admin plane', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-admin-abuse-'));
  const configPath = join(dir, 'ferry.config.json');
  const nodes: GatewayProcess[] = [];
  let gw: GatewayProcess;
  let bystanders: Bystanders;

  /** The routes a reload would install; the node starts with none. */
  const writeRoutes = (routes: Record<string, string>): void =>
    writeFileSync(configPath, JSON.stringify({ routes }));

  async function reloads(): Promise<number> {
    const stats = JSON.parse((await gw.admin('/stats')).body) as { upstream: { reloads: number } };
    return stats.upstream.reloads;
  }

  before(async () => {
    writeRoutes({});
    gw = await GatewayProcess.start(['--config', configPath, '--admin-demo', 'on']);
    nodes.push(gw);
    bystanders = await Bystanders.start(gw.urls);
    await bystanders.exchange();
  });
  afterEach(async function () {
    // Whatever the attack did, the well-behaved users on the shared node go on exchanging messages.
    if (gw.proc.exitCode === null) await bystanders.exchange();
  });
  after(async () => {
    bystanders?.destroy();
    for (const n of nodes) await n.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a cross-origin text/plain POST /routes/reload (CSRF) and reloads nothing', async () => {
    writeRoutes({ '3000': 'gateway' });
    const before = await reloads();
    // What a page on another site makes the operator's browser send with a "simple" form or fetch.
    const browser = {
      origin: 'http://evil.example',
      'sec-fetch-site': 'cross-site',
      'content-type': 'text/plain',
    };
    const csrf = await send(gw.urls.admin, '/routes/reload', { method: 'POST', headers: browser, body: 'x' });
    expect(csrf.status).to.equal(401);
    expect(csrf.headers['access-control-allow-origin']).to.equal(undefined);
    // Defence in depth: with the key (say, leaked), a cross-site or non-JSON request still changes nothing.
    const key = { authorization: `Bearer ${gw.adminKey()}` };
    const withKey = await send(gw.urls.admin, '/routes/reload', {
      method: 'POST',
      headers: { ...browser, ...key },
      body: 'x',
    });
    expect([withKey.status, codeOf(withKey)]).to.deep.equal([403, 'cross_site']);
    const foreignOrigin = await send(gw.urls.admin, '/routes/reload', {
      method: 'POST',
      headers: { ...key, origin: 'http://evil.example', 'content-type': 'application/json' },
    });
    expect([foreignOrigin.status, codeOf(foreignOrigin)]).to.deep.equal([403, 'cross_site']);
    const plain = await send(gw.urls.admin, '/routes/reload', {
      method: 'POST',
      headers: { ...key, 'content-type': 'text/plain' },
      body: 'x',
    });
    expect([plain.status, codeOf(plain)]).to.deep.equal([415, 'unsupported_media_type']);
    expect(await reloads(), 'nothing was reloaded').to.equal(before);

    // The admin's own origin (the demo page, a same-origin fetch) and non-browser callers are served.
    const ownOrigin = new URL(gw.urls.admin).origin;
    const ok = await send(gw.urls.admin, '/routes/reload', {
      method: 'POST',
      headers: { ...gw.adminHeaders(), origin: ownOrigin, 'sec-fetch-site': 'same-origin' },
    });
    expect(ok.status, ok.body).to.equal(200);
    expect(await reloads()).to.equal(before + 1);
  });

  it('answers a mutating route only with the admin key: 401 + WWW-Authenticate without it or with a wrong one', async () => {
    const before = await reloads();
    for (const authorization of [undefined, 'Bearer not-the-admin-key-000000', `Bearer ${gw.adminKey()}x`]) {
      const res = await send(gw.urls.admin, '/routes/reload', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      });
      expect(res.status, String(authorization)).to.equal(401);
      expect(res.headers['www-authenticate']).to.match(/^Bearer realm="ferry-admin"/);
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(codeOf(res)).to.equal('unauthorized');
    }
    const token = await send(gw.urls.admin, '/demo/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"user":"mallory"}',
    });
    expect(token.status, 'no demo token without the key').to.equal(401);
    expect(await reloads()).to.equal(before);
    const ok = await send(gw.urls.admin, '/routes/reload', { method: 'POST', headers: gw.adminHeaders() });
    expect(ok.status).to.equal(200);
    expect(await reloads()).to.equal(before + 1);
  });

  it('answers no route but /health and /ready for a foreign Host (DNS rebinding)', async () => {
    const before = await reloads();
    const evil = { host: 'evil.example', ...gw.adminHeaders() };
    const stats = await send(gw.urls.admin, '/stats', { headers: evil });
    expect([stats.status, codeOf(stats)]).to.deep.equal([421, 'host_not_allowed']);
    expect(stats.body).to.not.include(gw.urls.ws.split('//')[1]);
    const reload = await send(gw.urls.admin, '/routes/reload', { method: 'POST', headers: evil });
    expect(reload.status).to.equal(421);
    expect((await send(gw.urls.admin, '/metrics', { headers: evil })).status).to.equal(421);
    expect((await send(gw.urls.admin, '/demo', { headers: { host: 'evil.example:80' } })).status).to.equal(
      421,
    );
    // Probes: kubelet sends Host: <pod IP>:<port>.
    expect((await send(gw.urls.admin, '/health', { headers: evil })).status).to.equal(200);
    expect((await send(gw.urls.admin, '/ready', { headers: { host: '10.1.2.3:9090' } })).status).to.equal(
      200,
    );
    // Loopback names with any port and any case are the admin's own.
    const port = new URL(gw.urls.admin).port;
    for (const host of [`LOCALHOST:${port}`, '127.0.0.1:1', `[::1]:${port}`]) {
      const res = await send(gw.urls.admin, '/stats', { headers: { ...gw.adminHeaders(), host } });
      expect(res.status, host).to.equal(200);
    }
    expect(await reloads()).to.equal(before);
  });

  it('keeps /stats behind the admin key and /metrics open by default', async () => {
    const stats = await send(gw.urls.admin, '/stats');
    expect([stats.status, codeOf(stats)]).to.deep.equal([401, 'unauthorized']);
    const metrics = await send(gw.urls.admin, '/metrics');
    expect(metrics.status).to.equal(200);
    // Every refusal above was counted, by reason.
    for (const reason of ['unauthorized', 'cross_site', 'unsupported_media_type', 'host_not_allowed'])
      expect(refused(metrics.body, reason), reason).to.be.greaterThan(0);
  });

  it('caps request bodies in size (413) and in read time (408), closing the connection', async () => {
    const small = await GatewayProcess.start([
      '--admin-demo',
      'on',
      '--admin-max-body-bytes',
      '1KiB',
      '--admin-body-timeout',
      '300ms',
    ]);
    nodes.push(small);
    const big = await send(small.urls.admin, '/demo/token', {
      method: 'POST',
      headers: small.adminHeaders(),
      body: JSON.stringify({ user: 'u', pad: 'x'.repeat(2000) }),
    });
    expect([big.status, codeOf(big)]).to.deep.equal([413, 'body_too_large']);
    expect(big.headers.connection).to.equal('close');

    // A slow drip: the headers promise 100 bytes, one arrives, then nothing.
    const { hostname, port } = new URL(small.urls.admin);
    const sock = tcpConnect(Number(port), hostname);
    let answer = '';
    sock.setEncoding('utf8').on('data', (d: string) => (answer += d));
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    const started = Date.now();
    sock.write(
      `POST /demo/token HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${small.adminKey()}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    );
    await closed;
    expect(answer).to.match(/^HTTP\/1\.1 408 /);
    expect(answer).to.include('"code":"body_timeout"');
    // The deadline is the behaviour under test: 300 ms configured, far less than Node's 30 s check.
    expect(Date.now() - started).to.be.below(10_000);
    const metrics = (await small.admin('/metrics')).body;
    expect(refused(metrics, 'body_too_large')).to.equal(1);
    expect(refused(metrics, 'body_timeout')).to.equal(1);
  });

  it('logs no error (and sends no 500) when a client aborts POST /demo/token mid-body', async () => {
    const node = await GatewayProcess.start(['--admin-demo', 'on', '--log-level', 'debug']);
    nodes.push(node);
    const { hostname, port } = new URL(node.urls.admin);
    const sock = tcpConnect(Number(port), hostname);
    const continued = new Promise<void>((resolve) => sock.once('data', () => resolve()));
    // Expect: 100-continue makes the server say when the handler is reading the body.
    sock.write(
      `POST /demo/token HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${node.adminKey()}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n',
    );
    await continued;
    sock.write('{"user":');
    sock.destroy();
    const line = await node.waitForLog(
      (r) => r.component === 'admin' && (Number(r.level) >= 50 || /aborted/.test(String(r.msg))),
    );
    expect(line.msg).to.equal('admin request aborted by the client');
    expect(Number(line.level)).to.equal(20);
    expect(line).to.not.have.property('err');
    expect(node.logs.filter((r) => Number(r.level) >= 50)).to.deep.equal([]);
    // The node is fine: the next request is served.
    expect((await node.admin('/health')).status).to.equal(200);
  });

  it('refuses to start with --admin-host 0.0.0.0 --admin-demo on (exit 2, one line saying why)', async () => {
    const outcome = await GatewayProcess.start(['--admin-host', '0.0.0.0', '--admin-demo', 'on']).then(
      (started) => {
        nodes.push(started);
        return 'started';
      },
      (err: Error) => err.message,
    );
    expect(outcome).to.match(/^gateway exited with 2 before ready:\n/);
    const stderr = outcome.split('\n').slice(1).join('\n').trim();
    expect(stderr.split('\n')).to.have.length(1);
    expect(stderr).to.match(
      /^invalid config: admin\.demo \(from flag --admin-demo\) is on, but admin\.host \(from flag --admin-host\) 0\.0\.0\.0 is not a loopback address: .*set admin\.demo to auto or off$/,
    );
  });

  it('disables POST /demo/token with one warning when admin.demo is auto on a 0.0.0.0 bind', async () => {
    // No --auth-secret: the node signs with its dev secret, where auto would otherwise mint tokens.
    const open = await GatewayProcess.start(['--admin-host', '0.0.0.0'], { authSecret: false });
    nodes.push(open);
    const res = await send(open.urls.admin, '/demo/token', {
      method: 'POST',
      headers: open.adminHeaders(),
      body: '{"user":"mallory"}',
    });
    expect(res.status).to.equal(403);
    expect(JSON.parse(res.body).error).to.match(/not a loopback address/);
    const warnings = open.logs.filter((r) => Number(r.level) === 40 && /demo\/token/.test(String(r.msg)));
    expect(warnings.map((r) => r.msg)).to.deep.equal([
      'POST /demo/token is disabled: admin.host 0.0.0.0 is not a loopback address; demo tokens are served only on 127.0.0.1, ::1 or localhost',
    ]);
  });

  it('closes /metrics behind the admin key with admin.metricsAuth', async () => {
    const locked = await GatewayProcess.start(['--admin-metrics-auth', 'true']);
    nodes.push(locked);
    const res = await send(locked.urls.admin, '/metrics');
    expect([res.status, codeOf(res)]).to.deep.equal([401, 'unauthorized']);
    expect(res.headers['www-authenticate']).to.match(/^Bearer/);
    const ok = await locked.admin('/metrics');
    expect(ok.status).to.equal(200);
    expect(ok.body).to.include('ferry_admin_requests_refused_total{reason="unauthorized"} 1');
    expect((await send(locked.urls.admin, '/health')).status).to.equal(200);
  });
});
