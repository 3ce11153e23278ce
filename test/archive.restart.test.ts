import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupAlive } from '../src/activities/processes.js';
import { cellDetail } from '../src/cells/views.js';
import { requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';
import { expectZeroResidue } from './support/residue.js';

// Archive interrupts what supervision is doing: a restart whose service never gets ready again
// does not hold an archive for its whole readiness wait.

/** Listens on $PORT, unless `stuck` exists in the worktree: then it runs without ever listening. */
const flaky = `const fs = require('node:fs');
if (fs.existsSync('stuck')) setInterval(() => {}, 1000);
else require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
`;

let h: Harness;
beforeAll(async () => {
  h = await createHarness('archive-restart', {
    'flaky.js': flaky,
    '.gitignore': 'stuck\n',
    'hive.config.json': JSON.stringify({
      templates: {
        web: {
          label: 'Web',
          services: {
            web: { run: 'node flaky.js', restart: 'always', restartBackoffMs: 0, readyTimeoutMs: 120_000 },
          },
        },
      },
    }),
  });
});
afterAll(async () => h?.close());

describe('archive during a restart', () => {
  it('is acted on at once, not after the restarted service’s readiness wait', async () => {
    const id = await requestCell(h, 'web');
    const ready = await waitForStatus(h, id, ['ready']);
    const first = ready.services[0]?.pid ?? 0;
    await writeFile(path.join(ready.worktreePath ?? '', 'stuck'), '');
    process.kill(-first, 'SIGKILL');
    // Restarted by its policy, and now waiting for a readiness that never comes.
    const restarting = await eventually(async () => {
      const c = await cellDetail(h.db, id);
      const s = c?.services[0];
      return c?.status === 'degraded' && s?.pid && s.pid !== first && s.status === 'running' ? s : undefined;
    }, 'the restarted service waiting for readiness');
    const asked = Date.now();
    const response = await h.app.inject({ method: 'DELETE', url: `/cells/${id}?discard=true` });
    expect(response.statusCode, response.body).toBe(202);
    await waitForStatus(h, id, ['archived'], 60_000);
    // Far inside the 120 s the readiness wait would have taken.
    expect(Date.now() - asked).toBeLessThan(45_000);
    expect(await groupAlive(restarting.pid ?? 0)).toBe(false);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });
});
