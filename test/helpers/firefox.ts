import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { browserEnv } from './chromium.js';

/** The system Firefox ESR (Debian's package); FERRY_FIREFOX overrides it. */
export const FIREFOX_PATH = process.env.FERRY_FIREFOX ?? '/usr/bin/firefox-esr';

/**
 * Preferences that keep Firefox off the network (this machine and CI runners may have none): every
 * name resolves to localhost and DNS over HTTPS is off, so nothing the browser tries on its own
 * (updates, telemetry, safe browsing, remote settings) can leave the machine; the rest switch those
 * features off outright. Nothing here touches WebTransport, certificates or QUIC: the tests must
 * show a stock browser accepting Ferry through `serverCertificateHashes`.
 */
export const FIREFOX_PREFS: Readonly<Record<string, string | number | boolean>> = {
  'network.dns.native-is-localhost': true,
  'network.trr.mode': 5,
  'app.update.enabled': false,
  'app.update.auto': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'extensions.update.enabled': false,
  'browser.region.network.url': '',
  'services.settings.server': 'http://127.0.0.1:9/',
};

/** How long `close()` waits for a polite browser exit before giving up on it. */
const CLOSE_TIMEOUT_MS = 10_000;

/** A headless Firefox ESR driven over WebDriver BiDi (puppeteer-core), with its own profile. */
export class HeadlessFirefox {
  private closed = false;

  private constructor(
    readonly browser: Browser,
    private readonly profileDir: string,
  ) {}

  /**
   * Launches Firefox with FIREFOX_PREFS and `MOZ_REMOTE_SETTINGS_DEVTOOLS=1` (remote settings stay
   * local: no request to Mozilla's servers at start).
   */
  static async launch(): Promise<HeadlessFirefox> {
    const profileDir = await mkdtemp(join(tmpdir(), 'ferry-firefox-'));
    try {
      const browser = await puppeteer.launch({
        browser: 'firefox',
        executablePath: FIREFOX_PATH,
        headless: true,
        userDataDir: profileDir,
        extraPrefsFirefox: { ...FIREFOX_PREFS },
        env: { ...browserEnv(), MOZ_REMOTE_SETTINGS_DEVTOOLS: '1' },
        timeout: 60_000,
        // mocha owns the signals; puppeteer still kills the browser when this process exits.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      return new HeadlessFirefox(browser, profileDir);
    } catch (err) {
      await rm(profileDir, { recursive: true, force: true });
      throw new Error(
        `cannot launch Firefox at ${FIREFOX_PATH} (install firefox-esr, or set FERRY_FIREFOX): ${String(err)}`,
        { cause: err },
      );
    }
  }

  /** A new page; console messages of the page are forwarded to `onConsole`. */
  async newPage(onConsole?: (line: string) => void): Promise<Page> {
    const page = await this.browser.newPage();
    if (onConsole) page.on('console', (m) => onConsole(`${m.type()}: ${m.text()}`));
    return page;
  }

  /** Closes the browser (bounded wait) and deletes the profile. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.browser.close().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    await rm(this.profileDir, { recursive: true, force: true, maxRetries: 3 });
  }
}
