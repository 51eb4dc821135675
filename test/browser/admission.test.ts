import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { HeadlessChromium } from '../helpers/chromium.js';
import { GatewayProcess, testToken } from '../helpers/gateway-process.js';
import { certHashes, WtWireClient } from '../integration/webtransport-gateway/wt-wire-client.js';
import { TIME_FACTOR } from '../helpers/time-factor.js';

/** Opens `new WebTransport(url)` in the page; resolves with how it ended and after how many ms. */
function openInPage(
  page: Page,
  url: string,
  hashes: string[],
): Promise<{ ready: boolean; ms: number; error: string }> {
  return page.evaluate(
    async ([u, hs]) => {
      const started = performance.now();
      const serverCertificateHashes = hs.map((h) => ({
        algorithm: 'sha-256',
        value: Uint8Array.from(atob(h), (c) => c.charCodeAt(0)),
      }));
      // The browser's WebTransport (no DOM types in this project).
      const { WebTransport } = globalThis as unknown as {
        WebTransport: new (url: string, opts: object) => { ready: Promise<void>; close(): void };
      };
      const wt = new WebTransport(u, { serverCertificateHashes });
      try {
        await wt.ready;
        wt.close();
        return { ready: true, ms: performance.now() - started, error: '' };
      } catch (err) {
        return { ready: false, ms: performance.now() - started, error: String(err) };
      }
    },
    [url, hashes] as const,
  );
}

/**
 * A browser over the per-IP limit is refused during its QUIC handshake (docs/protocol.md §6.2): the
 * node answers the Initial with CONNECTION_CLOSE (CONNECTION_REFUSED), which Chromium reads at once,
 * so the page's `ready` fails in moments instead of after a timeout, and no session is ever opened.
 */
describe('admission in headless Chromium (WebTransport over the per-IP limit)', function () {
  this.timeout(60_000 * TIME_FACTOR);
  let gw: GatewayProcess;
  let chrome: HeadlessChromium;
  let page: Page;

  before(async function () {
    gw = await GatewayProcess.start(['--connections-per-ip', '1'], { wt: true });
    chrome = await HeadlessChromium.launch();
    page = await chrome.newPage();
    await page.goto(`${gw.urls.admin}/wt-test`);
  });
  after(async function () {
    await chrome?.close();
    await gw?.cleanup();
  });

  it('refuses the page at once while another connection from its address holds the only slot', async function () {
    const hashes = (await certHashes(gw.urls.admin)).hashes.map((h) => h.value);
    const holder = await WtWireClient.login(gw.urls.wt, hashes, await testToken('holder'));
    try {
      const refused = await openInPage(page, gw.urls.wt, hashes);
      expect(refused.ready, refused.error).to.equal(false);
      // Chromium's own handshake timeout is far longer; a dropped or unreadable refusal would hit it.
      expect(refused.ms).to.be.below(5000);
    } finally {
      holder.close();
    }
  });
});
