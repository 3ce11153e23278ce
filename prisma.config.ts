// Configuration for the Prisma CLI only (generate, migrate). It drives migrations through the Wasm
// schema engine with a driver adapter, so no Rust engine is ever downloaded (see docs/prisma.md).
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { defineConfig } from 'prisma/config';

// The schema's `url = env("DATABASE_URL")` must resolve or the CLI falls back to the Rust engine.
process.env.DATABASE_URL ??= `file:${path.resolve('.hive-data/hive.db')}`;
const url = process.env.DATABASE_URL;

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  adapter: async () => new PrismaBetterSQLite3({ url }),
});
