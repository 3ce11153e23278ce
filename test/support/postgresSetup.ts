import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../../src/db/migrate.js';
import { startTestPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The migrated template database on the run's PostgreSQL server (the `postgres` project). */
    postgresTemplateUrl: string;
  }
}

/**
 * The `postgres` project's global setup (the root's, test/support/globalSetup.ts, runs as well): ONE
 * PostgreSQL server for the run from Debian's binaries, under the run's temp dir on a Unix socket,
 * with a template database migrated by the real `prisma migrate deploy`. Each test file gets a copy
 * (CREATE DATABASE … TEMPLATE), as SQLite files copy template.db.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(tmpdir(), 'hive-test-pg-'));
  const server = await startTestPostgres(path.join(dir, 'server'));
  await server.admin('CREATE DATABASE hive_template');
  await applyMigrations(server.url('hive_template'));
  project.provide('postgresTemplateUrl', server.url('hive_template'));
  return async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
