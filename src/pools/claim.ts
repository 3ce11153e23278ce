// Warm pools, the claim: a request that matches a template's pool takes one of its ready cells by a
// compare-and-set on the record (so no two requests ever get the same one), and the cell becomes the
// request's: same id, worktree and branch (`cell/<id>`, named by the id, never by a pool), the
// request's name, brief, constraints, notify target, creator and idempotency key; its workflow then
// renders the prompt with the brief and the cell is ready.
import { notifyColumns } from '../cells/create.js';
import { recordAction, recordEvent } from '../cells/events.js';
import type { OptionValues } from '../cells/plan.js';
import type { CellRequest } from '../cells/schema.js';
import type { Db } from '../db/client.js';
import { resolveCommit } from '../templates/hostChecks.js';
import type { ConfigLoader } from '../templates/loader.js';
import { optionsSchema } from '../templates/model.js';
import { claimSignal, poolChangedSignal } from '../workflows/control.js';
import { ensurePool, type PoolDeps } from './ensure.js';
import { defaultOptions, poolKey, poolSize, poolWorkflowId, readHeadCommit, sameOptions } from './key.js';

export interface ClaimDeps extends PoolDeps {
  db: Db;
  workspaces: Array<{ id: string; path: string }>;
  configs: ConfigLoader;
}

/** How long the API waits for a claimed cell's hand-over before answering with it as it is. */
const HANDOVER_WAIT_MS = 5_000;
const CANDIDATES = 8;

type CellRow = NonNullable<Awaited<ReturnType<Db['cell']['findUnique']>>>;

/**
 * Serves a request from its template's pool: the claimed cell (ready, or handing over when its
 * worker is slow), or undefined when the request does not match the pool or the pool is empty —
 * the request is then provisioned cold. What matches: a pooled template of the request's
 * workspace, options that are the template's defaults (given or not), and no baseRef or one naming
 * the commit the pool was built at. Brief, name, constraints, success criteria, onFailure (a ready
 * cell does not fail provisioning) and notify are the request's own and do not matter.
 */
export async function claimFromPool(
  deps: ClaimDeps,
  request: CellRequest,
  meta: { idempotencyKey?: string; requestHash: string; createdBy?: string },
): Promise<CellRow | undefined> {
  const workspace = deps.workspaces.find((w) => w.id === request.workspace);
  if (!workspace) return undefined;
  const loaded = await deps.configs.load(workspace.path);
  const template = loaded.ok ? loaded.templates.find((t) => t.id === request.template) : undefined;
  if (!template || poolSize(template) === 0) return undefined;
  const defaults = defaultOptions(template);
  const options = optionsSchema(template).safeParse(request.options ?? {});
  if (!defaults || !options.success || !sameOptions(options.data as OptionValues, defaults)) {
    return undefined;
  }
  const head = (await readHeadCommit(workspace.path)) ?? (await resolveCommit(workspace.path, 'HEAD'));
  if (!head) return undefined;
  if (request.baseRef && (await resolveCommit(workspace.path, request.baseRef)) !== head) return undefined;
  const key = poolKey(template, head);

  const claimed = await compareAndSet(deps.db, request, meta, {
    workspaceId: workspace.id,
    templateId: template.id,
    key,
  });
  const poolDeps: PoolDeps = deps;
  if (!claimed) {
    // Empty (or not yet started): make sure it runs and fills, for the next request.
    await ensurePool(poolDeps, workspace, template.id);
    return undefined;
  }
  const workflows = deps.client.workflow;
  await recordAction(deps.db, claimed, { action: 'create', by: meta.createdBy ?? 'local' });
  await recordEvent(deps.db, claimed, 'status', { status: 'provisioning' });
  // If this process dies before it is sent, the pool's workflow sends it (it sees the record).
  await workflows
    .getHandle(`cell-${claimed}`)
    .signal(claimSignal)
    .catch(() => undefined);
  // The pool refills in the background.
  void workflows
    .getHandle(poolWorkflowId(workspace.id, template.id))
    .signal(poolChangedSignal)
    .catch(() => ensurePool(poolDeps, workspace, template.id, { now: true }));
  return waitForHandOver(deps.db, claimed);
}

/** Takes one ready, fresh pool cell for the request; the id of the one taken, or undefined. */
async function compareAndSet(
  db: Db,
  request: CellRequest,
  meta: { idempotencyKey?: string; requestHash: string; createdBy?: string },
  pool: { workspaceId: string; templateId: string; key: string },
): Promise<string | undefined> {
  for (;;) {
    const candidates = await db.cell.findMany({
      where: {
        workspaceId: pool.workspaceId,
        templateId: pool.templateId,
        poolState: 'pooled',
        status: 'ready',
        poolKey: pool.key,
        // A request naming a host is served by a pool cell only on that host.
        ...(request.host ? { host: request.host } : {}),
      },
      select: { id: true },
      orderBy: { readyAt: 'asc' },
      take: CANDIDATES,
    });
    if (candidates.length === 0) return undefined;
    // Racing requests start at different candidates, so most of them win at the first try.
    const offset = Math.floor(Math.random() * candidates.length);
    for (let i = 0; i < candidates.length; i++) {
      const id = candidates[(offset + i) % candidates.length]?.id;
      if (!id) continue;
      const now = new Date();
      const { count } = await db.cell.updateMany({
        where: { id, poolState: 'pooled', status: 'ready' },
        data: {
          poolState: 'claimed',
          claimedAt: now,
          // The record is the request's from here on: it was created when the request came.
          createdAt: now,
          status: 'provisioning',
          readyAt: null,
          failure: null,
          name: request.name ?? id,
          brief: request.brief,
          constraints: JSON.stringify(request.constraints ?? []),
          successCriteria: JSON.stringify(request.successCriteria ?? []),
          baseRef: request.baseRef ?? 'HEAD',
          idempotencyKey: meta.idempotencyKey,
          requestHash: meta.requestHash,
          createdBy: meta.createdBy,
          ...notifyColumns(request.notify),
        },
      });
      if (count === 1) return id;
    }
  }
}

/** The claimed cell once its workflow has handed it over (ready), or as it is after a while. */
async function waitForHandOver(db: Db, id: string): Promise<CellRow | undefined> {
  const deadline = Date.now() + HANDOVER_WAIT_MS;
  for (;;) {
    const cell = await db.cell.findUnique({ where: { id } });
    if (cell?.status !== 'provisioning' || Date.now() > deadline) return cell ?? undefined;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
