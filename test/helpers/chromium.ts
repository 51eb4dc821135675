import { chromium, type Browser, type Page } from 'playwright-core';
import { browserEnv, HeadlessBrowser, type BrowserLauncher } from './headless-browser.js';

/** The system Chromium (Debian's package); FERRY_CHROMIUM overrides it. */
export const CHROMIUM_PATH = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Exactly the flags Chromium gets (../shared/docs/webtransport.md): headless, no sandbox (containers),
 * and no attempts at outside connections (this machine and CI runners may have no network). Never
 * `--disable-quic`, and nothing that forces QUIC or ignores certificate errors: the tests must show a
 * stock browser accepting Ferry through `serverCertificateHashes`.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * How Chromium is started: through playwright-core with Playwright's own default switches turned off
 * (`ignoreDefaultArgs: true`), so the browser runs with CHROMIUM_FLAGS plus the two it cannot do
 * without: a fresh `--user-data-dir` and `--remote-debugging-pipe` (Playwright's control channel).
 */
const CHROMIUM: BrowserLauncher<Browser, Page> = {
  name: 'Chromium',
  executablePath: CHROMIUM_PATH,
  installHint: 'install it, or set FERRY_CHROMIUM',
  start: (userDataDir) =>
    chromium.launch({
      executablePath: CHROMIUM_PATH,
      ignoreDefaultArgs: true,
      args: [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-pipe'],
      timeout: 30_000,
      env: browserEnv(),
      // mocha owns the signals; Playwright still kills the browser when this process exits.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    }),
  /** Each page in a fresh browser context. */
  async newPage(browser, onConsole) {
    const context = await browser.newContext();
    const page = await context.newPage();
    if (onConsole) page.on('console', (m) => onConsole(`${m.type()}: ${m.text()}`));
    return page;
  },
};

/** A headless Chromium with its own throw-away profile. */
export type HeadlessChromium = HeadlessBrowser<Browser, Page>;
export const HeadlessChromium = {
  launch: (): Promise<HeadlessChromium> => HeadlessBrowser.launch(CHROMIUM),
};
