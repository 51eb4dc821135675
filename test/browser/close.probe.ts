/**
 * Server-close probe for WebTransport in Chromium, run by hand (not part of `npm test`):
 *
 *   node --import tsx test/browser/close.probe.ts [tries=50] [netlog.json]
 *
 * One page replaces the same device `tries` times in a row; each replacement closes the previous
 * session from the server (4505). Prints what `WebTransport.closed` gave the page each time and how
 * often it was the session's code and reason. With a second argument Chromium also writes its
 * NetLog there (QUIC frames sent and received, WebTransport state changes), the packet-level record
 * behind docs/protocol.md §2.3.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { GatewayProcess, testToken } from '../helpers/gateway-process.js';

interface ProbePage {
  ferryWt: {
    connect(name: string, opts: { token: string; deviceId: string }): Promise<{ ok: boolean }>;
    waitClosed(name: string, timeoutMs: number): Promise<Record<string, unknown>>;
  };
}

const tries = Number(process.argv[2] ?? 50);
const netlog = process.argv[3];
const gw = await GatewayProcess.start([], { wt: true });
const userDataDir = await mkdtemp(join(tmpdir(), 'ferry-close-probe-'));
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  ignoreDefaultArgs: true,
  args: [
    ...CHROMIUM_FLAGS,
    `--user-data-dir=${userDataDir}`,
    '--remote-debugging-pipe',
    ...(netlog === undefined ? [] : [`--log-net-log=${netlog}`]),
  ],
});
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${gw.urls.admin}/wt-test`);
  const token = await testToken('probe-user');
  const connect = (name: string): Promise<{ ok: boolean }> =>
    page.evaluate(
      ([n, t]) => (globalThis as unknown as ProbePage).ferryWt.connect(n, { token: t, deviceId: 'd' }),
      [name, token] as const,
    );
  let victim = 'c0';
  if (!(await connect(victim)).ok) throw new Error('first session refused');
  let seen = 0;
  for (let i = 1; i <= tries; i++) {
    const name = `c${i}`;
    if (!(await connect(name)).ok) throw new Error(`session ${name} refused`);
    const closed = await page.evaluate(
      ([n]) => (globalThis as unknown as ProbePage).ferryWt.waitClosed(n, 5000),
      [victim] as const,
    );
    if ('closeCode' in closed) seen++;
    console.log(`${i} ${JSON.stringify(closed)}`);
    victim = name;
  }
  console.log(`code and reason seen ${seen}/${tries}`);
} finally {
  await browser.close();
  await rm(userDataDir, { recursive: true, force: true });
  await gw.cleanup();
}
