import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSameProcess, terminateGroup } from '../src/activities/processes.js';
import type { CellDetail } from '../src/cells/schema.js';
import { cellDetail } from '../src/cells/views.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import {
  embeddedStack,
  eventually,
  type HiveProcess,
  isAlive,
  nodeProcessesIn,
  pidsMatching,
  removeEmbeddedStack,
  spawnHive,
  spawnWorker,
} from './support/process.js';
import { workspaceFiles } from './support/templates.js';

// A server that takes a few seconds to listen: long enough to crash things while its cell waits.
const slowServer = `setTimeout(() => {
  require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
}, Number(process.env.DELAY_MS || 4000));
`;
const slowTemplate = {
  slow: {
    label: 'Slow to start',
    services: {
      web: {
        run: 'node slow.js',
        env: { DELAY_MS: '4000' },
        readiness: { type: 'http', path: '/', periodMs: 200 },
      },
    },
  },
};
// A setup step that notes each run's start and end; the first run takes long enough to crash during.
const notingSetup = `const { appendFileSync, existsSync, writeFileSync } = require('node:fs');
const first = !existsSync('.hive/first-setup-started');
writeFileSync('.hive/first-setup-started', '');
appendFileSync('.hive/setup-runs', 'start ' + process.pid + '\\n');
setTimeout(() => appendFileSync('.hive/setup-runs', 'end ' + process.pid + '\\n'), first ? 20000 : 500);
`;
const crashTemplates = {
  ...slowTemplate,
  slowSetup: { label: 'Slow first setup', setup: ['node setup.js'], services: {} },
};
const files = { ...workspaceFiles(crashTemplates), 'slow.js': slowServer, 'setup.js': notingSetup };

describe('kill -9 of the worker in the middle of the services step', () => {
  let h: Harness;
  const workers: HiveProcess[] = [];
  beforeAll(async () => {
    h = await createHarness('crash-worker', files, { worker: false });
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await h?.close();
  });

  const worker = () => {
    const w = spawnWorker(h);
    workers.push(w);
    return w;
  };

  /** A worker up, and a cell of `template` requested from it. */
  const cellOnAWorker = async (template: string) => {
    const first = worker();
    await first.ready;
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template, brief: 'survive a crash' },
    });
    return { first, id: response.json().id as string };
  };

  it('a restarted worker finishes the cell, adopting the one process per service', async () => {
    const { first, id } = await cellOnAWorker('slow');
    const waiting = await eventually(async () => {
      const cell = await cellDetail(h.db, id);
      return cell?.steps.find((s) => s.name === 'services.web.ready' && s.status === 'running')
        ? cell
        : undefined;
    }, 'waiting for web readiness');
    const pid = waiting.services[0]?.pid;
    first.child.kill('SIGKILL');
    await first.child;

    const second = worker();
    await second.ready;
    const cell = await waitForStatus(h, id, ['ready'], 120_000);
    expect(cell.services[0]?.pid).toBe(pid);
    expect(await nodeProcessesIn(cell.worktreePath ?? '', 'slow.js')).toHaveLength(1);
    second.child.kill('SIGTERM');
    await second.child;
  }, 240_000);

  it('setup after a crash first ends the setup the dead worker left running (never two at once)', async () => {
    const { first, id } = await cellOnAWorker('slowSetup');
    const worktree = path.join(h.workspace.path, '.cells', id);
    const runs = () => readFile(path.join(worktree, '.hive/setup-runs'), 'utf8').catch(() => '');
    const started = await eventually(
      async () => (await runs()).match(/^start (\d+)$/m)?.[1],
      'setup started',
    );
    first.child.kill('SIGKILL');
    await first.child;
    expect(await isSameProcess(Number(started), null), 'the first setup outlives its worker').toBe(true);

    const second = worker();
    await second.ready;
    await waitForStatus(h, id, ['ready'], 120_000);
    const lines = (await runs()).trim().split('\n');
    expect(lines[0]).toBe(`start ${started}`);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^start \d+$/);
    expect(lines[2]).toBe(`end ${lines[1]?.slice('start '.length)}`);
    expect(await isSameProcess(Number(started), null), 'the first setup still runs').toBe(false);
    second.child.kill('SIGTERM');
    await second.child;
  }, 240_000);
});

