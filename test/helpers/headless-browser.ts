/**
 * One headless browser with its own throw-away profile, whatever drives it: the launchers in
 * chromium.ts (playwright-core) and firefox.ts (puppeteer-core over WebDriver BiDi) supply only how
 * to start it and open a page; the profile, the launch error and the bounded close live here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long `close()` waits for a polite browser exit before giving up on it. */
const CLOSE_TIMEOUT_MS = 10_000;

/** What differs between browsers: how to start one on a profile dir and open a page in it. */
export interface BrowserLauncher<B extends { close(): Promise<void> }, P> {
  /** Shown in errors, and the profile dir's prefix (lower-cased). */
  name: string;
  /** The executable, for the error when it cannot be launched. */
  executablePath: string;
  /** How to get the executable, for the same error. */
  installHint: string;
  start(profileDir: string): Promise<B>;
  /** A new page whose console lines go to `onConsole`. */
  newPage(browser: B, onConsole?: (line: string) => void): Promise<P>;
}

/** A launched browser; `close()` ends it and deletes its profile. */
export class HeadlessBrowser<B extends { close(): Promise<void> }, P> {
  private closed = false;

  private constructor(
    readonly browser: B,
    private readonly launcher: BrowserLauncher<B, P>,
    private readonly profileDir: string,
  ) {}

  /** Launches on a fresh profile dir; rejects saying where the executable was looked for. */
  static async launch<B extends { close(): Promise<void> }, P>(
    launcher: BrowserLauncher<B, P>,
  ): Promise<HeadlessBrowser<B, P>> {
    const profileDir = await mkdtemp(join(tmpdir(), `ferry-${launcher.name.toLowerCase()}-`));
    try {
      return new HeadlessBrowser(await launcher.start(profileDir), launcher, profileDir);
    } catch (err) {
      await rm(profileDir, { recursive: true, force: true });
      throw new Error(
        `cannot launch ${launcher.name} at ${launcher.executablePath} (${launcher.installHint}): ${String(err)}`,
        { cause: err },
      );
    }
  }

  /** A new page; console messages of the page are forwarded to `onConsole`. */
  newPage(onConsole?: (line: string) => void): Promise<P> {
    return this.launcher.newPage(this.browser, onConsole);
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

/**
 * The environment a browser is started with: this process's, less LD_PRELOAD. An AddressSanitizer run
 * (the native QUIC engine's ASan build needs libasan preloaded into the gateway processes) would
 * otherwise preload it into the browser too, which then fails to start.
 */
export function browserEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, val] of Object.entries(process.env))
    if (val !== undefined && k !== 'LD_PRELOAD') env[k] = val;
  return env;
}
