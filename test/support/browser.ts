import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { inject } from 'vitest';

/** Connects to the run's shared Chromium (test/support/globalSetup.ts). */
export function connectBrowser(): Promise<Browser> {
  return chromium.connect(inject('chromiumWsEndpoint'));
}

/** A fresh context (own storage: no token kept from another test) with a page, errors surfaced. */
export async function openPage(
  browser: Browser,
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, errors };
}

/** Where screenshots go when asked for (DASHBOARD_SCREENSHOTS=docs writes the README's pictures). */
export const screenshotDir = process.env.DASHBOARD_SCREENSHOTS;
