#!/usr/bin/env node
// `npm run db:generate` (and postinstall): prisma/postgres/schema.prisma from prisma/schema.prisma,
// then both Prisma clients: src/db/generated (SQLite) and src/db/generated-pg (PostgreSQL).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePostgresSchema, postgresSchemaPath } from './postgres-schema.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (generatePostgresSchema()) console.log(`wrote ${path.relative(root, postgresSchemaPath)}`);
const prisma = path.join(root, 'scripts', 'prisma.mjs');
for (const url of [undefined, 'postgresql://localhost:5432/hive']) {
  // The URL only picks the schema (prisma.config.ts); generating connects to nothing.
  const env = { ...process.env };
  if (url) env.DATABASE_URL = url;
  else if (env.DATABASE_URL?.match(/^postgres(ql)?:/i)) delete env.DATABASE_URL;
  const result = spawnSync(process.execPath, [prisma, 'generate', ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env,
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
