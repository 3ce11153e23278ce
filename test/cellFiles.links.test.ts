import { lstat, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvFile } from '../src/cells/envFile.js';
import { cellEventStream } from '../src/cells/eventStream.js';
import { requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';

// What a cell's agent can write is hostile input: files Hive reads back for viewers (`.hive/env`,
// service logs) and writes again (logs, `.hive/env` on retry) are never followed through a link
// out of the cell; and a cell's processes get the host's basics and the cell's own variables, not
// Hive's environment.

const HIVE_ONLY = `hive-only-${process.pid}`;
process.env.HIVE_TEST_PRIVATE_SETTING = HIVE_ONLY;
process.env.npm_lifecycle_event = 'start';
// What a host's operator passes on to every cell (never HIVE_* variables, even if named).
process.env.PASS_ME_TOO = 'passed';
process.env.HIVE_PASS_ENV = 'PASS_ME_*,HIVE_TEST_PRIVATE_SETTING';

/** A server that answers with the variables it was given. */
const server = `require('node:http')
  .createServer((req, res) => res.end(JSON.stringify(process.env)))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

let h: Harness;
let outside: string;
beforeAll(async () => {
  h = await createHarness('cell-links', {
    'server.js': server,
    'hive.config.json': JSON.stringify({
      templates: {
        web: {
          label: 'Web',
          setup: ['env > .hive/setup-env.txt'],
          services: { web: { run: 'node server.js', readyTimeoutMs: 20_000 } },
        },
      },
    }),
  });
  outside = path.join(path.dirname(h.dbFile), 'outside-secret.txt');
  await writeFile(outside, 'TOP_SECRET=outside the cell\n');
});
afterAll(async () => h?.close());

async function readyCell() {
  const id = await requestCell(h, 'web');
  await waitForStatus(h, id, ['ready']);
  const cell = await h.db.cell.findUniqueOrThrow({ where: { id } });
  return { id, worktree: cell.worktreePath as string };
}

describe('files an agent replaces with links', () => {
  it('refuses .hive/env and a service log replaced by a link (409), and serves them again once restored', async () => {
    const { id, worktree } = await readyCell();
    const envFile = path.join(worktree, '.hive', 'env');
    const logFile = path.join(worktree, '.hive', 'logs', 'web.log');
    const original = await readFile(envFile, 'utf8');

    await rm(envFile);
    await symlink(outside, envFile);
    const env = await h.app.inject({ method: 'GET', url: `/cells/${id}/env` });
    expect(env.statusCode, env.body).toBe(409);
    expect(env.headers['content-type']).toContain('application/problem+json');
    expect(env.body).not.toContain('outside the cell');
    expect(env.json().detail).toContain('.hive/env');

    await rm(logFile);
    await symlink(outside, logFile);
    const logs = await h.app.inject({ method: 'GET', url: `/cells/${id}/services/web/logs` });
    expect(logs.statusCode, logs.body).toBe(409);
    expect(logs.body).not.toContain('outside the cell');

    // A linked .hive/logs folder is refused too, not only a linked file.
    await rm(path.join(worktree, '.hive', 'logs'), { recursive: true });
    await symlink(path.dirname(outside), path.join(worktree, '.hive', 'logs'));
    await writeFile(path.join(path.dirname(outside), 'web.log'), 'TOP_SECRET=in a linked folder\n');
    const viaFolder = await h.app.inject({ method: 'GET', url: `/cells/${id}/services/web/logs` });
    expect(viaFolder.statusCode, viaFolder.body).toBe(409);
    expect(viaFolder.body).not.toContain('linked folder');

    await rm(envFile);
    await writeFile(envFile, original);
    const restored = await h.app.inject({ method: 'GET', url: `/cells/${id}/env` });
    expect(restored.statusCode).toBe(200);
    expect(
      restored.json().variables.some((v: { name: string }) => v.name === 'PORT_WEB' || v.name === 'WEB_PORT'),
    ).toBe(true);
  });

  it('the live log stream says a linked log is not followed, and never sends its target', async () => {
    const { id, worktree } = await readyCell();
    const logFile = path.join(worktree, '.hive', 'logs', 'web.log');
    await rm(logFile);
    await symlink(outside, logFile);
    const events = [];
    for await (const event of cellEventStream(h.db, id, 0, () => true)) {
      events.push(event);
      if (event.event === 'end') break;
    }
    const logLines = events.filter((e) => e.event === 'log').map((e) => JSON.stringify(e.data));
    expect(logLines.join('\n')).toContain('was replaced');
    expect(JSON.stringify(events)).not.toContain('outside the cell');

    // Restarting the service appends to its log: Hive refuses to write through the link.
    const restart = await h.app.inject({ method: 'POST', url: `/cells/${id}/services/web/restart` });
    expect(restart.statusCode, restart.body).toBe(202);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await readFile(outside, 'utf8')).toBe('TOP_SECRET=outside the cell\n');
    expect((await lstat(logFile)).isSymbolicLink()).toBe(true);
  });
});

describe("a cell's processes and Hive's environment", () => {
  it("services and setup commands get the cell's variables and the host's basics, not Hive's own", async () => {
    const { id, worktree } = await readyCell();
    const cell = await h.db.serviceInstance.findFirstOrThrow({ where: { cellId: id, name: 'web' } });
    const env = (await (await fetch(`http://127.0.0.1:${cell.port}/`)).json()) as Record<string, string>;
    expect(env.PORT).toBe(String(cell.port));
    expect(env.PATH).toBeTruthy();
    expect(env.HOME).toBeTruthy();
    expect(env.HIVE_TEST_PRIVATE_SETTING).toBeUndefined();
    expect(env.npm_lifecycle_event).toBeUndefined();
    expect(env.PASS_ME_TOO).toBe('passed');
    expect(Object.keys(env).filter((k) => k.startsWith('VITEST'))).toEqual([]);

    const setup = parseEnvFile(await readFile(path.join(worktree, '.hive', 'setup-env.txt'), 'utf8'));
    expect(setup.HIVE_TEST_PRIVATE_SETTING).toBeUndefined();
    expect(setup.npm_lifecycle_event).toBeUndefined();
    expect(setup.PATH).toBeTruthy();
  });
});

describe('a workspace whose .cells is a link', () => {
  it('gets no worktree outside the repository: the worktree step fails naming the link', async () => {
    const cells = path.join(h.workspace.path, '.cells');
    const aside = `${cells}-aside`;
    const elsewhere = path.join(path.dirname(h.dbFile), 'elsewhere');
    const { mkdir, readdir, rename } = await import('node:fs/promises');
    await mkdir(elsewhere, { recursive: true });
    await rename(cells, aside);
    await symlink(elsewhere, cells);
    try {
      const id = await requestCell(h, 'web');
      const failed = await waitForStatus(h, id, ['failed']);
      expect(failed.failure).toMatchObject({ step: 'worktree', type: 'PathOutside' });
      expect(failed.failure?.message).toContain('symbolic link');
      expect(await readdir(elsewhere)).toEqual([]);
      // Its clean-up does not reach through the link either.
      expect((await h.app.inject({ method: 'POST', url: `/cells/${id}/cancel` })).statusCode).toBe(202);
      await waitForStatus(h, id, ['cancelled', 'cleanup_failed']);
      expect(await readdir(elsewhere)).toEqual([]);
    } finally {
      await rm(cells);
      await rename(aside, cells);
    }
  });
});
