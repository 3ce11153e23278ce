#!/usr/bin/env node
// prisma/schema.prisma (SQLite) is the one source of truth for Hive's models. This writes
// prisma/postgres/schema.prisma from it: the same models, provider postgresql, its own generated
// client (src/db/generated-pg: Prisma compiles queries per provider, so one client cannot serve both).
// No type mapping is needed as long as the source stays portable (no native @db.* types, JSON as
// String, statuses as String): Prisma's scalars map to TEXT/INTEGER/DATETIME on SQLite and
// text/integer/timestamp(3) on PostgreSQL by themselves. The script refuses a source that is not.
// Usage: node scripts/postgres-schema.mjs [--check]   (--check: exit 1 when the file is stale)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const sqliteSchemaPath = path.join(root, 'prisma', 'schema.prisma');
export const postgresSchemaPath = path.join(root, 'prisma', 'postgres', 'schema.prisma');

const HEADER = `// GENERATED from prisma/schema.prisma by scripts/postgres-schema.mjs (npm run db:generate).
// Do not edit: change prisma/schema.prisma and regenerate. test/db.postgres.test.ts checks it is current.
`;

/** The PostgreSQL schema for a SQLite schema's text. */
export function toPostgres(source) {
  const problems = [];
  if (/@db\./.test(source)) problems.push('native types (@db.*) are not portable');
  if (/^\s*enum\s+\w+\s*\{/m.test(source)) problems.push('enums are not portable to SQLite');
  if (/\bJson\b/.test(source.replace(/\/\/.*$/gm, ''))) problems.push('Json fields: store JSON as String');
  if (problems.length) throw new Error(`prisma/schema.prisma is not portable: ${problems.join('; ')}`);
  let swaps = 0;
  const out = source
    .replace(/(datasource\s+\w+\s*\{[^}]*?provider\s*=\s*)"sqlite"/, (_m, head) => {
      swaps++;
      return `${head}"postgresql"`;
    })
    .replace(/(generator\s+\w+\s*\{[^}]*?output\s*=\s*)"\.\.\/src\/db\/generated"/, (_m, head) => {
      swaps++;
      return `${head}"../../src/db/generated-pg"`;
    });
  if (swaps !== 2)
    throw new Error('prisma/schema.prisma: expected a sqlite datasource and output "../src/db/generated"');
  return HEADER + out;
}

export function generatePostgresSchema({ check = false } = {}) {
  const wanted = toPostgres(readFileSync(sqliteSchemaPath, 'utf8'));
  let current = '';
  try {
    current = readFileSync(postgresSchemaPath, 'utf8');
  } catch {}
  if (current === wanted) return false;
  if (check) throw new Error('prisma/postgres/schema.prisma is stale: run npm run db:generate');
  writeFileSync(postgresSchemaPath, wanted);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const changed = generatePostgresSchema({ check: process.argv.includes('--check') });
    console.log(changed ? 'wrote prisma/postgres/schema.prisma' : 'prisma/postgres/schema.prisma is current');
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
