// Configuration for the Prisma CLI only (generate, migrate). It drives migrations through the Wasm
// schema engine with a driver adapter, so no Rust engine is ever downloaded (see docs/prisma.md).
// DATABASE_URL picks the database: `file:` → SQLite (prisma/schema.prisma, the source of truth),
// `postgresql://` → PostgreSQL (prisma/postgres/schema.prisma, generated from it by
// scripts/postgres-schema.mjs, with its own migrations folder).
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { defineConfig } from 'prisma/config';
import { isPostgresUrl, PrismaPgCli } from './src/db/postgres.js';

// The schema's `url = env("DATABASE_URL")` must resolve or the CLI falls back to the Rust engine.
process.env.DATABASE_URL ??= `file:${path.resolve('.hive-data/hive.db')}`;
const url = process.env.DATABASE_URL;
const postgres = isPostgresUrl(url);
const dir = postgres ? path.join('prisma', 'postgres') : 'prisma';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(dir, 'schema.prisma'),
  migrations: { path: path.join(dir, 'migrations') },
  adapter: async () => (postgres ? new PrismaPgCli(url) : new PrismaBetterSQLite3({ url })),
});
