// Runs a command with DATABASE_URL pointing at a throwaway PostgreSQL server (Debian's binaries, a
// temporary folder, a Unix socket), then stops and removes it. The Prisma CLI needs a live server
// for every PostgreSQL diff; this is how scripts/new-migration.mjs gets one.
// Usage: npx tsx scripts/with-postgres.ts <command> [args...]
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestPostgres } from '../test/support/postgres.js';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: npx tsx scripts/with-postgres.ts <command> [args...]');
  process.exit(2);
}
const dir = await mkdtemp(path.join(tmpdir(), 'hive-scratch-pg-'));
let status = 1;
try {
  const server = await startTestPostgres(path.join(dir, 'pg'));
  try {
    await server.admin('CREATE DATABASE scratch');
    const result = spawnSync(command, args, {
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: server.url('scratch') },
    });
    status = result.status ?? 1;
  } finally {
    await server.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(status);
