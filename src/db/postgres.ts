// PostgreSQL for Hive's own records: recognising its URLs, and the driver adapter the Prisma CLI
// (migrate deploy, migrate diff) needs, with the two adapter bugs of @prisma/adapter-pg 6.19.3 worked
// around (see ../shared/notes/prisma-offline.md). The app's runtime client uses the stock PrismaPg.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

/** `postgresql://…` or `postgres://…`: Hive's records on PostgreSQL; anything else is SQLite. */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//i.test(url);

/**
 * A URL as discrete connection fields. A Unix socket folder may be given as `?host=/path` (libpq's
 * form); `?schema=` names the PostgreSQL schema (Prisma's form). The CLI's adapter must not get a
 * `connectionString`: its shadow-database handling then connects to the real database.
 */
export function postgresConfig(url: string): pg.PoolConfig & { schema?: string } {
  const u = new URL(url);
  const socket = u.searchParams.get('host');
  return {
    host: socket || decodeURIComponent(u.hostname) || 'localhost',
    port: u.port ? Number(u.port) : 5432,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined,
    ...(u.searchParams.get('sslmode') === 'require' ? { ssl: { rejectUnauthorized: false } } : {}),
    ...(u.searchParams.get('schema') ? { schema: u.searchParams.get('schema') as string } : {}),
  };
}

/** Catalog types the Wasm schema engine reads and the adapter refuses to map (prisma/prisma#27403). */
const NAME_OID = 19;
const CHAR_OID = 18;
const TEXT_OID = 25;

type QueryResultLike = { fields?: Array<{ dataTypeID: number }> };

function asText<T>(result: T): T {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of (r as QueryResultLike | undefined)?.fields ?? []) {
      if (field.dataTypeID === NAME_OID || field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

/** A pg client reporting `name` and `"char"` columns as text: what the schema engine needs. */
class CatalogTextClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query has a dozen overloads; this wraps them all.
  override query(...args: any[]): any {
    const last = args.length - 1;
    // pg.Pool#query calls its client with a callback; the adapter's transactions use the promise.
    if (typeof args[last] === 'function') {
      const callback = args[last];
      // biome-ignore lint/suspicious/noExplicitAny: see above.
      args[last] = (error: Error | null, result: any) => callback(error, error ? result : asText(result));
    }
    // biome-ignore lint/suspicious/noExplicitAny: see above.
    const result = (super.query as (...a: any[]) => any)(...args);
    return result && typeof result.then === 'function' ? result.then(asText) : result;
  }
}

/** Pool options of the CLI: patched clients, and idle ones that let a finished command exit at once. */
const cliPool: pg.PoolConfig = { Client: CatalogTextClient, allowExitOnIdle: true, idleTimeoutMillis: 1_000 };

/**
 * The Prisma CLI's adapter for PostgreSQL (prisma.config.ts): catalog columns as text, discrete
 * connection fields, and a shadow database whose pool is closed before it is dropped.
 */
export class PrismaPgCli extends PrismaPg {
  private readonly fields: pg.PoolConfig;

  constructor(url: string) {
    const { schema, ...fields } = postgresConfig(url);
    super({ ...fields, ...cliPool }, schema ? { schema } : undefined);
    this.fields = fields;
  }

  override async connectToShadowDb() {
    const admin = await this.connect();
    const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID()}`;
    await admin.executeScript(`CREATE DATABASE "${database}"`);
    const shadow = new PrismaPg({ ...this.fields, database, ...cliPool });
    const adapter = await shadow.connect();
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose();
      await admin.executeScript(`DROP DATABASE IF EXISTS "${database}"`);
      await admin.dispose();
    };
    return adapter;
  }
}
