import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { browserEnv, HeadlessBrowser, type BrowserLauncher } from './headless-browser.js';

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

/** How Firefox ESR is started (WebDriver BiDi through puppeteer-core) and opens a page. */
const FIREFOX: BrowserLauncher<Browser, Page> = {
  name: 'Firefox',
  executablePath: FIREFOX_PATH,
  installHint: 'install firefox-esr, or set FERRY_FIREFOX',
  /** FIREFOX_PREFS, and `MOZ_REMOTE_SETTINGS_DEVTOOLS=1`: no request to Mozilla's servers at start. */
  start: (profileDir) =>
    puppeteer.launch({
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
    }),
  async newPage(browser, onConsole) {
    const page = await browser.newPage();
    if (onConsole) page.on('console', (m) => onConsole(`${m.type()}: ${m.text()}`));
    return page;
  },
};

/** A headless Firefox ESR with its own profile. */
export type HeadlessFirefox = HeadlessBrowser<Browser, Page>;
export const HeadlessFirefox = {
  launch: (): Promise<HeadlessFirefox> => HeadlessBrowser.launch(FIREFOX),
};
