#!/usr/bin/env node
// Writes prisma/migrations/<timestamp>_<name>/migration.sql from the change to schema.prisma since
// REV (default HEAD). Why not `migrate diff --from-migrations`: with the Wasm engine and a driver
// adapter it replays each migration through a single prepared statement on the shadow database, so
// any migration with more than one statement fails (P3006). A datamodel-to-datamodel diff needs no
// database at all.
// The same change is written for PostgreSQL too, as prisma/postgres/migrations/<same folder>: the
// PostgreSQL schema is regenerated from schema.prisma, then diffed from what its migrations build
// (`migrate diff --from-migrations`, which works there) on a throwaway server
// (scripts/with-postgres.ts). Both folders then move together; test/db.postgres.test.ts checks it.
// Usage: node scripts/new-migration.mjs <name> [REV]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePostgresSchema } from './postgres-schema.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [name, rev = 'HEAD'] = process.argv.slice(2);
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: node scripts/new-migration.mjs <snake_case_name> [REV]');
  process.exit(2);
}
const previous = execFileSync('git', ['show', `${rev}:prisma/schema.prisma`], {
  cwd: root,
  encoding: 'utf8',
});
const tmp = mkdtempSync(path.join(tmpdir(), 'hive-migration-'));
const previousFile = path.join(tmp, 'schema.prisma');
writeFileSync(previousFile, previous);
const result = spawnSync(
  process.execPath,
  [
    path.join(root, 'scripts', 'prisma.mjs'),
    'migrate',
    'diff',
    '--from-schema-datamodel',
    previousFile,
    '--to-schema-datamodel',
    path.join(root, 'prisma', 'schema.prisma'),
    '--script',
  ],
  { cwd: root, encoding: 'utf8', env: { ...process.env, DATABASE_URL: `file:${path.join(tmp, 'x.db')}` } },
);
if (result.status !== 0) {
  console.error(result.stderr);
  process.exit(1);
}
const sql = result.stdout.replace(/^Loaded Prisma config.*\n+/m, '');
if (!sql.trim() || /This is an empty migration/.test(sql)) {
  console.error(`schema.prisma has not changed since ${rev}: nothing to write`);
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const folder = `${stamp}_${name}`;
const dir = path.join(root, 'prisma', 'migrations', folder);
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, 'migration.sql'), sql);
console.log(`wrote ${path.relative(root, dir)}/migration.sql`);

// PostgreSQL: the same change, from what prisma/postgres/migrations builds to the regenerated schema.
generatePostgresSchema();
const pgOut = path.join(tmp, 'postgres.sql');
const pg = spawnSync(
  'npx',
  [
    'tsx',
    path.join(root, 'scripts', 'with-postgres.ts'),
    process.execPath,
    path.join(root, 'scripts', 'prisma.mjs'),
    'migrate',
    'diff',
    '--from-migrations',
    path.join(root, 'prisma', 'postgres', 'migrations'),
    '--to-schema-datamodel',
    path.join(root, 'prisma', 'postgres', 'schema.prisma'),
    '--script',
    '--output',
    pgOut,
  ],
  { cwd: root, encoding: 'utf8' },
);
if (pg.status !== 0) {
  console.error(`PostgreSQL migration failed (the SQLite one is written):\n${pg.stdout}${pg.stderr}`);
  process.exit(1);
}
const pgDir = path.join(root, 'prisma', 'postgres', 'migrations', folder);
mkdirSync(pgDir, { recursive: true });
writeFileSync(path.join(pgDir, 'migration.sql'), readFileSync(pgOut, 'utf8'));
console.log(`wrote ${path.relative(root, pgDir)}/migration.sql`);
