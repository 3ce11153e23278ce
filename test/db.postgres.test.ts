import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { recordEvent } from '../src/cells/events.js';
import { packageRoot } from '../src/config/paths.js';
import { createDb, type Db, EVENT_ORDER_LOCK, isUniqueViolation } from '../src/db/client.js';
import { cloneDatabase, dropDatabase } from './support/postgres.js';

// Runs in the `postgres` project (vitest.config.ts), on the run's PostgreSQL server.
const node = (script: string, args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [path.join(packageRoot, 'scripts', script), ...args], {
    cwd: packageRoot,
    env,
    reject: false,
    all: true,
  });

describe('one source of truth for the models', () => {
  it('prisma/postgres/schema.prisma is generated from prisma/schema.prisma and current', async () => {
    const result = await node('postgres-schema.mjs', ['--check']);
    expect(result.all).toContain('is current');
    expect(result.exitCode).toBe(0);
  });

  it("PostgreSQL's migrations build exactly its schema (a shadow database on the test server)", async () => {
    const result = await node(
      'prisma.mjs',
      [
        'migrate',
        'diff',
        '--from-migrations',
        path.join('prisma', 'postgres', 'migrations'),
        '--to-schema-datamodel',
        path.join('prisma', 'postgres', 'schema.prisma'),
        '--exit-code',
      ],
      { DATABASE_URL: inject('postgresTemplateUrl') },
    );
    // --exit-code: 0 = no difference, 2 = the migrations lack a change (run npm run db:migration).
    expect(result.all).toContain('No difference detected');
    expect(result.exitCode).toBe(0);
  });

  it('every SQLite migration after the PostgreSQL baseline has its PostgreSQL twin', async () => {
    const dirs = async (dir: string) =>
      (await readdir(path.join(packageRoot, dir), { withFileTypes: true }))
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    const postgres = await dirs('prisma/postgres/migrations');
    const baseline = postgres.find((name) => name.endsWith('_baseline'));
    expect(baseline).toBeDefined();
    const later = (await dirs('prisma/migrations')).filter((name) => name > (baseline as string));
    expect(later.filter((name) => !postgres.includes(name))).toEqual([]);
  });
});

describe('PostgreSQL specifics', () => {
  let db: Db;
  let url: string;
  beforeAll(async () => {
    url = await cloneDatabase(inject('postgresTemplateUrl'), `t_db_postgres_${process.pid}`);
    db = createDb(url);
    await db.cell.create({
      data: {
        id: 'c1',
        name: 'one',
        workspaceId: 'demo',
        templateId: 'web',
        status: 'pending',
        workflowId: 'cell-c1',
        brief: 'b',
        idempotencyKey: 'key-1',
      },
    });
  });
  afterAll(async () => {
    await db?.$disconnect();
    if (url) await dropDatabase(url);
  });

  it('a unique violation is P2002, as on SQLite', async () => {
    const error = await db.cell
      .create({
        data: {
          id: 'c2',
          name: 'two',
          workspaceId: 'demo',
          templateId: 'web',
          status: 'pending',
          workflowId: 'cell-c2',
          brief: 'b',
          idempotencyKey: 'key-1',
        },
      })
      .catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
  });

  it('event ids become visible in id order: an insert waits for the one in flight before it', async () => {
    // An event insert in flight elsewhere (it holds the order lock, as every event Hive records does).
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT pg_advisory_xact_lock(${EVENT_ORDER_LOCK})`);
      const { rows } = await other.query(
        `INSERT INTO "CellEvent" ("cellId", type, data) VALUES ('c1', 'operation', '{}') RETURNING id`,
      );
      let done = false;
      // Hive's one writer of events (raw SQL that takes the lock in the same statement).
      const next = recordEvent(db, 'c1', 'operation', { step: 'worktree', operation: 'after' }).finally(
        () => {
          done = true;
        },
      );
      await new Promise((r) => setTimeout(r, 300));
      // Without the lock it would commit first with a higher id, and a reader resuming after it
      // would never see the lower one.
      expect(done).toBe(false);
      await other.query('COMMIT');
      await next;
      const after = await db.cellEvent.findFirst({ where: { data: { contains: 'after' } } });
      expect(after?.id).toBeGreaterThan(rows[0].id);
    } finally {
      await other.end();
    }
  });
});
