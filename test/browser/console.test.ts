import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { DisconnectCode } from '../../src/errors.js';
import { HeadlessChromium } from '../helpers/chromium.js';
import { SampleWatch } from '../helpers/console-samples.js';
import { GatewayProcess, OPEN_PERMISSIONS, testToken } from '../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { WireClient } from '../helpers/wire-client.js';

/** The status of a GET with exactly these headers (fetch will not send a `Host` of our choosing). */
function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.end();
  });
}

const SLOW = Number(process.env.FERRY_TEST_TIME_FACTOR ?? 1);
const ADMIN_KEY = 'console-test-admin-key-0123456789';

interface SessionStats {
  connections: { ws: number; tcp: number; wt: number; total: number };
  sessions: { total: number };
  users: number;
}

describe('operator console in headless Chromium (two nodes, real Redis)', function () {
  this.timeout(90_000 * SLOW);
  let redis: RedisServer;
  let n1: GatewayProcess;
  let n2: GatewayProcess;
  let samples: SampleWatch;
  let chrome: HeadlessChromium;
  let page: Page;
  const wires: WireClient[] = [];
  const pageLines: string[] = [];

  before(async () => {
    redis = await startRedisServer();
    samples = await SampleWatch.start(redis.url);
    const flags = ['--redis', redis.url, ...OPEN_PERMISSIONS];
    const env = { FERRY_ADMIN_KEY: ADMIN_KEY };
    n1 = await GatewayProcess.start([...flags, '--node-id', 'con-n1'], { grpc: true, env });
    n2 = await GatewayProcess.start([...flags, '--node-id', 'con-n2'], { grpc: true, env });
    chrome = await HeadlessChromium.launch();
    mkdirSync('test-artifacts', { recursive: true });
  });
  after(async () => {
    for (const w of wires) w.destroy();
    await chrome?.close();
    await samples?.close();
    await n1?.cleanup();
    await n2?.cleanup();
    await redis?.stop();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`page console:\n  ${pageLines.join('\n  ')}`);
  });

  async function login(url: string, user: string, deviceId?: string): Promise<WireClient> {
    const w = await WireClient.login(url, await testToken(user, deviceId !== undefined ? { deviceId } : {}));
    wires.push(w);
    return w;
  }

  /** Waits until the page shows, for every node, a sample taken at or after `t`. */
  async function pageShowsSamplesFrom(t: number): Promise<void> {
    // A function, not a string: the page's CSP forbids eval.
    await page.waitForFunction(
      (after: number) => {
        type Row = { getAttribute(name: string): string | null };
        const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<Row> } })
          .document;
        const rows = Array.from(doc.querySelectorAll('#nodes tr[data-node]'));
        return rows.length === 2 && rows.every((r) => Number(r.getAttribute('data-sample-t')) >= after);
      },
      t,
      { timeout: 20_000 * SLOW },
    );
  }

  async function cell(node: string, col: string): Promise<string> {
    return (await page.textContent(`#nodes tr[data-node="${node}"] td[data-col="${col}"]`)) ?? '';
  }

  it('refuses its data without the admin key, from another Host, and cross-site changes', async () => {
    const base = n1.urls.admin;
    expect((await fetch(`${base}/console`)).status).to.equal(200);
    expect((await fetch(`${base}/console/api/overview`)).status).to.equal(401);
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };
    expect((await fetch(`${base}/console/api/overview`, { headers: auth })).status).to.equal(200);
    expect(await statusOf(`${base}/console/api/overview`, { ...auth, host: 'evil.example' })).to.equal(421);
    const cross = await fetch(`${base}/console/api/kick`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
      body: JSON.stringify({ userId: 'x' }),
    });
    expect(cross.status).to.equal(403);
    const page0 = await fetch(`${base}/console`);
    expect(page0.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
    expect(page0.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('shows every node with the figures /stats gives, and the cluster totals', async () => {
    await login(n2.urls.ws, 'con-ann', 'laptop');
    await login(n2.urls.tcp, 'con-amy', 'phone');
    await login(n1.urls.ws, 'con-bob', 'desk');
    // Traffic for the rate and latency charts: bob sends QoS 1 to ann, ann acks each, one at a time.
    const bob = wires[2]!;
    const ann = wires[0]!;
    let running = true;
    const pump = (async () => {
      for (let n = 0; running; n++) {
        const id = bob.send({
          send: { toUser: 'con-ann', payload: Buffer.from(`m${n}`), qos: 1, clientMsgId: `c${n}` },
        });
        const reply = await bob.next((f) => f.id === id, 10_000);
        // A refusal (e.g. 104 over the rate limit) would leave the deliver wait below hanging.
        if (reply.body !== 'sendAck') throw new Error(`send ${n} refused: ${JSON.stringify(reply)}`);
        const d = await ann.nextBody('deliver', 10_000);
        ann.send({ ack: { seq: d.deliver!.seq } });
        // About 50 messages a second: load shaping for the charts, not synchronisation.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    page = await chrome.newPage((line) => pageLines.push(line));
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${n1.urls.admin}/console`);
    await page.fill('#admin-key', ADMIN_KEY);
    await page.click('#key-form button[type=submit]');
    // Four samples of traffic on each node.
    for (let i = 0; i < 4; i++) await Promise.all([samples.next('con-n1'), samples.next('con-n2')]);
    running = false;
    await pump;
    const [s1, s2] = await Promise.all([samples.next('con-n1'), samples.next('con-n2')]);
    const stats1 = JSON.parse((await n1.admin('/stats')).body) as { sessions: SessionStats };
    const stats2 = JSON.parse((await n2.admin('/stats')).body) as { sessions: SessionStats };
    await pageShowsSamplesFrom(Math.max(s1.t, s2.t));

    for (const [node, st] of [
      ['con-n1', stats1.sessions],
      ['con-n2', stats2.sessions],
    ] as const) {
      expect(await cell(node, 'ws')).to.equal(String(st.connections.ws));
      expect(await cell(node, 'tcp')).to.equal(String(st.connections.tcp));
      expect(await cell(node, 'wt')).to.equal(String(st.connections.wt));
      expect(await cell(node, 'sessions')).to.equal(String(st.sessions.total));
      expect(await cell(node, 'users')).to.equal(String(st.users));
      expect(await cell(node, 'status')).to.equal('ready');
      expect(await cell(node, 'redis')).to.equal('up');
    }
    expect([
      await cell('con-n2', 'ws'),
      await cell('con-n2', 'tcp'),
      await cell('con-n1', 'ws'),
    ]).to.deep.equal(['1', '1', '1']);
    const total = stats1.sessions.connections.total + stats2.sessions.connections.total;
    expect(await page.textContent('[data-figure="connections"] .value')).to.equal(String(total));
    expect(await page.textContent('[data-figure="nodes"] .value')).to.equal('2/2');
    // Messages flowed: the rate chart and latency have data, the risky settings are listed.
    expect(await page.locator('#charts .chart canvas').count()).to.equal(6);
    expect(await page.textContent('#problems')).to.include('all nodes: open: every user may subscribe');
    const latency = await cell('con-n2', 'latency');
    expect(latency === '–' || /^[\d.]+ \/ [\d.]+ \/ [\d.]+$/.test(latency)).to.equal(true);
    await page.screenshot({ path: 'test-artifacts/console-overview.png', fullPage: true });
  });

  it('finds a user, kicks a device, sends a test push, broadcasts, reloads routes; clients see each', async () => {
    const tablet = await login(n2.urls.ws, 'con-cy', 'tablet');
    const desk = await login(n2.urls.ws, 'con-cy', 'desk');
    const sub = await login(n2.urls.tcp, 'con-dee');
    const sid = sub.send({ subscribe: { topic: 'con-news' } });
    expect((await sub.next((f) => f.id === sid)).body).to.equal('reply');

    await page.fill('#find-user-id', 'con-cy');
    await page.click('#find-user button[type=submit]');
    await page.waitForSelector('#user-result tr[data-device="tablet"]');
    expect(await page.textContent('#user-summary')).to.equal('con-cy: online on 2 device(s)');
    const row = (await page.locator('#user-result tr[data-device="tablet"] td').allTextContents()).slice(
      0,
      3,
    );
    expect(row).to.deep.equal(['tablet', 'con-n2', 'websocket']);

    // Test push through the console, to both devices of con-cy.
    await page.fill('#push-user', 'con-cy');
    await page.fill('#push-text', 'console says hi');
    await page.click('#push button[type=submit]');
    const d = await tablet.nextBody('deliver', 10_000);
    expect(Buffer.from(d.deliver!.payload!).toString()).to.equal('console says hi');
    expect(d.deliver).to.include({ fromUser: 'system', fromService: 'admin-console' });
    await page.waitForSelector('#action-result[data-action="push"][data-status="200"]');
    expect(await page.textContent('#action-result')).to.include('PUSH_STATUS_DELIVERED');

    // Kick one device from the user's row.
    const kickedAt = Date.now();
    await page.click('#user-result button[data-kick-device="tablet"]');
    expect((await tablet.waitClosed(10_000)).code).to.equal(DisconnectCode.KICKED);
    await page.waitForSelector('#action-result[data-action="kick"][data-status="200"]');
    expect(desk.closed).to.equal(false);

    // Broadcast to a topic with a subscriber on the other node.
    await page.fill('#broadcast-topic', 'con-news');
    await page.fill('#broadcast-text', 'all hands at 5');
    await page.click('#broadcast button[type=submit]');
    const b = await sub.nextBody('deliver', 10_000);
    expect(b.deliver?.topic).to.equal('con-news');
    expect(Buffer.from(b.deliver!.payload!).toString()).to.equal('all hands at 5');

    // A bad request is the access API's error, shown, not a crash.
    await page.fill('#kick-user', '');
    await page.click('#kick button[type=submit]');
    await page.waitForSelector('#action-result[data-action="kick"][data-status="400"]');
    expect(await page.textContent('#action-result')).to.include('user_id');

    await page.click('#reload-routes button[type=submit]');
    await page.waitForSelector('#action-result[data-action="reload-routes"][data-status="200"]');
    expect(await page.textContent('#action-result')).to.include('"reloaded": true');

    // The kick shows in the disconnect counts once node 2 has sampled after it.
    await samples.next('con-n2', kickedAt);
    await page.waitForSelector(`#disconnects tr[data-code="${DisconnectCode.KICKED}"]`, {
      timeout: 20_000 * SLOW,
    });
    expect(await page.textContent(`#disconnects tr[data-code="${DisconnectCode.KICKED}"]`)).to.include(
      'KICKED',
    );
    await page.screenshot({ path: 'test-artifacts/console-actions.png', fullPage: true });
  });
});
