import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

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

/** How long `close()` waits for a polite browser exit before giving up on it. */
const CLOSE_TIMEOUT_MS = 10_000;

/** A headless Chromium with its own throw-away profile. */
export class HeadlessChromium {
  private closed = false;

  private constructor(
    readonly browser: Browser,
    private readonly userDataDir: string,
  ) {}

  /**
   * Launches Chromium through playwright-core with Playwright's own default switches turned off
   * (`ignoreDefaultArgs: true`), so the browser runs with CHROMIUM_FLAGS plus the two it cannot do
   * without: a fresh `--user-data-dir` and `--remote-debugging-pipe` (Playwright's control channel).
   */
  static async launch(): Promise<HeadlessChromium> {
    const userDataDir = await mkdtemp(join(tmpdir(), 'ferry-chromium-'));
    try {
      const browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        ignoreDefaultArgs: true,
        args: [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-pipe'],
        timeout: 30_000,
        env: browserEnv(),
        // mocha owns the signals; Playwright still kills the browser when this process exits.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      return new HeadlessChromium(browser, userDataDir);
    } catch (err) {
      await rm(userDataDir, { recursive: true, force: true });
      throw new Error(
        `cannot launch Chromium at ${CHROMIUM_PATH} (install it, or set FERRY_CHROMIUM): ${String(err)}`,
        { cause: err },
      );
    }
  }

  /** A page in a fresh browser context; console errors of the page are forwarded to `onConsole`. */
  async newPage(onConsole?: (line: string) => void): Promise<Page> {
    const context = await this.browser.newContext();
    const page = await context.newPage();
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
    await rm(this.userDataDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/**
 * The browser's environment: this process's, without LD_PRELOAD. Suites run under AddressSanitizer
 * (the native QUIC engine's ASan build needs libasan preloaded into the gateway processes) would
 * otherwise preload it into Chromium too, which then fails to start.
 */
export function browserEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, val] of Object.entries(process.env))
    if (val !== undefined && k !== 'LD_PRELOAD') env[k] = val;
  return env;
}
