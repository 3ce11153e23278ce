import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../config/paths.js';
import { isPostgresUrl } from './postgres.js';

/**
 * Applies the committed migrations with `prisma migrate deploy` (Wasm schema engine, driver
 * adapter): the same path a deployment uses, so start-up and CI exercise the real migrations.
 * The URL picks the folder (prisma.config.ts): prisma/migrations for SQLite, prisma/postgres/migrations
 * for PostgreSQL (whose CLI adapter carries the workarounds of src/db/postgres.ts).
 */
export async function applyMigrations(databaseUrl: string): Promise<void> {
  // Already migrated (the usual case for a worker, `hive tokens`, a restart): nothing to run. The
  // schema engine also needs the SQLite file to itself, which it cannot have while `hive up` uses it.
  if (await migrated(databaseUrl)) return;
  if (!isPostgresUrl(databaseUrl)) {
    await mkdir(path.dirname(databaseUrl.replace(/^file:/, '').replace(/\?.*$/, '')), {
      recursive: true,
    });
  }
  const result = await execa(
    process.execPath,
    [path.join(packageRoot, 'scripts', 'prisma.mjs'), 'migrate', 'deploy'],
    { cwd: packageRoot, env: { DATABASE_URL: databaseUrl }, reject: false, all: true },
  );
  if (result.exitCode !== 0) {
    throw new Error(`Database migration failed for ${redact(databaseUrl)}:\n${result.all}`);
  }
  if (!isPostgresUrl(databaseUrl)) await useWriteAheadLog(databaseUrl);
}

/** Whether every committed migration of this database's provider is applied to it. */
async function migrated(databaseUrl: string): Promise<boolean> {
  const folder = path.join(
    packageRoot,
    'prisma',
    ...(isPostgresUrl(databaseUrl) ? ['postgres'] : []),
    'migrations',
  );
  const wanted = (await readdir(folder, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  if (
    !isPostgresUrl(databaseUrl) &&
    !(await stat(databaseUrl.replace(/^file:/, '').replace(/\?.*$/, '')).catch(() => undefined))
  )
    return false;
  const { createDb } = await import('./client.js');
  const db = createDb(databaseUrl);
  try {
    const rows = await db.$queryRawUnsafe<Array<{ migration_name: string }>>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Set(rows.map((row) => row.migration_name));
    return wanted.every((name) => applied.has(name));
  } catch {
    return false; // a new database: no migrations table yet
  } finally {
    await db.$disconnect();
  }
}

/**
 * SQLite in WAL mode: a commit appends to the log and syncs it once, instead of rewriting and syncing
 * a rollback journal (measured here: 7 ms → 0.8 ms per write; a cell makes a few dozen). The mode is
 * kept in the database file, so every connection of every process (API, workers, `hive tokens`) uses
 * it; readers no longer wait for a writer either.
 */
async function useWriteAheadLog(databaseUrl: string): Promise<void> {
  const { createDb } = await import('./client.js');
  const db = createDb(databaseUrl);
  try {
    await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  } finally {
    await db.$disconnect();
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+:)[^@]*@/i, '$1***@');
}
