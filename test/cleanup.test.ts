import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellDetail } from '../src/cells/views.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';
import { expectZeroResidue } from './support/residue.js';
import { webService, workspaceFiles } from './support/templates.js';

const templates = {
  web: { label: 'Web', services: { web: webService } },
  badSetup: { label: 'Bad setup', setup: ['exit 3'], services: { web: webService } },
};

describe('a clean-up that fails is shown, never hidden', () => {
  let h: Harness;
  beforeAll(async () => {
    // The first removal of a worktree fails (a real run, one injected fault); later ones are real.
    h = await createHarness('cleanup', workspaceFiles(templates), { faults: { removeWorktree: 'once' } });
  });
  afterAll(() => h?.close());

  it('rollback with a failing compensation → cleanup_failed with the residue; cleanup again → rolled_back, zero residue', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'badSetup', brief: 'x', onFailure: 'rollback' },
    });
    const { id } = response.json();
    const stuck = await waitForStatus(h, id, ['cleanup_failed', 'rolled_back']);
    expect(stuck.status).toBe('cleanup_failed');
    // The original failure stays, with what the clean-up could not undo.
    expect(stuck.failure).toMatchObject({ step: 'environment', type: 'SetupFailed' });
    expect(stuck.failure?.residue).toEqual([
      expect.objectContaining({ step: 'worktree', type: 'InjectedFault' }),
    ]);
    expect(stuck.failure?.hint).toMatch(/cleanup/);
    expect(stuck.actions).toEqual(['cleanup']);
    // It really is left: the worktree is still there.
    expect((await simpleGit(h.workspace.path).raw(['worktree', 'list'])).includes(id)).toBe(true);
    expect((await h.app.inject({ method: 'POST', url: `/cells/${id}/retry` })).statusCode).toBe(409);

    const again = await h.app.inject({ method: 'POST', url: `/cells/${id}/cleanup` });
    expect(again.statusCode, again.body).toBe(202);
    const done = await waitForStatus(h, id, ['rolled_back']);
    expect(done.failure).toMatchObject({ step: 'environment', type: 'SetupFailed' });
    expect(done.failure?.residue).toBeUndefined();
    await expectZeroResidue(h.db, h.workspace.path, id);
  });
});

describe('commands sent the moment a cell turns ready', () => {
  let h: Harness;
  beforeAll(async () => {
    // The ready transition's completion reaches the workflow 1.5 s after the record says ready: a
    // command sent meanwhile arrives while the workflow still provisions.
    h = await createHarness('ready-race', workspaceFiles(templates), { faults: { setCellStatus: 'late' } });
  });
  afterAll(() => h?.close());

  it('a service restart and an archive sent at once are obeyed, not dropped', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'web', brief: 'race' },
    });
    const { id } = response.json();
    const ready = await waitForStatus(h, id, ['ready']);
    const pid = ready.services[0]?.pid;
    const restart = await h.app.inject({ method: 'POST', url: `/cells/${id}/services/web/restart` });
    expect(restart.statusCode).toBe(202);
    await eventually(async () => {
      const s = (await cellDetail(h.db, id))?.services[0];
      return s?.status === 'ready' && s.pid !== pid ? true : undefined;
    }, 'restarted');
    const archive = await h.app.inject({ method: 'DELETE', url: `/cells/${id}` });
    expect(archive.statusCode, archive.body).toBe(202);
    await waitForStatus(h, id, ['archived']);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('an archive sent the moment the record says ready is accepted and done', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'web', brief: 'race' },
    });
    const { id } = response.json();
    await waitForStatus(h, id, ['ready']);
    const archive = await h.app.inject({ method: 'DELETE', url: `/cells/${id}` });
    expect(archive.statusCode, archive.body).toBe(202);
    await waitForStatus(h, id, ['archived']);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });
});
