import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from './generated/client.js';
import { PrismaClient as PostgresPrismaClient } from './generated-pg/client.js';
import { isPostgresUrl, postgresConfig } from './postgres.js';
import { registerRawTarget } from './rawSql.js';

/**
 * Hive's records, on SQLite (the embedded default) or PostgreSQL. One set of models
 * (prisma/schema.prisma), two generated clients: Prisma compiles queries per provider (the client
 * embeds the provider's Wasm query compiler and refuses an adapter of another one), so
 * src/db/generated serves SQLite and src/db/generated-pg PostgreSQL. Their APIs are the same but for
 * provider-only options (e.g. `mode: 'insensitive'`); the type is the SQLite client's, so code
 * written against `Db` is portable to both.
 */
export type Db = PrismaClient;
export type { Cell } from './generated/client.js';
export { isPostgresUrl } from './postgres.js';

function sqliteFile(url: string): string {
  return url.replace(/^file:/, '').replace(/\?.*$/, '');
}

/**
 * The lock that orders CellEvent inserts on PostgreSQL. An event's autoincrement id is its SSE id
 * and streams resume after the last id they sent, so ids must become visible in id order. SQLite
 * commits one write at a time, so they do; PostgreSQL hands out sequence values before commit, so
 * two concurrent inserts could commit out of order and a reader would skip the lower id for good.
 * Holding one transaction-level advisory lock from before `nextval` until commit makes id order
 * commit order (a few hundred µs per event; see docs/scaling.md). Events are written only by
 * appendEvent (src/cells/events.ts), whose one statement takes it.
 */
export const EVENT_ORDER_LOCK = 0x48495645; // "HIVE"

function createPostgresDb(databaseUrl: string): Db {
  const { schema } = postgresConfig(databaseUrl);
  const db = new PostgresPrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl }, schema ? { schema } : undefined),
  });
  registerRawTarget(db, { dialect: 'postgresql', schema });
  return db as unknown as Db;
}

/**
 * Builds the Prisma client over the driver adapter (no Rust query engine): PostgreSQL for a
 * `postgresql://` URL, else SQLite (`file:`).
 */
export function createDb(databaseUrl: string): Db {
  if (isPostgresUrl(databaseUrl)) return createPostgresDb(databaseUrl);
  mkdirSync(path.dirname(sqliteFile(databaseUrl)), { recursive: true });
  const db = new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: databaseUrl }) });
  registerRawTarget(db, { dialect: 'sqlite' });
  // The file is in WAL mode (src/db/migrate.ts); with synchronous=NORMAL a commit no longer waits for
  // an fsync (3.4 → 0.9 ms a write, measured): a crash of Hive (kill -9) loses nothing; only a power
  // cut may lose the last commits, and then records lag Temporal's history until the cell's next
  // transition. The adapter holds one connection: set once.
  void db.$executeRawUnsafe('PRAGMA synchronous = NORMAL').catch(() => undefined);
  return db;
}

/** Cheap reachability probe for /healthz. */
export async function pingDb(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}

/**
 * A write refused by a unique constraint (Prisma's P2002, or a raw statement's P2010 of that kind),
 * the portable "someone else won". Both clients throw the runtime's one PrismaClientKnownRequestError
 * class.
 */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (error.code === 'P2002') return true;
  // A raw statement's (src/db/rawSql.ts): P2010, with the driver adapter's own kind of error.
  const cause = (error.meta?.driverAdapterError as { cause?: { kind?: string } } | undefined)?.cause;
  return error.code === 'P2010' && cause?.kind === 'UniqueConstraintViolation';
}
