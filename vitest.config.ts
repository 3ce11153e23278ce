import { defineConfig } from 'vitest/config';

// Real servers, real processes: generous per-test limits; speed targets live in bench/.
const limits = {
  testTimeout: 180_000,
  hookTimeout: 120_000,
  teardownTimeout: 30_000,
  pool: 'forks',
} as const;

/**
 * The database-heavy files (idempotency and port races, concurrency, lifecycle, the cell API) run a
 * second time with Hive's records on PostgreSQL; test/*.postgres.test.ts (the schema's two providers,
 * several hosts) need that project's server.
 */
const onPostgresToo = [
  'test/activities.idempotency.test.ts',
  'test/provision.concurrency.test.ts',
  'test/lifecycle.test.ts',
  'test/cells.e2e.test.ts',
];

export default defineConfig({
  test: {
    // The root's global setup runs once for both projects (Temporal dev server, workflow bundle,
    // the SQLite template database, Chromium); projects inherit what it provides.
    globalSetup: ['test/support/globalSetup.ts'],
    reporters: ['default', './test/support/summaryReporter.ts'],
    ...limits,
    projects: [
      {
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.ts'],
          exclude: ['test/*.postgres.test.ts'],
          ...limits,
        },
      },
      {
        test: {
          name: 'postgres',
          include: [...onPostgresToo, 'test/*.postgres.test.ts'],
          globalSetup: ['test/support/postgresSetup.ts'],
          env: { HIVE_TEST_DB: 'postgres' },
          ...limits,
        },
      },
    ],
  },
});
