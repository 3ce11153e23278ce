import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServer, isRunning, serverPaths, stopServer } from '../src/databases/server.js';
import { requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually, type HiveProcess, isAlive, spawnWorker } from './support/process.js';

// The workspace's PostgreSQL server on real parts (Debian's binaries, real `hive worker` processes
// stopped with SIGTERM as a person stops Hive): it comes back with Hive, and when it dies.
const templates = {
  pg: {
    label: 'With a database',
    services: {
      db: {
        type: 'postgres',
        seed: ['psql -v ON_ERROR_STOP=1 -qc "CREATE TABLE marks (n int); INSERT INTO marks VALUES (42)"'],
      },
    },
  },
};

let h: Harness;
let dataDir: string;
const workers: HiveProcess[] = [];
beforeAll(async () => {
  h = await createHarness(
    'db-restart',
    { 'hive.config.json': JSON.stringify({ templates }, null, 2) },
    {
      worker: false,
    },
  );
  dataDir = path.dirname(h.dbFile);
});
afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await h?.close();
});

/** `hive worker` as its own process, with the harness's folder as its data dir. */
async function startWorker(env: Record<string, string> = { HIVE_DATA_DIR: dataDir }) {
  const w = spawnWorker(h, env);
  workers.push(w);
  await w.ready;
  return w;
}

/** Stops a worker as SIGTERM (a person's Ctrl-C, systemd) does: it stops the workspaces' servers too. */
async function stopWorker(w: HiveProcess) {
  w.child.kill('SIGTERM');
  const result = await w.child;
  expect(result.exitCode, w.output()).toBe(0);
}

/** The cell's DATABASE_URL, as its processes get it. */
async function databaseUrl(id: string): Promise<string> {
  const env = (await h.app.inject({ method: 'GET', url: `/cells/${id}/env` })).json() as {
    variables: Array<{ name: string; value: string }>;
  };
  const url = env.variables.find((v) => v.name === 'DATABASE_URL')?.value;
  if (!url) throw new Error(`no DATABASE_URL for cell ${id}`);
  return url;
}

/** Runs one query through a URL, as a cell's program would. */
async function query(url: string, sql: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

/** The pid in the server's postmaster.pid (undefined without one), as PostgreSQL wrote it. */
async function postmasterPid(data: string): Promise<number | undefined> {
  const text = await readFile(path.join(data, 'postmaster.pid'), 'utf8').catch(() => undefined);
  return text ? Number(text.split('\n')[0]) : undefined;
}

/** Live PostgreSQL postmasters whose command line names this data dir (from /proc). */
async function postmastersOf(data: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (path.basename(argv[0] ?? '') === 'postgres' && argv.includes(data)) found.push(Number(pid));
  }
  return found;
}

describe("the workspace's PostgreSQL server survives Hive restarts and crashes", () => {
  let worker: HiveProcess;
  let id: string;
  let url: string;
  const server = () => serverPaths(dataDir, 'demo');

  it('a ready cell still reaches its database after Hive is stopped (SIGTERM) and started again', async () => {
    worker = await startWorker();
    id = await requestCell(h, 'pg', { brief: 'survive a restart' });
    await waitForStatus(h, id, ['ready'], 120_000);
    url = await databaseUrl(id);
    expect(await query(url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);

    await stopWorker(worker);
    // As the issue saw it: the stop took the server down with Hive.
    expect(await isRunning(server())).toBe(false);

    worker = await startWorker();
    // Up means served: the server is back before the worker takes work, with the cell's data.
    expect(await query(url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(await query(url, 'SELECT n FROM marks')).toEqual([{ n: 42 }]);
    expect(await h.db.cell.count()).toBe(1);
    expect((await h.db.cell.findUniqueOrThrow({ where: { id } })).status).toBe('ready');
  });

  it('a killed server (kill -9 of its postmaster) is started again within seconds, once', async () => {
    const killed = await postmasterPid(server().data);
    if (!killed) throw new Error('no postmaster runs for the workspace');
    process.kill(killed, 'SIGKILL');
    const started = Date.now();
    await eventually(
      async () => ((await query(url, 'SELECT n FROM marks'))[0]?.n === 42 ? true : undefined),
      "the cell's database answering again",
      20_000,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    const now = await postmasterPid(server().data);
    expect(now).toBeDefined();
    expect(now).not.toBe(killed);
    expect(await postmastersOf(server().data)).toEqual([now]);
    // The cell's events say what happened to its database.
    await eventually(
      async () => {
        const events = await h.db.cellEvent.findMany({ where: { cellId: id, type: 'operation' } });
        return (
          events.some((e) => /PostgreSQL server had stopped: started it again/.test(e.data)) || undefined
        );
      },
      'an event on the cell saying its database server was started again',
      10_000,
    );
  });

  it('a server no live cell uses is not started again (no residue)', async () => {
    const archived = await h.app.inject({ method: 'DELETE', url: `/cells/${id}` });
    expect(archived.statusCode, archived.body).toBe(202);
    await waitForStatus(h, id, ['archived']);
    const pid = await postmasterPid(server().data);
    await stopServer(server());
    if (pid) await eventually(async () => (isAlive(pid) ? undefined : true), 'the postmaster gone', 10_000);
    // Several looks of the keeper (every 3 s).
    await new Promise((r) => setTimeout(r, 8_000));
    expect(await isRunning(server())).toBe(false);
    expect(await postmastersOf(server().data)).toEqual([]);
    await stopWorker(worker);
  });
});

describe.skipIf(process.getuid?.() !== 0)(
  'a data dir the postgres user cannot reach (Hive runs as root)',
  () => {
    let locked: string;
    beforeAll(async () => {
      // Only the worker started here serves the harness's queue.
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      // mkdtemp makes it 0700, owned by root: user postgres cannot pass through it.
      locked = await mkdtemp(path.join(tmpdir(), 'hive-locked-'));
      await mkdir(path.join(locked, 'data'));
    });
    afterAll(() => rm(locked, { recursive: true, force: true }));

    it('ensuring the server names the folder and the fix, and leaves nothing behind', async () => {
      const paths = serverPaths(path.join(locked, 'data'), 'demo');
      const failure = await ensureServer(paths).then(
        () => undefined,
        (error: unknown) => error as { message: string; hint: string },
      );
      expect(failure?.message).toContain(`${locked} is not searchable by user postgres`);
      expect(failure?.hint).toContain('HIVE_DATA_DIR');
      expect(failure?.hint).toContain(`chmod o+x ${locked}`);
      expect(await readdir(paths.root)).toEqual([]);
    });

    it("a cell's failure says the same, never 'See the output below'", async () => {
      const w = await startWorker({ HIVE_DATA_DIR: path.join(locked, 'data') });
      const cellId = await requestCell(h, 'pg', { brief: 'unreachable data dir' });
      const cell = await waitForStatus(h, cellId, ['failed'], 120_000);
      expect(cell.failure).toMatchObject({ step: 'environment', type: 'DatabaseUnavailable' });
      expect(cell.failure?.message).toContain(`${locked} is not searchable by user postgres`);
      expect(cell.failure?.hint).toContain(`chmod o+x ${locked}`);
      expect(JSON.stringify(cell.failure)).not.toMatch(/See the output below/);
      await stopWorker(w);
    });
  },
);
