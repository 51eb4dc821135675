import { HeadlessChromium } from '../helpers/chromium.js';
import { HeadlessFirefox } from '../helpers/firefox.js';
import { describeBrowserWebTransport, type Evaluate } from './describe-browser-wt.js';

describeBrowserWebTransport('Chromium', async () => {
  const chrome = await HeadlessChromium.launch();
  return {
    async open(url, onConsole) {
      const page = await chrome.newPage(onConsole);
      await page.goto(url);
      // Playwright: evaluate(fn, arg).
      const evaluate: Evaluate = (fn, arg) => page.evaluate(fn as (a: unknown) => unknown, arg) as never;
      return { evaluate };
    },
    close: () => chrome.close(),
  };
});

describeBrowserWebTransport('Firefox ESR (WebDriver BiDi)', async () => {
  const firefox = await HeadlessFirefox.launch();
  return {
    async open(url, onConsole) {
      const page = await firefox.newPage(onConsole);
      await page.goto(url);
      // puppeteer: evaluate(fn, ...args).
      const evaluate: Evaluate = (fn, arg) => page.evaluate(fn as (a: unknown) => unknown, arg) as never;
      return { evaluate };
    },
    close: () => firefox.close(),
  };
});
