import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigLoader } from '../src/templates/loader.js';
import { requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';

// A repository already set up for another tool is read as it is: conductor.json (Conductor's
// setup/run/archive scripts) becomes a template, and hive.config.jsonc (JSON with comments) is a
// config file name.

/** Conductor's run script: a server on CONDUCTOR_PORT telling what Conductor's variables hold. */
const conductorServer = `require('node:http')
  .createServer((req, res) => res.end(JSON.stringify({
    name: process.env.CONDUCTOR_WORKSPACE_NAME,
    path: process.env.CONDUCTOR_WORKSPACE_PATH,
    root: process.env.CONDUCTOR_ROOT_PATH,
    port: process.env.CONDUCTOR_PORT,
  })))
  .listen(Number(process.env.CONDUCTOR_PORT), '127.0.0.1');
`;

const conductorJson = {
  scripts: {
    setup:
      'echo "set up $CONDUCTOR_WORKSPACE_NAME" > .setup-done\necho "port $CONDUCTOR_PORT" >> .setup-done',
    run: 'node conductor-server.js',
    archive: 'echo "archived $CONDUCTOR_WORKSPACE_NAME" >> "$CONDUCTOR_ROOT_PATH/archive.log"',
  },
  runScriptMode: 'concurrent',
};

const hiveJsonc = `// Hive's templates, with comments (JSON with comments, as VS Code's settings)
{
  "templates": {
    /* the plain one */
    "plain": { "label": "Plain", },
  },
}
`;

describe('hive.config.jsonc and conductor.json', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('conductor', {
      'hive.config.jsonc': hiveJsonc,
      'conductor.json': JSON.stringify(conductorJson, null, 2),
      'conductor-server.js': conductorServer,
      '.gitignore': 'archive.log\n.setup-done\n',
    });
  });
  afterAll(() => h?.close());

  it('lists the templates of both files, each with its source', async () => {
    const response = await h.app.inject({ url: '/templates?workspace=demo' });
    expect(response.statusCode, response.body).toBe(200);
    const templates = response.json().templates as Array<{ id: string; source: string; services: string[] }>;
    expect(templates.map(({ id, source, services }) => ({ id, source, services }))).toEqual([
      { id: 'plain', source: 'hive.config.jsonc', services: [] },
      { id: 'conductor', source: 'conductor.json', services: ['run'] },
    ]);
    const detail = (await h.app.inject({ url: '/templates/conductor?workspace=demo' })).json();
    expect(detail.source).toBe('conductor.json');
    expect(detail.env.CONDUCTOR_ROOT_PATH).toBe(h.workspace.path);
  });

  it('a cell from conductor.json: setup runs, the run script serves on CONDUCTOR_PORT, archive runs the archive script', async () => {
    const [id, other] = await Promise.all([requestCell(h, 'conductor'), requestCell(h, 'conductor')]);
    const ready = await waitForStatus(h, id, ['ready'], 60_000);
    const neighbour = await waitForStatus(h, other, ['ready'], 60_000);
    const worktree = ready.worktreePath ?? '';
    const port = ready.ports.find((p) => p.service === 'run' && p.name === 'primary')?.port ?? 0;
    // Conductor's ten ports, CONDUCTOR_PORT through CONDUCTOR_PORT+9, all the cell's.
    const block = ready.ports.filter((p) => p.service === 'run' && p.active).map((p) => p.port);
    expect(block.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => port + i));
    // Two cells' blocks never overlap.
    const theirs = neighbour.ports.filter((p) => p.service === 'run').map((p) => p.port);
    expect(theirs).toHaveLength(10);
    expect(theirs.filter((p) => block.includes(p))).toEqual([]);
    expect(await readFile(path.join(worktree, '.setup-done'), 'utf8')).toBe(`set up ${id}\nport ${port}\n`);
    const served = await (await fetch(`http://127.0.0.1:${port}/`)).json();
    expect(served).toEqual({ name: id, path: worktree, root: h.workspace.path, port: String(port) });

    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived'], 60_000);
    expect(await readFile(path.join(h.workspace.path, 'archive.log'), 'utf8')).toBe(`archived ${id}\n`);
  });
});

describe('config files read as they are', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hive-conductor-load-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('conductor.json alone is a workspace config; a template "conductor" of hive.config wins', async () => {
    const loader = createConfigLoader();
    await writeFile(path.join(dir, 'conductor.json'), JSON.stringify({ scripts: { setup: 'npm ci' } }));
    const alone = await loader.load(dir);
    expect(alone.ok && alone.templates.map((t) => [t.id, t.source, t.setup.length])).toEqual([
      ['conductor', 'conductor.json', 1],
    ]);
    await writeFile(
      path.join(dir, 'hive.config.jsonc'),
      '{ "templates": { "conductor": { "label": "Mine" } } } // the person\'s own',
    );
    const both = await loader.load(dir);
    expect(both.ok && both.templates.map((t) => [t.id, t.label, t.source])).toEqual([
      ['conductor', 'Mine', 'hive.config.jsonc'],
    ]);
  });

  it('a broken hive.config.jsonc or conductor.json is a problem naming the file and the place', async () => {
    const loader = createConfigLoader();
    await writeFile(
      path.join(dir, 'hive.config.jsonc'),
      '{ "templates": { "a": { "label": "A" } }\n  "x": 1 }',
    );
    const jsonc = await loader.load(dir);
    expect(jsonc.ok).toBe(false);
    expect(!jsonc.ok && jsonc.problems[0]).toMatchObject({
      file: path.join(dir, 'hive.config.jsonc'),
      message: 'cannot be loaded: CommaExpected at 2:3',
    });
    await rm(path.join(dir, 'hive.config.jsonc'));
    await writeFile(path.join(dir, 'conductor.json'), JSON.stringify({ scripts: { run: 42 } }));
    const conductor = await loader.load(dir);
    expect(!conductor.ok && conductor.problems[0]).toMatchObject({
      file: path.join(dir, 'conductor.json'),
      path: 'scripts.run',
    });
  });
});
