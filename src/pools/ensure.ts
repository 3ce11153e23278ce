// Starting (or waking) the workflow that owns a template's warm pool. From the API side: `hive up`
// and `hive api` at start, a request for a pooled template, and a look at the catalog. The workflow
// is started by its type name: the API never loads workflow code.
import type { Client } from '@temporalio/client';
import type { Workspace } from '../config/env.js';
import type { ConfigLoader } from '../templates/loader.js';
import { TemplateIdKey, WorkspaceIdKey } from '../temporal/searchAttributes.js';
import { poolWorkflowId } from './key.js';
import { poolChangedSignal } from './messages.js';
import type { keepPool } from './workflows/index.js';

export interface PoolDeps {
  client: Client;
  taskQueue: string;
  historyLimit?: number;
  /** Between two looks of a pool at its cells when nothing wakes it (default 30 s). */
  poolCheckMs?: number;
  /** Where tolerated failures are told (a pool is an optimisation: they never fail a request). */
  log?: { warn: (detail: object, message: string) => void };
}

/** A pool woken less than this long ago is not woken again (a catalog polled by a dashboard). */
const WAKE_AT_MOST_EVERY_MS = 1_000;
/** Bounded: a pool of a template since removed is forgotten once the map is full. */
const MAX_REMEMBERED = 1_000;
const woken = new Map<string, number>();

/**
 * Starts the pool's workflow if it does not run, else signals it to look at its cells now. Cheap
 * and idempotent (signal-with-start); throttled unless `now`. Never throws: a pool is an optimisation.
 */
export async function ensurePool(
  deps: PoolDeps,
  workspace: Workspace,
  templateId: string,
  { now = false }: { now?: boolean } = {},
): Promise<void> {
  const workflowId = poolWorkflowId(workspace.id, templateId);
  const key = `${deps.taskQueue}/${workflowId}`;
  const last = woken.get(key);
  if (!now && last !== undefined && Date.now() - last < WAKE_AT_MOST_EVERY_MS) return;
  woken.delete(key);
  if (woken.size >= MAX_REMEMBERED) woken.delete(woken.keys().next().value ?? '');
  woken.set(key, Date.now());
  await deps.client.workflow
    .signalWithStart<typeof keepPool, []>('keepPool', {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [
        {
          workspaceId: workspace.id,
          templateId,
          workspacePath: workspace.path,
          historyLimit: deps.historyLimit,
          checkEveryMs: deps.poolCheckMs,
        },
      ],
      signal: poolChangedSignal,
      signalArgs: [],
      typedSearchAttributes: [
        { key: TemplateIdKey, value: templateId },
        { key: WorkspaceIdKey, value: workspace.id },
      ],
      staticSummary: `warm pool of ${workspace.id}/${templateId}`,
      staticDetails: `Keeps the template's \`pool.size\` cells ready at the base commit of \`${workspace.path}\`.`,
    })
    .catch((error: unknown) => {
      woken.delete(key);
      deps.log?.warn({ workflowId, err: error }, 'warm pool not started or woken');
    });
}

/** Every pooled template of these workspaces: its pool's workflow running. */
export async function ensurePools(
  deps: PoolDeps & { configs: ConfigLoader },
  workspaces: Workspace[],
): Promise<void> {
  for (const workspace of workspaces) {
    const loaded = await deps.configs.load(workspace.path);
    if (!loaded.ok) continue;
    for (const template of loaded.templates) {
      if (template.pool?.size) await ensurePool(deps, workspace, template.id, { now: true });
    }
  }
}
