import { type BrowserServer, chromium } from 'playwright-core';

/** Debian's Chromium (Playwright's own browser download is not reachable from these machines). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * One headless Chromium for the whole test run; browser tests connect to it (chromium.connect) and
 * each opens its own context. --no-sandbox: the tests run as root.
 */
export function launchBrowserServer(): Promise<BrowserServer> {
  return chromium.launchServer({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'], headless: true });
}
