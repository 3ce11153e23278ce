import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type HiveApp } from '../src/api/app.js';
import { createDb, type Db } from '../src/db/client.js';
import { createConfigLoader } from '../src/templates/loader.js';
import { createGitRepo } from './support/gitRepo.js';

// A full disk, for real: Hive's data directory on a small tmpfs, filled up. A request that must be
// stored answers 503 naming the data directory (not an opaque 500), and /healthz says the disk is
// the problem. Needs root (mount); skipped otherwise.

const root = process.getuid?.() === 0;
let dataDir: string;
let mounted = false;
let db: Db;
let app: HiveApp;
let connection: Connection;
let workspacePath: string;
let api: string;

beforeAll(async () => {
  if (!root) return;
  dataDir = await mkdtemp(path.join(tmpdir(), 'hive-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dataDir]);
  mounted = true;
  const dbFile = path.join(dataDir, 'hive.db');
  await copyFile(inject('templateDbPath'), dbFile);
  db = createDb(`file:${dbFile}`);
  await db.cell.count();
  workspacePath = await createGitRepo({
    'README.md': '# demo\n',
    'hive.config.json': JSON.stringify({ templates: { bare: { label: 'Worktree only' } } }),
  });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  app = await buildApp({
    db,
    temporal: { client: new Client({ connection }), namespace: 'default', taskQueue: `disk-${process.pid}` },
    workspaces: [{ id: 'demo', path: workspacePath }],
    configs: createConfigLoader(),
    dataDir,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  api = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
  await connection?.close();
  await db?.$disconnect();
  if (mounted) execFileSync('umount', ['-l', dataDir]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (workspacePath) await rm(workspacePath, { recursive: true, force: true });
});

describe.skipIf(!root)('a full disk', () => {
  it('answers 503 naming the data directory, and /healthz reports it', async () => {
    const healthy = (await (await fetch(`${api}/healthz`)).json()) as { checks: { disk: { ok: boolean } } };
    expect(healthy.checks.disk.ok).toBe(false); // 1 MiB is below the 32 MiB floor already

    // Fill what is left: the next write of the database finds no space.
    await writeFile(path.join(dataDir, 'filler'), Buffer.alloc(2 * 1024 * 1024)).catch(
      (error: NodeJS.ErrnoException) => {
        expect(error.code).toBe('ENOSPC');
      },
    );
    const response = await fetch(`${api}/cells`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        workspace: 'demo',
        template: 'bare',
        brief: 'x'.repeat(20_000),
        constraints: ['y'.repeat(2_000)],
      }),
    });
    const problem = (await response.json()) as { type: string; detail: string };
    expect(response.status, JSON.stringify(problem)).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(problem.type).toBe('urn:hive-cells:problem:disk-full');
    expect(problem.detail).toContain(dataDir);

    const health = await fetch(`${api}/healthz`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as {
      status: string;
      checks: { disk: { ok: boolean; detail: string } };
    };
    expect(body.status).toBe('degraded');
    expect(body.checks.disk).toMatchObject({ ok: false });
    expect(body.checks.disk.detail).toContain(dataDir);
  });
});
