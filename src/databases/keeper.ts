import { stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { Step } from '../cells/catalog.js';
import { readStepDetail } from '../cells/columns.js';
import { recordEvent } from '../cells/events.js';
import { finalStatuses } from '../cells/status.js';
import type { Db } from '../db/client.js';
import {
  ensureServer,
  isRunning,
  looksAlive,
  postmasterPid,
  type ServerPaths,
  serverPaths,
} from './server.js';

/** What the environment step's record says of a cell's databases (its `detail`), all that is read here. */
const EnvironmentDetail = z.object({ databases: z.array(z.unknown()).optional() });

// The workspaces' PostgreSQL servers are not processes of a cell, so cell supervision does not see
// them: this per-host keeper does. At worker start it brings back the server of every workspace
// whose live cells have databases (`hive up` stops them when it stops), before the worker serves;
// then it looks at each server every few seconds and starts again one that died.

export interface DatabaseKeeperOptions {
  db: Db;
  /** Hive's data dir on this host: the servers live under `<dataDir>/postgres/<workspace>`. */
  dataDir: string;
  /** This host: only the cells placed here (or nowhere yet) are its concern. */
  host: string;
  /** This host's workspaces, read at each look (one may be added while Hive runs). */
  workspaces: () => string[];
  /** Between looks (default 3 s). */
  everyMs?: number;
  log?: (line: string) => void;
}

export interface DatabaseKeeper {
  /** Stops looking; resolves once a restart under way has finished (none starts after). */
  stop(): Promise<void>;
}

/**
 * The live cells (not rolled back, cancelled or archived) of this host whose environment step made
 * databases, by workspace: the servers that must run.
 */
export async function cellsWithDatabases(
  db: Db,
  { host, workspaces }: { host: string; workspaces: string[] },
): Promise<Map<string, string[]>> {
  const environment = { name: Step.environment, kind: 'forward', status: 'succeeded' };
  const cells = await db.cell.findMany({
    where: {
      workspaceId: { in: workspaces },
      status: { notIn: [...finalStatuses] },
      OR: [{ host }, { host: null }],
      steps: { some: environment },
    },
    select: { id: true, workspaceId: true, steps: { where: environment, select: { detail: true } } },
  });
  const byWorkspace = new Map<string, string[]>();
  for (const cell of cells) {
    const detail = EnvironmentDetail.safeParse(readStepDetail(cell.steps[0]?.detail ?? null));
    if (!detail.success || !detail.data.databases?.length) continue;
    byWorkspace.set(cell.workspaceId, [...(byWorkspace.get(cell.workspaceId) ?? []), cell.id]);
  }
  return byWorkspace;
}

/** A server whose restart failed is tried again after this long (doubling, up to a minute). */
const RETRY_MS = 5_000;

/**
 * Starts keeping this host's workspace servers: the first look (which brings back the servers Hive's
 * stop took down) is done when this resolves; later looks run every `everyMs`. A look costs two
 * small file reads and a stat per workspace; the records are read only when a server is found
 * down, and not again for a server nobody needs until it has been seen running.
 */
export async function keepDatabaseServers(options: DatabaseKeeperOptions): Promise<DatabaseKeeper> {
  const { db, dataDir, log = (line) => console.warn(line) } = options;
  const everyMs = options.everyMs ?? 3_000;
  /** Workspaces whose server is down and nobody needs it (until it is seen running again). */
  const idle = new Set<string>();
  const retry = new Map<string, { at: number; delayMs: number }>();
  let stopped = false;

  async function restart(workspaceId: string, paths: ServerPaths, cellIds: string[], why: string) {
    try {
      // Someone else (a cell's environment step, another worker of this host) was quicker.
      if (await isRunning(paths)) return void retry.delete(workspaceId);
      await ensureServer(paths);
      retry.delete(workspaceId);
      const pid = await postmasterPid(paths);
      for (const cellId of cellIds) {
        await recordEvent(db, cellId, 'operation', {
          step: Step.environment,
          operation: `the workspace's PostgreSQL server ${why}: started it again (postmaster ${pid ?? '?'})`,
        });
      }
    } catch (error) {
      const delayMs = Math.min((retry.get(workspaceId)?.delayMs ?? RETRY_MS / 2) * 2, 60_000);
      retry.set(workspaceId, { at: Date.now() + delayMs, delayMs });
      log(
        `workspace ${workspaceId}: its PostgreSQL server ${why} and did not start again (next try in ${delayMs / 1000} s): ${String(error)}`,
      );
    }
  }

  async function look(why: string) {
    let needed: Map<string, string[]> | undefined;
    // Servers start side by side: one slow to start does not hold the others back.
    const restarts: Array<Promise<void>> = [];
    for (const workspaceId of options.workspaces()) {
      if (stopped) break;
      const paths = serverPaths(dataDir, workspaceId);
      if (await looksAlive(paths)) {
        idle.delete(workspaceId);
        continue;
      }
      if (idle.has(workspaceId) || (retry.get(workspaceId)?.at ?? 0) > Date.now()) continue;
      // No cluster: no cell ever had a database here (or it was removed); nothing to bring back.
      if (!(await stat(path.join(paths.data, 'PG_VERSION')).catch(() => undefined))) continue;
      needed ??= await cellsWithDatabases(db, { host: options.host, workspaces: options.workspaces() });
      const cellIds = needed.get(workspaceId);
      if (!cellIds) {
        idle.add(workspaceId);
        continue;
      }
      restarts.push(restart(workspaceId, paths, cellIds, why));
    }
    await Promise.all(restarts);
  }

  await look('was down when Hive started').catch((error: unknown) =>
    log(`database servers not brought back at start: ${String(error)}`),
  );
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = look('had stopped')
        .catch((error: unknown) => log(`database servers not looked at: ${String(error)}`))
        .finally(schedule);
    }, everyMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
