import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findTemporalCli } from '../src/temporal/cli.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';
import { webService, workspaceFiles } from './support/templates.js';

// Workflow code must stay deterministic: a history recorded by an earlier version has to replay on
// the current code. Histories of a whole cell lifecycle live in test/histories/; a fresh one is
// recorded and replayed on every run, and RECORD_HISTORY=1 adds it to the committed set.

const historiesDir = path.join(import.meta.dirname, 'histories');
const bundle = () => ({ workflowBundle: { codePath: inject('workflowBundlePath') } });

describe('workflow determinism', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(
      'replay',
      workspaceFiles({ web: { label: 'Web', services: { web: webService } } }),
    );
  });
  afterAll(() => h?.close());

  it('a whole lifecycle (provision, service restart, archive) replays on the current code', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'web', brief: 'replay me' },
    });
    const { id, workflowId } = response.json();
    await waitForStatus(h, id, ['ready']);
    await h.app.inject({ method: 'POST', url: `/cells/${id}/services/web/restart` });
    await eventually(async () => {
      const rows = await h.db.step.count({ where: { cellId: id, name: 'services.web.start', attempt: 1 } });
      const svc = await h.db.serviceInstance.findFirst({ where: { cellId: id } });
      return rows && svc?.status === 'ready' ? true : undefined;
    }, 'restarted');
    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}?force=true` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory(bundle(), history, workflowId);
    if (process.env.RECORD_HISTORY) {
      // The CLI's JSON export: the same format people download from the Temporal UI.
      const cli = await findTemporalCli(process.env.TEMPORAL_CLI_PATH);
      const { stdout } = await execa(cli?.path ?? 'temporal', [
        'workflow',
        'show',
        '--workflow-id',
        workflowId,
        '--address',
        inject('temporalAddress'),
        '--output',
        'json',
      ]);
      await writeFile(path.join(historiesDir, 'lifecycle.json'), stdout);
    }
  });

  it('every committed history replays on the current code', async () => {
    const files = (await readdir(historiesDir)).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const history: unknown = JSON.parse(await readFile(path.join(historiesDir, file), 'utf8'));
      await Worker.runReplayHistory(bundle(), history, file);
    }
  });
});
