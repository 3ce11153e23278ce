import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellDetail } from '../src/cells/schema.js';
import { cellDatabasesOn } from '../src/databases/cellDatabases.js';
import { client, serverPaths } from '../src/databases/server.js';
import { environmentOutcome, requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { expectZeroResidue } from './support/residue.js';

// A database per cell on real parts: Debian's PostgreSQL (one server per workspace, started by the
// environment step), a template database built by the seed, each cell's clone of it.
const seedSql = (rows: number) => `CREATE TABLE items (id int PRIMARY KEY, note text);
INSERT INTO items SELECT g, 'seeded ' || g FROM generate_series(1, ${rows}) g;
`;
const templates = {
  pg: {
    label: 'With a database',
    services: {
      db: { type: 'postgres', seed: ['psql -v ON_ERROR_STOP=1 -q -f seed.sql'], inputs: ['seed.sql'] },
    },
    // The cell's own processes reach their database through the env (DATABASE_URL and PG*).
    setup: ['psql "$DATABASE_URL" -tAc "SELECT count(*) FROM items" > .hive/count.out'],
  },
  badSeed: {
    label: 'Seed fails',
    services: { db: { type: 'postgres', seed: ['psql -v ON_ERROR_STOP=1 -c "SELECT no_such_function()"'] } },
  },
};

let h: Harness;
let dataDir: string;
beforeAll(async () => {
  h = await createHarness('databases', {
    'hive.config.json': JSON.stringify({ templates }, null, 2),
    'seed.sql': seedSql(5_000),
  });
  dataDir = path.dirname(h.dbFile);
});
afterAll(() => h?.close());

const cellFrom = (template: string, onFailure?: 'preserve' | 'rollback') =>
  requestCell(h, template, { brief: 'databases', onFailure });

const outcome = (cell: CellDetail) => environmentOutcome(cell).databases?.[0];

/** Runs one query in a database of the workspace's server. */
async function query(database: string, sql: string) {
  const c = client(serverPaths(dataDir, 'demo'), database);
  await c.connect();
  try {
    return (await c.query(sql)).rows as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

describe('a database per cell, cloned from a template database', () => {
  let first: CellDetail;
  let second: CellDetail;

  it('the first cell seeds the template; the next one clones it; each has its own database', async () => {
    first = await waitForStatus(h, await cellFrom('pg'), ['ready'], 120_000);
    expect(outcome(first)).toMatchObject({ name: 'db', source: 'built' });
    second = await waitForStatus(h, await cellFrom('pg'), ['ready'], 120_000);
    expect(outcome(second)).toMatchObject({
      name: 'db',
      source: 'existing',
      template: outcome(first)?.template,
    });
    expect(outcome(second)?.database).not.toBe(outcome(first)?.database);

    const env = (await h.app.inject({ method: 'GET', url: `/cells/${second.id}/env` })).json() as {
      variables: Array<{ name: string; value: string }>;
    };
    const value = (name: string) => env.variables.find((v) => v.name === name)?.value;
    expect(value('DATABASE_URL')).toMatch(
      new RegExp(`^postgresql://postgres@localhost:5432/${outcome(second)?.database}\\?host=`),
    );
    expect(value('DB_URL')).toBe(value('DATABASE_URL'));
    expect(value('PGDATABASE')).toBe(outcome(second)?.database);
    expect((await readFile(path.join(second.worktreePath ?? '', '.hive/count.out'), 'utf8')).trim()).toBe(
      '5000',
    );
  });

  it("cells never see each other's data", async () => {
    const a = outcome(first)?.database ?? '';
    const b = outcome(second)?.database ?? '';
    await query(a, "INSERT INTO items VALUES (900001, 'only in the first cell')");
    await query(b, 'DELETE FROM items WHERE id <= 10');
    expect(await query(a, 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 5_001 }]);
    expect(await query(b, 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 4_990 }]);
    expect(await query(b, 'SELECT count(*)::int AS n FROM items WHERE id = 900001')).toEqual([{ n: 0 }]);
    // The template is untouched by either.
    expect(await query(outcome(first)?.template ?? '', 'SELECT count(*)::int AS n FROM items')).toEqual([
      { n: 5_000 },
    ]);
  });

  it('a changed seed input builds a new template and drops the old one', async () => {
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(path.join(h.workspace.path, 'seed.sql'), seedSql(7)),
    );
    await simpleGit(h.workspace.path).add('seed.sql').commit('smaller seed');
    const third = await waitForStatus(h, await cellFrom('pg'), ['ready'], 120_000);
    expect(outcome(third)).toMatchObject({ source: 'built' });
    expect(outcome(third)?.template).not.toBe(outcome(first)?.template);
    expect(await query(outcome(third)?.database ?? '', 'SELECT count(*)::int AS n FROM items')).toEqual([
      { n: 7 },
    ]);
    const templatesLeft = await query(
      'postgres',
      "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'",
    );
    expect(templatesLeft.map((r) => r.datname)).toEqual([outcome(third)?.template]);
    // Cells cloned from the old template keep their data.
    expect(await query(outcome(first)?.database ?? '', 'SELECT count(*)::int AS n FROM items')).toEqual([
      { n: 5_001 },
    ]);
  });

  it("archive drops the cell's database", async () => {
    const archived = await h.app.inject({ method: 'DELETE', url: `/cells/${second.id}` });
    expect(archived.statusCode, archived.body).toBe(202);
    await waitForStatus(h, second.id, ['archived']);
    expect(await cellDatabasesOn(serverPaths(dataDir, 'demo'), second.id)).toEqual([]);
    expect(await cellDatabasesOn(serverPaths(dataDir, 'demo'), first.id)).toHaveLength(1);
  });

  it('a failed seed names its step, leaves no half-built database, and rolls back to zero residue', async () => {
    const id = await cellFrom('badSeed', 'rollback');
    const cell = await waitForStatus(h, id, ['rolled_back']);
    expect(cell.failure).toMatchObject({ step: 'environment', type: 'DatabaseSeedFailed' });
    expect(cell.failure?.logTail).toMatch(/no_such_function/);
    const builds = await query('postgres', "SELECT datname FROM pg_database WHERE datname LIKE 'b\\_%'");
    expect(builds).toEqual([]);
    expect(await cellDatabasesOn(serverPaths(dataDir, 'demo'), id)).toEqual([]);
    await expectZeroResidue(h.db, h.workspace.path, id, { dataDir, workspaceId: 'demo' });
  });

  it('a rolled back cell leaves no database, and the server is restarted when it died', async () => {
    // The server killed under everyone's feet (kill -9 of the postmaster): the next cell starts it again.
    const pidFile = path.join(serverPaths(dataDir, 'demo').data, 'postmaster.pid');
    const postmaster = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    const id = await cellFrom('pg', 'rollback');
    const cell = await waitForStatus(h, id, ['ready'], 120_000);
    expect(outcome(cell)?.source).toBe('existing');
    const cancelled = await h.app.inject({ method: 'DELETE', url: `/cells/${id}?discard=true` });
    expect(cancelled.statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    expect(await cellDatabasesOn(serverPaths(dataDir, 'demo'), id)).toEqual([]);
    await expectZeroResidue(h.db, h.workspace.path, id, { dataDir, workspaceId: 'demo' });
  });
});
