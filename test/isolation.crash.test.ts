import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencyCacheDir, listDependencyCache } from '../src/cache/dependencies.js';
import { client, serverPaths } from '../src/databases/server.js';
import { environmentOutcome, requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually, type HiveProcess, spawnWorker } from './support/process.js';

// kill -9 of the worker while a dependency install or a database seed runs: the next worker finishes
// the cell, and what was half done is never used (the cache holds whole entries only, the template
// database is whole or absent).

/** Notes each run; the first one makes part of node_modules and then takes long enough to crash during. */
const install = `const fs = require('node:fs');
const runs = process.env.HIVE_WORKSPACE_DIR + '/.cells/install-runs';
const first = !fs.existsSync(runs);
fs.appendFileSync(runs, 'start ' + process.pid + '\\n');
fs.mkdirSync('node_modules/tool', { recursive: true });
fs.writeFileSync('node_modules/tool/index.js', 'module.exports = 42;\\n');
setTimeout(() => fs.appendFileSync(runs, 'end ' + process.pid + '\\n'), first ? 30000 : 100);
`;
/** Seeds a table; the first run then waits long enough to crash during. */
const seed = `const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const runs = process.env.HIVE_WORKSPACE_DIR + '/.cells/seed-runs';
const first = !fs.existsSync(runs);
fs.appendFileSync(runs, 'start ' + process.pid + '\\n');
execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-qc', 'CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2), (3)']);
setTimeout(() => fs.appendFileSync(runs, 'end ' + process.pid + '\\n'), first ? 30000 : 100);
`;
const templates = {
  deps: {
    label: 'Slow install',
    dependencies: [{ key: ['install.js'], paths: ['node_modules'], install: 'node install.js' }],
  },
  seeded: {
    label: 'Slow seed',
    services: { db: { type: 'postgres', seed: ['node seed.js'], inputs: ['seed.js'] } },
  },
};

let h: Harness;
const workers: HiveProcess[] = [];
beforeAll(async () => {
  h = await createHarness(
    'isolation-crash',
    {
      'hive.config.json': JSON.stringify({ templates }, null, 2),
      'install.js': install,
      'seed.js': seed,
      '.gitignore': 'node_modules/\n',
    },
    { worker: false },
  );
});
afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await h?.close();
});

const dataDir = () => path.dirname(h.dbFile);
const worker = async () => {
  const w = spawnWorker(h, { HIVE_DATA_DIR: dataDir() });
  workers.push(w);
  await w.ready;
  return w;
};
const request = (template: string) => requestCell(h, template, { brief: 'survive a crash' });
const runs = async (name: string) =>
  (await readFile(path.join(h.workspace.path, '.cells', name), 'utf8').catch(() => '')).trim().split('\n');
const environment = environmentOutcome;

describe('kill -9 of the worker during isolation work', () => {
  it('while the dependency install runs: the next worker installs again, the cache holds one whole entry', async () => {
    const first = await worker();
    const id = await request('deps');
    await eventually(
      async () => ((await runs('install-runs'))[0]?.startsWith('start') ? true : undefined),
      'install started',
    );
    first.child.kill('SIGKILL');
    await first.child.catch(() => undefined);
    // Nothing reached the cache from the killed install.
    expect(await listDependencyCache(h.workspace.path)).toEqual([]);

    const second = await worker();
    const cell = await waitForStatus(h, id, ['ready'], 150_000);
    expect(environment(cell).dependencies?.[0]?.source).toBe('installed');
    const lines = await runs('install-runs');
    // The dead worker's install was ended before the new one ran (it never wrote its end).
    expect(lines.filter((l) => l.startsWith('start'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('end'))).toEqual([`end ${lines[1]?.slice('start '.length)}`]);
    expect((await listDependencyCache(h.workspace.path)).length).toBe(1);
    const leftovers = (await readdir(dependencyCacheDir(h.workspace.path))).filter((n) => n.startsWith('.'));
    expect(leftovers).toEqual([]);
    // The next cell copies the whole entry.
    const next = await waitForStatus(h, await request('deps'), ['ready'], 150_000);
    expect(environment(next).dependencies?.[0]?.source).toBe('cache');
    expect(
      await readFile(path.join(next.worktreePath ?? '', 'node_modules/tool/index.js'), 'utf8'),
    ).toContain('42');
    second.child.kill('SIGTERM');
    await second.child.catch(() => undefined);
  }, 300_000);

  it('while the seed builds the template database: no half-built database is left or used', async () => {
    const first = await worker();
    const id = await request('seeded');
    await eventually(
      async () => ((await runs('seed-runs'))[0]?.startsWith('start') ? true : undefined),
      'seed started',
    );
    first.child.kill('SIGKILL');
    await first.child.catch(() => undefined);

    const second = await worker();
    const cell = await waitForStatus(h, id, ['ready'], 150_000);
    expect(environment(cell).databases?.[0]?.source).toBe('built');
    const c = client(serverPaths(dataDir(), 'demo'));
    await c.connect();
    try {
      const names = (await c.query<{ datname: string }>('SELECT datname FROM pg_database')).rows.map(
        (r) => r.datname,
      );
      expect(names.filter((n) => n.startsWith('b_'))).toEqual([]);
      expect(names.filter((n) => n.startsWith('t_'))).toEqual([environment(cell).databases?.[0]?.template]);
    } finally {
      await c.end();
    }
    const next = await waitForStatus(h, await request('seeded'), ['ready'], 150_000);
    expect(environment(next).databases?.[0]?.source).toBe('existing');
    second.child.kill('SIGTERM');
    await second.child.catch(() => undefined);
  }, 300_000);
});
