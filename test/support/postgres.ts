import { mkdir } from 'node:fs/promises';
import pg from 'pg';
import {
  client,
  DATABASE_USER,
  ensureServer,
  SOCKET_PORT,
  serverPathsAt,
  stopServer,
} from '../../src/databases/server.js';

/**
 * A real PostgreSQL server for Hive's own records in tests, from Debian's binaries: the same
 * initdb/start as a workspace's built-in server (src/databases/server.ts, Unix socket, trust), under
 * `root`, tuned for throwaway data (no fsync).
 */
export interface TestPostgres {
  /** URL of a database on it (Unix socket in `?host=`). */
  url(database: string): string;
  /** Runs SQL as the superuser on the `postgres` database. */
  admin(sql: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestPostgres(root: string): Promise<TestPostgres> {
  await mkdir(root, { recursive: true });
  const paths = serverPathsAt(root);
  await ensureServer(paths);
  const admin = async (sql: string) => {
    const c = client(paths);
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  for (const setting of ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off']) {
    await admin(`ALTER SYSTEM SET ${setting}`);
  }
  await admin('SELECT pg_reload_conf()');
  return {
    url: (database) =>
      `postgresql://${DATABASE_USER}@localhost:${SOCKET_PORT}/${database}?host=${encodeURIComponent(paths.socketDir)}`,
    admin,
    stop: () => stopServer(paths),
  };
}

/** Runs one statement on the server of `databaseUrl`, connected to its `postgres` database. */
async function onServer(databaseUrl: string, sql: string): Promise<void> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A fresh database cloned from `template` (CREATE DATABASE … TEMPLATE: a file copy, ~50 ms). */
export async function cloneDatabase(templateUrl: string, name: string): Promise<string> {
  const url = new URL(templateUrl);
  await onServer(templateUrl, `CREATE DATABASE "${name}" TEMPLATE "${url.pathname.slice(1)}"`);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by cloneDatabase, ending its sessions. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  await onServer(
    databaseUrl,
    `DROP DATABASE IF EXISTS "${new URL(databaseUrl).pathname.slice(1)}" WITH (FORCE)`,
  );
}
