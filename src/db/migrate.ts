import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../config/paths.js';

/**
 * Applies the committed migrations with `prisma migrate deploy` (Wasm schema engine, driver
 * adapter): the same path a deployment uses, so start-up and CI exercise the real migrations.
 */
export async function applyMigrations(databaseUrl: string): Promise<void> {
  if (databaseUrl.startsWith('file:')) {
    await mkdir(path.dirname(databaseUrl.slice('file:'.length).replace(/\?.*$/, '')), {
      recursive: true,
    });
  }
  const result = await execa(
    process.execPath,
    [path.join(packageRoot, 'scripts', 'prisma.mjs'), 'migrate', 'deploy'],
    { cwd: packageRoot, env: { DATABASE_URL: databaseUrl }, reject: false, all: true },
  );
  if (result.exitCode !== 0) {
    throw new Error(`Database migration failed for ${databaseUrl}:\n${result.all}`);
  }
}
