import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { Prisma, PrismaClient } from './generated/client.js';

export type Db = PrismaClient;
export type { Cell } from './generated/client.js';

function sqliteFile(url: string): string {
  return url.replace(/^file:/, '').replace(/\?.*$/, '');
}

/** Builds the Prisma client over the driver adapter (no Rust query engine). */
export function createDb(databaseUrl: string): Db {
  mkdirSync(path.dirname(sqliteFile(databaseUrl)), { recursive: true });
  return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: databaseUrl }) });
}

/** Cheap reachability probe for /healthz. */
export async function pingDb(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}

/** A write refused by a unique constraint (Prisma's P2002), the portable "someone else won". */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
