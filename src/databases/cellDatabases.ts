import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type pg from 'pg';
import picomatch from 'picomatch';
import { client, DATABASE_USER, type ServerPaths, SOCKET_PORT } from './server.js';

// A cell's databases: cloned (CREATE DATABASE … TEMPLATE) from a template database that the
// template's seed commands build once, and build again when the seed or its input files change.

/** What a cell's database is called and how it is reached: pure, so history can carry it. */
export interface DatabaseTarget {
  /** The service name in the template, e.g. `db`. */
  name: string;
  database: string;
  host: string;
  port: number;
  user: string;
}

const short = (text: string, n: number) => createHash('sha256').update(text).digest('hex').slice(0, n);

/** The cell's own database: `c_<cell id>_<hash of the service name>` (fits 63 bytes, any name). */
export function databaseTarget(paths: ServerPaths, cellId: string, name: string): DatabaseTarget {
  return {
    name,
    database: `c_${cellId}_${short(name, 8)}`,
    host: paths.socketDir,
    port: SOCKET_PORT,
    user: DATABASE_USER,
  };
}

/** libpq/node-postgres/Prisma URL over the Unix socket. */
export const databaseUrl = (t: DatabaseTarget) =>
  `postgresql://${t.user}@localhost:${t.port}/${t.database}?host=${encodeURIComponent(t.host)}`;

/** Identifiers are ours (hex and cell ids) but quoted all the same. */
const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function withClient<T>(paths: ServerPaths, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = client(paths);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function databasesLike(c: pg.Client, prefix: string): Promise<string[]> {
  const { rows } = await c.query<{ datname: string }>(
    'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
    [prefix],
  );
  return rows.map((r) => r.datname);
}

/** The files `inputs` name in a worktree (tracked or not), sorted. */
async function inputFiles(worktreePath: string, inputs: string[]): Promise<string[]> {
  if (inputs.length === 0) return [];
  const { stdout } = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: worktreePath,
  });
  const match = picomatch(inputs, { dot: true });
  return [...new Set(stdout.split('\0').filter((f) => f && match(f)))].sort();
}

export interface SeedSpec {
  templateId: string;
  workspaceId: string;
  seed: string[];
  inputs: string[];
}

/** The template database's name: who it is for, and a hash of what built it. */
export async function templateDatabase(worktreePath: string, spec: SeedSpec & { name: string }) {
  const prefix = `t_${short(`${spec.workspaceId}/${spec.templateId}/${spec.name}`, 10)}_`;
  const hash = createHash('sha256').update(JSON.stringify(spec.seed));
  for (const file of await inputFiles(worktreePath, spec.inputs)) {
    hash.update(`\0${file}\0`);
    hash.update(await readFile(path.join(worktreePath, file)));
  }
  return { prefix, name: `${prefix}${hash.digest('hex').slice(0, 16)}` };
}

/** A build left by a killed worker is dropped once it is older than this. */
const ABANDONED_BUILD_MS = 15 * 60_000;

/**
 * The template database, built if it does not exist yet: into `b_<prefix>_<cell>_<time>` by the
 * seed commands, then renamed into place (so it exists whole or not at all); when two cells race,
 * the first rename wins and the other build is dropped. A build of this cell's that a killed worker
 * left is dropped before building again; older templates of the same database, and builds of
 * others abandoned for long, are dropped afterwards.
 */
export async function ensureTemplate(
  paths: ServerPaths,
  template: { prefix: string; name: string },
  cellId: string,
  runSeed: (target: DatabaseTarget) => Promise<void>,
): Promise<'built' | 'existing'> {
  const exists = await withClient(paths, async (c) => (await databasesLike(c, template.name)).length > 0);
  if (exists) return 'existing';
  const builds = `b${template.prefix.slice(1)}`;
  await withClient(paths, async (c) => {
    for (const mine of await databasesLike(c, `${builds}${cellId}_`)) {
      await c.query(`DROP DATABASE IF EXISTS ${ident(mine)} WITH (FORCE)`);
    }
  });
  const build = `${builds}${cellId}_${Date.now()}`;
  await withClient(paths, (c) => c.query(`CREATE DATABASE ${ident(build)}`));
  try {
    await runSeed({
      name: '(template)',
      database: build,
      host: paths.socketDir,
      port: SOCKET_PORT,
      user: DATABASE_USER,
    });
    await withClient(paths, async (c) => {
      // A seed may leave a connection behind (a background process): a database in use cannot be renamed.
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [build]);
      await c
        .query(`ALTER DATABASE ${ident(build)} RENAME TO ${ident(template.name)}`)
        .catch(async (error) => {
          if ((error as { code?: string }).code !== '42P04') throw error; // duplicate: another cell won
        });
    });
  } finally {
    await dropDatabase(paths, build);
  }
  // Earlier templates of this database, and builds a killed worker left.
  await withClient(paths, async (c) => {
    for (const old of await databasesLike(c, template.prefix)) {
      if (old !== template.name) await c.query(`DROP DATABASE IF EXISTS ${ident(old)} WITH (FORCE)`);
    }
    for (const stale of await databasesLike(c, builds)) {
      const at = Number(stale.split('_').at(-1));
      if (Date.now() - at > ABANDONED_BUILD_MS)
        await c.query(`DROP DATABASE IF EXISTS ${ident(stale)} WITH (FORCE)`);
    }
  });
  return 'built';
}

/**
 * The cell's database, cloned from the template. Idempotent: CREATE DATABASE is atomic, so an
 * existing one is whole and is kept. Retried while another clone holds the template.
 */
export async function cloneDatabase(
  paths: ServerPaths,
  template: string,
  target: DatabaseTarget,
): Promise<void> {
  await withClient(paths, async (c) => {
    if ((await databasesLike(c, target.database)).includes(target.database)) return;
    // PostgreSQL 15 copies through the WAL by default; copying the files is about twice as fast for
    // a template nobody writes to (measured: bench/databases.ts). Before 15, file copy is all there is.
    const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    const strategy = Number(rows[0]?.v) >= 150000 ? ' STRATEGY FILE_COPY' : '';
    for (let attempt = 1; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE ${ident(target.database)} TEMPLATE ${ident(template)}${strategy}`);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === '42P04') return; // a second run of this activity got there first
        // 55006: the template is being accessed by other users (another clone, a seed's leftover).
        if (code !== '55006' || attempt >= 50) throw error;
        await sleep(100);
      }
    }
  });
}

/** Drops a database, ending its sessions; nothing when it does not exist. */
export async function dropDatabase(paths: ServerPaths, database: string): Promise<void> {
  await withClient(paths, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`));
}

/** The databases of a cell that exist on the server (for residue checks and views). */
export async function cellDatabasesOn(paths: ServerPaths, cellId: string): Promise<string[]> {
  return withClient(paths, (c) => databasesLike(c, `c_${cellId}_`));
}
