#!/usr/bin/env node
// Runs the Prisma CLI the offline way: driver adapter + Wasm engines, long timers unref'd.
// Usage: node scripts/prisma.mjs <prisma args...>
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cli = require.resolve('prisma/build/index.js', { paths: [root] });
const preload = path.join(root, 'scripts', 'unref-timers.cjs');
const result = spawnSync(process.execPath, ['--require', preload, cli, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
});
process.exit(result.status ?? 1);
