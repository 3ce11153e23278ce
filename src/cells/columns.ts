// Hive's JSON columns, each read back through its one zod shape: a row written by an older version,
// or by hand, fails here with the column's name instead of flowing on as a wrongly typed value.
// What writes them: src/cells/create.ts and src/pools (a request's columns), the archive step
// (`archive`), the host agent (`workspaces`), the step recorder (`detail`).
import { z } from 'zod';
import { Failure } from './failure.js';
import { StoredNotifyTarget } from './notifyTargetSchema.js';
import { ArchiveRecord, Suspension } from './schema.js';

/** `Cell.options`: the option values as validated when the cell was requested. */
export const OptionsColumn = z.record(z.string(), z.unknown());
/** `Cell.constraints`, `Cell.successCriteria`, `Host.workspaces`: lists of text. */
export const TextListColumn = z.array(z.string());
/** `Cell.archive`: what the last archive (or rollback) kept. */
export const ArchiveColumn = ArchiveRecord;
/** `Cell.failure`: why the cell failed (the one failure shape from activity to API). */
export const FailureColumn = Failure;
/** `Cell.suspended`: why, since when and how an idle cell is suspended. */
export const SuspendedColumn = Suspension;
/** `Cell.notify`: the target without its secret (which has its own column, `notifySecret`). */
export const NotifyColumn = StoredNotifyTarget;

/** Parses a JSON column with its shape; a row that does not match throws, naming the column. */
export function readColumn<S extends z.ZodType>(column: string, shape: S, text: string): z.output<S> {
  const parsed = shape.safeParse(JSON.parse(text));
  if (parsed.success) return parsed.data;
  throw new Error(`column ${column} does not hold what Hive writes there: ${z.prettifyError(parsed.error)}`);
}

/**
 * The one reader of `Cell.notify`. Lenient: a target that no longer matches is no target (the
 * delivery records why it sends nothing); the request-time checks are not repeated here.
 */
export function readNotifyColumn(notify: string | null): StoredNotifyTarget | undefined {
  if (!notify) return undefined;
  const parsed = NotifyColumn.safeParse(JSON.parse(notify));
  return parsed.success ? parsed.data : undefined;
}

/** A step's `detail` (its result's summary or its failure): any JSON, shown as it is. */
export const readStepDetail = (detail: string | null): unknown => (detail ? JSON.parse(detail) : null);
