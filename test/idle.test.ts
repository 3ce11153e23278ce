import { readFile } from 'node:fs/promises';
import path from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSameProcess } from '../src/activities/processes.js';
import { cellDetail } from '../src/cells/views.js';
import { cgroupSupport } from '../src/cgroups/detect.js';
import { controllerDir } from '../src/cgroups/paths.js';
import { type HiveProxy, startProxy } from '../src/proxy/index.js';
import { createWaker } from '../src/proxy/wake.js';
import { connectBrowser, openPage } from './support/browser.js';
import { requestCell } from './support/cells.js';
import { curlFirstByte } from './support/curl.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';
import { listening } from './support/residue.js';
import { webService, workspaceFiles } from './support/templates.js';

// Idle cells, for real: the host's supervisor sees nothing going on for the template's `idle.afterMs`,
// the workflow suspends the cell (its processes frozen in their cgroup, or its services stopped), and
// the first request through Hive's proxy (or POST /cells/:id/resume) wakes it.

const idle = (mode: 'freeze' | 'stop') => ({
  label: `Sleeps (${mode})`,
  services: { web: webService },
  idle: { afterMs: 3_000, mode },
});

let h: Harness;
let proxy: HiveProxy;
let stopWaker: () => void;
let port: number;

beforeAll(async () => {
  port = await getPort();
  h = await createHarness('idle', workspaceFiles({ freezes: idle('freeze'), stops: idle('stop') }), {
    proxy: { port, domain: 'localhost' },
  });
  proxy = await startProxy({ db: h.db, hostId: 'test-host', host: '127.0.0.1', port, domain: 'localhost' });
  const waker = createWaker({ db: h.db, client: h.client, proxy });
  proxy.setBeforeForward(waker.beforeForward);
  stopWaker = waker.stop;
});
afterAll(async () => {
  stopWaker?.();
  await proxy?.close();
  await h?.close();
});

const get = curlFirstByte;

const activitiesOf = async (workflowId: string) =>
  ((await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).flatMap(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
  );

describe('idle cells', () => {
  it('frozen when idle, memory kept; the first request through its URL thaws it and is answered', async () => {
    const id = await requestCell(h, 'freezes');
    const ready = await waitForStatus(h, id, ['ready']);
    const pid = ready.services[0]?.pid ?? 0;
    const suspended = await waitForStatus(h, id, ['suspended'], 60_000);
    expect(suspended.suspended).toMatchObject({ mode: 'freeze', why: expect.stringMatching(/idle for/) });
    expect(suspended.actions).toEqual(expect.arrayContaining(['resume', 'archive']));
    const support = await cgroupSupport();
    const freezer = controllerDir(support, id, 'freezer');
    if (support.kind === 'v1' && freezer) {
      expect((await readFile(path.join(freezer, 'freezer.state'), 'utf8')).trim()).toBe('FROZEN');
    }
    // Its process is still there (memory kept), just not running.
    expect(await isSameProcess(pid, null)).toBe(true);

    const answered = await get(`http://web.${id}.localhost:${port}/health`);
    expect(answered.status).toBe(200);
    const awake = await cellDetail(h.db, id);
    expect(awake?.status).toBe('ready');
    expect(awake?.suspended).toBeNull();
    // The same process, thawed: nothing was restarted.
    expect(awake?.services[0]?.pid).toBe(pid);
    expect(await activitiesOf(ready.workflowId)).toEqual(expect.arrayContaining(['suspendCell', 'wakeCell']));
  });

  it('stopped when idle; POST /cells/:id/resume starts its services again', async () => {
    const id = await requestCell(h, 'stops');
    const ready = await waitForStatus(h, id, ['ready']);
    const before = ready.services[0];
    await waitForStatus(h, id, ['suspended'], 60_000);
    const asleep = await cellDetail(h.db, id);
    expect(asleep?.suspended?.mode).toBe('stop');
    expect(asleep?.services[0]?.status).toBe('stopped');
    expect(await isSameProcess(before?.pid ?? 0, null)).toBe(false);
    expect(await listening(before?.port ?? 0)).toBe(false);

    const resumed = await h.app.inject({ method: 'POST', url: `/cells/${id}/resume` });
    expect(resumed.statusCode, resumed.body).toBe(202);
    const awake = await waitForStatus(h, id, ['ready']);
    expect(awake.services[0]?.status).toBe('ready');
    expect(await listening(awake.services[0]?.port ?? 0)).toBe(true);
    // Not suspended: resume is refused with what the state allows.
    const again = await h.app.inject({ method: 'POST', url: `/cells/${id}/resume` });
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toMatch(/problem\+json/);
  });

  it('a cell with requests flowing through its URL is not suspended; a browser wakes it later', async () => {
    const id = await requestCell(h, 'freezes');
    await waitForStatus(h, id, ['ready']);
    // Twice the idle time, a request every 300 ms.
    const until = Date.now() + 7_000;
    while (Date.now() < until) {
      expect((await get(`http://${id}.localhost:${port}/health`)).status).toBe(200);
      expect((await cellDetail(h.db, id))?.status).toBe('ready');
      await new Promise((r) => setTimeout(r, 300));
    }
    // Left alone, it sleeps; a browser opening its URL wakes it and gets the page.
    await eventually(
      async () => ((await cellDetail(h.db, id))?.status === 'suspended' ? true : undefined),
      'suspended once left alone',
      60_000,
    );
    const browser = await connectBrowser();
    try {
      const { context, page } = await openPage(browser);
      const response = await page.goto(`http://${id}.localhost:${port}/`, { timeout: 60_000 });
      expect(response?.status()).toBe(200);
      expect(await page.textContent('body')).toBe(`hello from ${id}`);
      expect((await cellDetail(h.db, id))?.status).toBe('ready');
      await context.close();
    } finally {
      await browser.close();
    }
  });
});
