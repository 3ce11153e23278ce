import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { webService, workspaceFiles } from './support/templates.js';

// The spec's loop: a cell fails, a person fixes the cause in the workspace's config, and retry
// provisions with the fixed config — no restart, no editing inside the worktree.
const broken = { label: 'Broken setup', setup: ['exit 3'], services: { web: webService } };

describe('fixes take', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('retry-replan', workspaceFiles({ fixme: broken }));
  });
  afterAll(() => h?.close());

  const writeConfig = async (templates: object, message: string) => {
    await writeFile(path.join(h.workspace.path, 'hive.config.json'), JSON.stringify({ templates }, null, 2));
    await simpleGit(h.workspace.path).add('hive.config.json');
    await simpleGit(h.workspace.path).commit(message);
  };

  it('an edited and committed hive.config.json is picked up without a restart', async () => {
    await writeConfig({ fixme: { ...broken, label: 'Relabelled' } }, 'relabel');
    const templates = (await h.app.inject({ url: '/templates?workspace=demo' })).json().templates;
    expect(templates.map((t: { label: string }) => t.label)).toEqual(['Relabelled']);
  });

  it('config fixed and committed → retry → ready with the new config; the events say what changed', async () => {
    await writeConfig({ fixme: broken }, 'broken again');
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'fixme', brief: 'fix me' },
    });
    const { id } = response.json();
    const failed = await waitForStatus(h, id, ['failed']);
    expect(failed.failure).toMatchObject({ step: 'environment', type: 'SetupFailed' });
    const validated = failed.steps.find((s) => s.name === 'validate');

    await writeConfig({ fixme: { ...broken, setup: ['echo fixed > .hive/fixed-by-config'] } }, 'fix setup');
    expect((await h.app.inject({ method: 'POST', url: `/cells/${id}/retry` })).statusCode).toBe(202);
    const ready = await waitForStatus(h, id, ['ready'], 60_000);
    expect(await readFile(path.join(ready.worktreePath ?? '', '.hive', 'fixed-by-config'), 'utf8')).toBe(
      'fixed\n',
    );
    // The validate step is not redone as a step; the re-plan is an event saying what changed.
    expect(ready.steps.find((s) => s.name === 'validate')?.startedAt).toBe(validated?.startedAt);
    const events = await h.db.cellEvent.findMany({ where: { cellId: id, type: 'plan' } });
    expect(events.map((e) => JSON.parse(e.data).changed)).toEqual([['setup']]);
  });
});
