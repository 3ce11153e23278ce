import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/auth/tokens.js';
import { connectBrowser, openPage, screenshotDir } from './support/browser.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { webService, workspaceFiles } from './support/templates.js';

// The dashboard in a real Chromium against the real stack: the API listening on a port, a worker
// on the shared dev server, a real git workspace, real service processes.

/** An HTTP service that takes a few seconds to come up, so provisioning can be watched. */
const slowServer = `const http = require('node:http');
console.log('warming up');
setTimeout(() => {
  http
    .createServer((req, res) => res.end(req.url === '/health' ? 'ok' : 'hello from ' + process.env.HIVE_CELL_ID))
    .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
}, 4000);
`;

const web = {
  label: 'Web app',
  description: 'A Node web server on a free port',
  requirements: { executables: { node: '>=18' } },
  resources: { memoryMb: 256, provisionSeconds: 30 },
  options: {
    greeting: { type: 'string', description: 'What the app says', default: 'hello' },
    size: { type: 'enum', values: ['small', 'large'], default: 'small' },
    debug: { type: 'boolean', default: false },
  },
  services: { web: { ...webService, run: 'node slow-server.js' } },
};
const hangs = {
  label: 'Never ready',
  services: {
    late: {
      run: 'sleep 120',
      readiness: { type: 'exec', command: 'false', periodMs: 200 },
      readyTimeoutMs: 90_000,
    },
  },
};
const needsFix = {
  label: 'Needs a fix',
  setup: ['test -f fixed.txt || { echo "fixed.txt is missing: commit it to the workspace"; exit 3; }'],
  services: { web: webService },
};
const missingTool = {
  label: 'Needs a missing tool',
  requirements: { executables: { 'hive-no-such-tool': '*' } },
};
const templates = { web, hangs, needsFix, missingTool };

let h: Harness;
let base: string;
let browser: Browser;

