import { ErrorType } from '../cells/catalog.js';
import type { CellPlan, DatabaseOutcome, DatabasePlan } from '../cells/plan.js';
import {
  cloneDatabase,
  type DatabaseTarget,
  databaseUrl,
  dropDatabase,
  ensureTemplate,
  templateDatabase,
} from '../databases/cellDatabases.js';
import { DatabaseServerError, ensureServer, isRunning, serverPathsAt } from '../databases/server.js';
import { permanent } from './failures.js';

// The environment step's databases: each `type: 'postgres'` service of the template becomes a
// database of the cell's own, cloned from a template database on the workspace's server.

/** How a cell's process reaches one database: `<NAME>_URL` etc., and the first as DATABASE_URL and PG*. */
export function databaseEnv(target: DatabaseTarget, name: string, first: boolean): Record<string, string> {
  const url = databaseUrl(target);
  return {
    [`${name}_URL`]: url,
    [`${name}_HOST`]: target.host,
    [`${name}_PORT`]: String(target.port),
    [`${name}_DATABASE`]: target.database,
    [`${name}_USER`]: target.user,
    ...(first
      ? {
          DATABASE_URL: url,
          PGHOST: target.host,
          PGPORT: String(target.port),
          PGDATABASE: target.database,
          PGUSER: target.user,
        }
      : {}),
  };
}

/** The server a database plan names, running (started when it is not); a clear failure otherwise. */
async function serverFor(database: DatabasePlan) {
  const server = serverPathsAt(database.serverRoot);
  try {
    await ensureServer(server);
  } catch (error) {
    if (!(error instanceof DatabaseServerError)) throw error;
    throw permanent(ErrorType.DatabaseUnavailable, error.message, {
      hint: error.hint,
      logTail: error.logTail,
    });
  }
  return server;
}

/**
 * Each database of the plan: the workspace's server started if needed, the template database built
 * by the seed when its inputs are new, and the cell's own database cloned from it. Idempotent (a
 * second run finds the clone and keeps it).
 */
export async function provideDatabases({
  plan,
  report,
  seed,
}: {
  plan: CellPlan;
  report: (operation: string) => Promise<void>;
  /** Runs the seed commands against the template database being built. */
  seed: (database: DatabasePlan, target: DatabaseTarget, commands: string[]) => Promise<void>;
}): Promise<DatabaseOutcome[]> {
  const outcomes: DatabaseOutcome[] = [];
  for (const database of plan.databases ?? []) {
    const started = Date.now();
    await report(`database ${database.name}: starting the workspace's PostgreSQL server`);
    const server = await serverFor(database);
    const template = await templateDatabase(plan.worktreePath, {
      workspaceId: plan.workspaceId,
      templateId: plan.templateId,
      name: database.name,
      seed: database.seed,
      inputs: database.inputs,
    });
    await report(`database ${database.name}: template ${template.name}`);
    const source = await ensureTemplate(server, template, plan.cellId, async (target) => {
      await report(`database ${database.name}: seeding a new template (${database.seed.length} commands)`);
      await seed(database, target, database.seed);
    });
    await report(`database ${database.name}: cloning ${template.name} into ${database.database}`);
    await cloneDatabase(server, template.name, database);
    outcomes.push({
      name: database.name,
      database: database.database,
      template: template.name,
      source,
      ms: Date.now() - started,
    });
  }
  return outcomes;
}

/**
 * Drops the cell's databases (rollback, cancel, archive). A server that is not running is started
 * to drop them, since a database not dropped would be residue; where PostgreSQL is not installed,
 * no database of the cell can exist.
 */
export async function dropCellDatabases(plan: CellPlan): Promise<string[]> {
  const dropped: string[] = [];
  for (const database of plan.databases ?? []) {
    const server = serverPathsAt(database.serverRoot);
    if (!(await isRunning(server))) {
      try {
        await ensureServer(server);
      } catch (error) {
        if (error instanceof DatabaseServerError && error.kind === 'not-installed') continue;
        throw error;
      }
    }
    await dropDatabase(server, database.database);
    dropped.push(database.database);
  }
  return dropped;
}
