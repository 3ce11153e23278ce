// Warm pools, the claim: a request that matches a template's pool takes one of its ready cells by a
// compare-and-set on the record (so no two requests ever get the same one), and the cell becomes the
// request's: same id, worktree and branch (`cell/<id>`, named by the id, never by a pool), the
// request's name, brief, constraints, notify target, creator and idempotency key. Then it is handed
// over (the prompt rendered with the brief, ready): here, when the API runs on the cell's host, and
// its workflow is told by a signal; else by its workflow, asked by an update that returns when that
// is done. Either way the request is answered with a ready cell and nothing polls.
import { recordAction, recordEvent } from '../cells/events.js';
import { notifyColumns } from '../cells/notifyColumns.js';
import type { OptionValues } from '../cells/plan.js';
import type { CellRequest } from '../cells/schema.js';
import { cellWorkflowId } from '../cells/workflowIds.js';
import type { Db } from '../db/client.js';
import { resolveCommit } from '../templates/hostChecks.js';
import type { ConfigLoader } from '../templates/loader.js';
import { optionsSchema } from '../templates/model.js';
import type { HandOverHere } from './activities.js';
import { ensurePool, type PoolDeps } from './ensure.js';
import { defaultOptions, poolKey, poolSize, poolWorkflowId, sameOptions } from './key.js';
import { claimSignal, claimUpdate, poolChangedSignal } from './messages.js';

export interface ClaimDeps extends PoolDeps {
  db: Db;
  workspaces: Array<{ id: string; path: string }>;
  configs: ConfigLoader;
  /** Given where the API runs on a host (`hive up`): the hand-over done here, at once. */
  handOverHere?: HandOverHere;
}

/**
 * How long the API waits for a claimed cell's hand-over before answering with it as it is
 * (provisioning: its worker is down or slow; the pool's workflow hands the claim over later).
 */
const HANDOVER_WAIT_MS = 5_000;
const CANDIDATES = 8;

type CellRow = NonNullable<Awaited<ReturnType<Db['cell']['findUnique']>>>;
type ClaimMeta = { idempotencyKey?: string; requestHash: string; createdBy?: string };

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
  meta: ClaimMeta,
): Promise<CellRow | undefined> {
  const workspace = deps.workspaces.find((w) => w.id === request.workspace);
  if (!workspace) return undefined;
  const key = await matchingPoolKey(deps.configs, workspace.path, request);
  if (!key) return undefined;
  const claimed = await compareAndSet(deps.db, request, meta, {
    workspaceId: workspace.id,
    templateId: request.template,
    key,
  });
  if (!claimed) {
    // Empty (or not yet started): make sure it runs and fills, for the next request.
    await ensurePool(deps, workspace, request.template);
    return undefined;
  }
  await recordAction(deps.db, claimed, { action: 'create', by: meta.createdBy ?? 'local' });
  await recordEvent(deps.db, claimed, 'status', { status: 'provisioning' });
  // Handed over here: the workflow is told without waiting for the server (see tellWorkflow).
  if (deps.handOverHere && (await deps.handOverHere(claimed))) void tellWorkflow(deps, claimed);
  else await handOver(deps, claimed);
  // The pool refills in the background, once the claim is served: a refill (a whole cell
  // provisioned) started during the hand-over would compete with it for the machine.
  void deps.client.workflow
    .getHandle(poolWorkflowId(workspace.id, request.template))
    .signal(poolChangedSignal)
    .catch(() => ensurePool(deps, workspace, request.template, { now: true }));
  return (await deps.db.cell.findUnique({ where: { id: claimed } })) ?? undefined;
}

/** The key of the pool a request can be served from, or undefined when it does not match one. */
async function matchingPoolKey(
  configs: ConfigLoader,
  workspacePath: string,
  request: CellRequest,
): Promise<string | undefined> {
  const loaded = await configs.load(workspacePath);
  const template = loaded.ok ? loaded.templates.find((t) => t.id === request.template) : undefined;
  if (!template || poolSize(template) === 0) return undefined;
  const defaults = defaultOptions(template);
  const options = optionsSchema(template).safeParse(request.options ?? {});
  if (!defaults || !options.success || !sameOptions(options.data as OptionValues, defaults)) {
    return undefined;
  }
  const head = await resolveCommit(workspacePath, 'HEAD');
  if (!head) return undefined;
  if (request.baseRef && (await resolveCommit(workspacePath, request.baseRef)) !== head) return undefined;
  return poolKey(template, head);
}

/**
 * Asks the claimed cell's workflow to take the request, and waits for it (bounded). The update id is
 * the claim's: a second delivery of the same claim gets the first one's answer. When it does not
 * arrive in time (the worker is down), the answer is the cell as it is, and a signal queues the
 * hand-over; the pool's workflow also sees the claim in the record and signals it again.
 */
async function handOver(deps: ClaimDeps, cellId: string): Promise<void> {
  const handle = deps.client.workflow.getHandle(cellWorkflowId(cellId));
  try {
    await deps.client.withDeadline(Date.now() + HANDOVER_WAIT_MS, () =>
      handle.executeUpdate(claimUpdate, { updateId: `claim-${cellId}` }),
    );
  } catch (error) {
    deps.log?.warn({ cellId, err: error }, 'claimed pool cell not handed over in time; signalled instead');
    // Queued in its history: handed over as soon as its worker runs it (and again by the pool's look).
    await handle.signal(claimSignal).catch(() => undefined);
  }
}

/**
 * Tells the workflow of a cell handed over here that a request has it, so it takes the claim over
 * (supervision with the request's idle policy, its notify target, the Temporal UI's summary). The
 * request is not kept waiting for it: the record already says what is true (claimed, ready), and
 * a signal lost with this process is sent by the pool's next look (`poolReady` still set). A client
 * quick enough to archive the cell before the signal lands finds it archived as it is: the
 * hand-over never turns a cell ready again once something else moved it (src/pools/activities.ts).
 */
async function tellWorkflow(deps: ClaimDeps, cellId: string): Promise<void> {
  await deps.client.workflow
    .getHandle(cellWorkflowId(cellId))
    .signal(claimSignal)
    .catch((error: unknown) =>
      deps.log?.warn({ cellId, err: error }, 'claimed pool cell handed over; its workflow not told yet'),
    );
}

/** Takes one ready, fresh pool cell for the request; the id of the one taken, or undefined. */
async function compareAndSet(
  db: Db,
  request: CellRequest,
  meta: ClaimMeta,
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