beforeAll(async () => {
  h = await createHarness(
    'dashboard',
    { ...workspaceFiles(templates), 'slow-server.js': slowServer },
    { preserveFailedForMs: 30 * 60_000 },
  );
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const address = h.app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  browser = await connectBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function commitConfig(config: object, message: string) {
  await writeFile(path.join(h.workspace.path, 'hive.config.json'), JSON.stringify(config, null, 2));
  await simpleGit(h.workspace.path).add('hive.config.json');
  await simpleGit(h.workspace.path).commit(message);
}

async function shot(page: Page, name: string) {
  if (screenshotDir)
    await page.screenshot({ path: path.join(screenshotDir, `dashboard-${name}.png`), fullPage: true });
}

const cellIdOf = (page: Page) => /#\/cells\/(c[0-9a-z]+)/.exec(page.url())?.[1] ?? '';
const stateOf = (page: Page, step: string) =>
  page.locator(`[data-step="${step}"]`).getAttribute('data-state');
const headStatus = (page: Page, status: string) =>
  page.locator(`h1 [data-status="${status}"]`).waitFor({ timeout: 90_000 });

let readyCell = '';

describe('the dashboard, in a real browser', () => {
  it('serves the page and its assets from Hive itself', async () => {
    const html = await fetch(`${base}/`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toContain("default-src 'self'");
    const js = await fetch(`${base}/dashboard/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const again = await fetch(`${base}/dashboard/app.js`, {
      headers: { 'if-none-match': js.headers.get('etag') ?? '' },
    });
    expect(again.status).toBe(304);
  });

  it('picks a template, fills its options, submits, watches the steps and the ETA live, opens the service', async () => {
    const { context, page, errors } = await openPage(browser);
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) external.push(r.url());
    });
    await page.goto(`${base}/#/new`);

    // The catalog: every template with what it needs and uses; a missing tool is found before submitting.
    const card = page.locator('[data-template="web"]');
    await card.waitFor();
    expect(await card.textContent()).toMatch(/node >=18.*256 MB RAM.*about 30 s \(declared\)/s);
    await page.locator('[data-template="missingTool"]').click();
    await page.locator('[data-compat="incompatible"]').waitFor();
    expect(await page.locator('.findings').textContent()).toContain('hive-no-such-tool');
    expect(await page.getByRole('button', { name: 'Create cell' }).isDisabled()).toBe(true);

    await card.click();
    await page.locator('[data-compat="ok"], [data-compat="warnings"]').first().waitFor();
    // The options form, from the template's JSON Schema: defaults filled, enum as a select.
    const greeting = page.getByLabel('greeting');
    expect(await greeting.inputValue()).toBe('hello');
    await greeting.fill('hi there');
    await page.getByLabel('size').selectOption('large');
    await page.getByLabel('debug').check();
    await page.getByLabel('Brief').fill('Add a dark mode toggle');
    await page.getByLabel('Constraints').fill('Keep the bundle small\nNo new dependencies');
    await page.locator('[data-compat="ok"], [data-compat="warnings"]').first().waitFor();
    await shot(page, 'new');
    await page.getByRole('button', { name: 'Create cell' }).click();

    await page.waitForURL(/#\/cells\/c/);
    readyCell = cellIdOf(page);
    // Steps turn done while the service is still coming up; the ETA counts down meanwhile.
    await page.locator('[data-step="services.web"][data-state="running"]').waitFor({ timeout: 60_000 });
    expect(await stateOf(page, 'worktree')).toBe('done');
    expect(await stateOf(page, 'prompt')).toBe('waiting');
    const eta = page.locator('[data-eta-seconds]');
    const first = Number(await eta.getAttribute('data-eta-seconds'));
    await expect
      .poll(
        async () =>
          Number((await eta.getAttribute('data-eta-seconds', { timeout: 1_000 }).catch(() => -1)) ?? -1),
        {
          timeout: 20_000,
        },
      )
      .toBeLessThan(first);

    await headStatus(page, 'ready');
    for (const step of ['validate', 'worktree', 'ports', 'environment', 'services.web', 'prompt']) {
      expect(await stateOf(page, step), step).toBe('done');
    }
    // What the cell is: options as requested, ports, env names, the prompt, and the service's URL.
    expect(await page.locator('section[aria-labelledby="workplace"]').textContent()).toContain(
      'greeting="hi there"',
    );
    expect(await page.locator('[data-worktree]').textContent()).toBe(
      `${h.workspace.path}/.cells/${readyCell}`,
    );
    await page.getByRole('button', { name: 'Copy prompt' }).waitFor();
    const popup = page.waitForEvent('popup');
    await page.locator('[data-service="web"] a').click();
    const service = await popup;
    await service.waitForLoadState();
    expect(await service.textContent('body')).toBe(`hello from ${readyCell}`);
    await service.close();
    await shot(page, 'cell');

    // The list shows it, filters work.
    await page.goto(`${base}/#/`);
    await page.locator(`[data-cell="${readyCell}"] [data-status="ready"]`).waitFor();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No cell matches these filters.').waitFor();

    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await context.close();
  });

  it('cancels a cell whose readiness never comes, with a confirmation, and shows the rollback to cancelled', async () => {
    const { context, page, errors } = await openPage(browser, { width: 420, height: 900 });
    await page.goto(`${base}/#/new`);
    await page.locator('[data-template="hangs"]').click();
    await page.getByLabel('Brief').fill('This one never gets ready');
    await page.getByRole('button', { name: 'Create cell' }).click();
    await page.waitForURL(/#\/cells\/c/);

    // The current operation, in words, while the readiness probe keeps failing.
    const late = page.locator('[data-step="services.late"]');
    await page.locator('[data-step="services.late"][data-state="running"]').waitFor({ timeout: 60_000 });
    await expect
      .poll(async () => (await late.locator('.step-op').textContent())?.trim() ?? '', { timeout: 30_000 })
      .not.toBe('');

    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this cell?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel and roll back' }).click();
    await headStatus(page, 'cancelled');
    await page.locator('[data-undo="worktree"][data-state="undone"]').waitFor();
    await page.locator('[data-undo="ports"][data-state="undone"]').waitFor();
    expect(await stateOf(page, 'services.late')).toBe('undone');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a preserved failure with its hint and log tail; the cause fixed and committed, Retry makes it ready', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'needsFix', brief: 'fix me' },
    });
    const { id } = created.json();
    const { context, page, errors } = await openPage(browser);
    await page.goto(`${base}/#/cells/${id}`);
    await headStatus(page, 'failed');
    const failure = page.locator('section.failure');
    expect(await failure.textContent()).toMatch(/Provisioning failed at environment.*SetupFailed/s);
    expect(await failure.locator('pre').textContent()).toContain('fixed.txt is missing');
    expect(await failure.locator('[data-deadline]').textContent()).toMatch(/Rolls back by itself in \d+ min/);
    expect(await stateOf(page, 'environment')).toBe('failed');
    await shot(page, 'failed');

    await commitConfig(
      { templates: { ...templates, needsFix: { ...needsFix, setup: ['echo fixed'] } } },
      'fix setup',
    );
    await failure.getByRole('button', { name: 'Retry from environment' }).click();
    await headStatus(page, 'ready');
    expect(await page.locator('section.failure').count()).toBe(0);
    expect(await stateOf(page, 'environment')).toBe('done');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('archives a ready cell after saying what happens to uncommitted work', async () => {
    expect(readyCell).not.toBe('');
    const { context, page, errors } = await openPage(browser);
    await page.goto(`${base}/#/cells/${readyCell}`);
    await headStatus(page, 'ready');
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Archive this cell?' });
    expect(await dialog.textContent()).toContain(`refs/hive/archive/${readyCell}`);
    await dialog.getByRole('button', { name: 'Archive', exact: true }).click();
    await headStatus(page, 'archived');
    await page.getByRole('button', { name: 'Restore' }).waitFor();
    await page.locator('#archive-record').waitFor();
    expect(errors).toEqual([]);
    await context.close();
    await waitForStatus(h, readyCell, ['archived']);
  });

  it('shows the problems of a broken config instead of its templates', async () => {
    await writeFile(
      path.join(h.workspace.path, 'hive.config.json'),
      JSON.stringify({ templates: { web: { label: 7 } } }),
    );
    const { context, page } = await openPage(browser);
    await page.goto(`${base}/#/new`);
    const problems = page.locator('.config-problems');
    await problems.waitFor();
    expect(await problems.textContent()).toMatch(/does not load.*hive\.config\.json.*templates\.web\.label/s);
    expect(await page.locator('[data-template]').count()).toBe(0);
    await context.close();
  });

  it('asks for an API token once tokens exist, keeps it and sends it (the streams too)', async () => {
    const { secret } = await createToken(h.db, { name: 'browser', role: 'viewer' });
    const { context, page, errors } = await openPage(browser);
    await page.goto(`${base}/#/`);
    const dialog = page.getByRole('dialog', { name: 'This Hive needs an API token' });
    await dialog.waitFor();
    await dialog.getByLabel('API token').fill(secret);
    await dialog.getByRole('button', { name: 'Use this token' }).click();
    await page.locator(`[data-cell="${readyCell}"]`).waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    await page.reload();
    await page.locator(`[data-cell="${readyCell}"]`).waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