describe('kill -9 of the whole embedded stack, then start it again', () => {
  let stack: Awaited<ReturnType<typeof embeddedStack>>;
  let env: Record<string, string>;
  let up: HiveProcess | undefined;
  const api = (p: string) => `http://127.0.0.1:${env.HIVE_PORT}${p}`;
  const getCell = async (id: string) => (await (await fetch(api(`/cells/${id}`))).json()) as CellDetail;

  beforeAll(async () => {
    stack = await embeddedStack('hive-crash-', files);
    ({ env } = stack);
  });
  afterAll(async () => {
    if (!stack) return;
    await removeEmbeddedStack(stack, up, async () => {
      // The cell's own service outlives Hive by design; this test owns it, so it ends it.
      for (const pid of await nodeProcessesIn(stack.repo, 'slow.js')) process.kill(pid, 'SIGKILL');
    });
  });

  it('the in-flight cell finishes from the dev server history; a host restart is reconciled', async () => {
    up = spawnHive('up', env);
    await up.ready;
    const created = await fetch(api('/cells'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workspace: 'app', template: 'slow', brief: 'survive everything' }),
    });
    const { id } = (await created.json()) as { id: string };
    await eventually(
      async () => ((await getCell(id)).progress.currentStep === 'services.web.ready' ? true : undefined),
      'services',
    );

    // Everything hive up runs dies at once: API, worker and the embedded Temporal dev server.
    const server = await pidsMatching(`--port ${env.HIVE_TEMPORAL_PORT} `);
    up.child.kill('SIGKILL');
    for (const pid of server) process.kill(pid, 'SIGKILL');
    await up.child;

    up = spawnHive('up', env);
    await up.ready;
    const ready = await eventually(
      async () => {
        const cell = await getCell(id);
        return cell.status === 'ready' ? cell : undefined;
      },
      'cell ready after the restart',
      120_000,
    );
    expect(await nodeProcessesIn(ready.worktreePath ?? '', 'slow.js')).toHaveLength(1);

    // Host restart: Hive stops cleanly, then every service process vanishes while nothing of Hive runs.
    up.child.kill('SIGTERM');
    await up.child;
    const before = ready.services[0];
    if (!before?.pid) throw new Error('no service pid');
    await terminateGroup(before.pid, 1_000);
    up = spawnHive('up', env);
    await up.ready;
    const reconciled = await eventually(
      async () => {
        const cell = await getCell(id);
        const web = cell.services[0];
        return cell.status === 'ready' && web?.status === 'ready' && web.pid !== before.pid
          ? cell
          : undefined;
      },
      'service restarted by supervision',
      120_000,
    );
    const after = reconciled.services[0];
    // The record points at the live process, and only one runs.
    expect(await isSameProcess(after?.pid ?? 0, null)).toBe(true);
    expect(await nodeProcessesIn(reconciled.worktreePath ?? '', 'slow.js')).toEqual([expect.any(Number)]);
    expect(reconciled.ports.every((p) => p.active)).toBe(true);
    await terminateGroup(after?.pid ?? 0, 1_000);

    // Only `hive up` killed: its dev server lives on as an orphan; the next start takes it over.
    const orphans = await pidsMatching(`--port ${env.HIVE_TEMPORAL_PORT} `);
    up.child.kill('SIGKILL');
    await up.child;
    expect(orphans.some((pid) => isAlive(pid))).toBe(true);
    up = spawnHive('up', env);
    await up.ready;
    for (const pid of orphans) expect(isAlive(pid)).toBe(false);
    expect((await getCell(id)).status).toMatch(/ready|degraded/);
  }, 300_000);
});
