import { createSocket } from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { HeadlessChromium } from '../helpers/chromium.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { TIME_FACTOR } from '../helpers/time-factor.js';

/** `window.ferryDemo` of src/admin/demo-page.ts, as the tests use it. */
interface DemoState {
  ready?: boolean;
  connect(
    user: string,
    opts?: { wsOnly?: boolean; device?: string },
  ): Promise<{ transport: string; userId: string }>;
  send(to: string, text: string): Promise<{ seq: number; latencyMs: number }>;
  messages: { from: string; text: string; seq: number }[];
  transports: { kind: string; ok: boolean; error?: string }[];
}
interface DemoGlobals {
  ferryDemo: DemoState;
}

/** A UDP port nothing listens on (bound, then released). */
async function closedUdpPort(): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

describe('client SDK bundle in headless Chromium', function () {
  this.timeout(60_000 * TIME_FACTOR);
  let gw: GatewayProcess;
  let chrome: HeadlessChromium;
  const consoleLines: string[] = [];

  before(async function () {
    gw = await GatewayProcess.start(['--admin-demo', 'on'], { wt: true });
    chrome = await HeadlessChromium.launch();
  });
  after(async function () {
    await chrome?.close();
    await gw?.cleanup();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      console.log(`page console:\n  ${consoleLines.join('\n  ')}\n${gw.stderr}`);
  });

  async function demoPage(init?: () => void): Promise<Page> {
    const page = await chrome.newPage((line) => consoleLines.push(line));
    if (init) await page.addInitScript(init);
    await page.goto(`${gw.urls.admin}/demo#key=${gw.adminKey()}`);
    await page.waitForFunction(() => (globalThis as unknown as DemoGlobals).ferryDemo?.ready === true);
    return page;
  }

  it('connects over WebTransport and chats between two tabs with delivery acks; saves a screenshot', async function () {
    const alice = await demoPage();
    const bob = await demoPage();
    const a = await alice.evaluate(() =>
      (globalThis as unknown as DemoGlobals).ferryDemo.connect('demo-alice'),
    );
    const b = await bob.evaluate(() => (globalThis as unknown as DemoGlobals).ferryDemo.connect('demo-bob'));
    expect(a).to.include({ transport: 'wt', userId: 'demo-alice' });
    expect(b).to.include({ transport: 'wt', userId: 'demo-bob' });

    const ack = await alice.evaluate(() =>
      (globalThis as unknown as DemoGlobals).ferryDemo.send('demo-bob', 'hi bob'),
    );
    expect(ack.seq).to.be.above(0);
    await bob.waitForFunction(() => (globalThis as unknown as DemoGlobals).ferryDemo.messages.length > 0);
    const got = await bob.evaluate(() => (globalThis as unknown as DemoGlobals).ferryDemo.messages);
    expect(got).to.deep.equal([{ from: 'demo-alice', text: 'hi bob', seq: ack.seq, qos: 1 }]);
    await bob.evaluate(() =>
      (globalThis as unknown as DemoGlobals).ferryDemo.send('demo-alice', 'hello alice'),
    );
    await alice.waitForFunction(() => (globalThis as unknown as DemoGlobals).ferryDemo.messages.length > 0);

    // The page shows the transport and the ack.
    expect(await alice.textContent('#transport')).to.equal('WebTransport');
    expect(await alice.textContent('#log')).to.match(/acked, seq \d+ in \d+ ms/);
    mkdirSync('test-artifacts', { recursive: true });
    await alice.screenshot({ path: 'test-artifacts/demo.png', fullPage: true });
    await alice.context().close();
    await bob.context().close();
  });

  it('falls back to WebSocket when the browser has no WebTransport API', async function () {
    const page = await demoPage(() => {
      delete (globalThis as { WebTransport?: unknown }).WebTransport;
    });
    const info = await page.evaluate(() =>
      (globalThis as unknown as DemoGlobals).ferryDemo.connect('nowt-user'),
    );
    expect(info.transport).to.equal('ws');
    const attempts = await page.evaluate(() => (globalThis as unknown as DemoGlobals).ferryDemo.transports);
    expect(attempts[0]).to.deep.include({ kind: 'wt', ok: false });
    expect(attempts[0]!.error).to.match(/no WebTransport/);
    expect(attempts[1]).to.deep.include({ kind: 'ws', ok: true });
    await page.context().close();
  });

  it('falls back to WebSocket when the UDP port is closed, and remembers the fallback', async function () {
    const page = await chrome.newPage((line) => consoleLines.push(line));
    // tsx compiles this file with esbuild's keepNames: functions serialized into the page call __name.
    await page.addInitScript('globalThis.__name = (f) => f;');
    await page.goto(`${gw.urls.admin}/demo#key=${gw.adminKey()}`);
    await page.waitForFunction(() => (globalThis as unknown as DemoGlobals).ferryDemo?.ready === true);
    const port = await closedUdpPort();
    const token = await (
      await fetch(`${gw.urls.admin}/demo/token`, {
        method: 'POST',
        headers: gw.adminHeaders(),
        body: JSON.stringify({ user: 'udp-user' }),
      })
    ).json();
    const result = await page.evaluate(
      async ([wt, ws, tok]) => {
        const sdk = (await import('/client/ferry-client.js' as string)) as {
          connect(o: unknown): Promise<{ connection: { transport: string }; close(): Promise<void> }>;
        };
        const hashes = (
          (await (await fetch('/webtransport/cert-hashes')).json()) as { hashes: { value: string }[] }
        ).hashes.map((h) => h.value);
        const runs: { transport: string; attempts: string[] }[] = [];
        for (let i = 0; i < 2; i++) {
          const attempts: string[] = [];
          const client = await sdk.connect({
            endpoints: { wt, ws },
            token: tok,
            certHashes: hashes,
            transportTimeoutMs: 3000,
            on: {
              transport: (t: { kind: string; ok: boolean }) =>
                attempts.push(t.kind + (t.ok ? ':ok' : ':failed')),
            },
          });
          runs.push({ transport: client.connection.transport, attempts });
          await client.close();
        }
        return runs;
      },
      [`https://127.0.0.1:${port}/wt`, gw.urls.ws, (token as { token: string }).token] as const,
    );
    expect(result[0]).to.deep.equal({ transport: 'ws', attempts: ['wt:failed', 'ws:ok'] });
    // The second client (same origin storage) goes straight to WebSocket.
    expect(result[1]).to.deep.equal({ transport: 'ws', attempts: ['ws:ok'] });
    await page.context().close();
  });
});
