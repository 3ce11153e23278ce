// Hand-written SQL for the few statements a provisioning runs dozens of times: the event log, the
// step records, the cell's status and what an event stream reads each round (issue #23). Prisma 6 compiles every model query anew through its Wasm query compiler,
// ~1.5 ms of CPU on the one event loop that also runs the API and the worker, against ~0.2 ms for a
// raw statement (measured in docs/benchmarks.md, "Cold speed, fifth pass"); a cell records ~50 such
// rows. Everything else stays on the model API. The statements are written once for both providers
// (the common subset of SQLite and PostgreSQL: quoted identifiers, ON CONFLICT, RETURNING), with
// values always bound as parameters; only the table's name, from this file, is spliced in.
import { Prisma } from './generated/client.js';

export type Dialect = 'sqlite' | 'postgresql';

interface RawTarget {
  dialect: Dialect;
  /** PostgreSQL's schema (the URL's `?schema=`, else `public`), which Prisma qualifies tables with. */
  schema?: string;
}

const targets = new WeakMap<object, RawTarget>();

/** Called by createDb: which provider a client speaks, for the statements below. */
export function registerRawTarget(db: object, target: RawTarget): void {
  targets.set(db, target);
}

export function dialectOf(db: object): Dialect {
  return targets.get(db)?.dialect ?? 'sqlite';
}

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** The tables written by hand here (their names are Prisma's model names: no @@map in the schema). */
type HotTable = 'CellEvent' | 'Step' | 'ApiToken' | 'Cell' | 'ServiceInstance' | 'PortAllocation' | 'Host';

/** A table's name as Prisma's own queries name it: schema-qualified on PostgreSQL. */
export function table(db: object, name: HotTable): Prisma.Sql {
  const target = targets.get(db);
  return Prisma.raw(
    target?.dialect === 'postgresql' ? `${quote(target.schema ?? 'public')}.${quote(name)}` : quote(name),
  );
}
