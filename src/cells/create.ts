import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Workspace } from '../config/env.js';
import { type Db, isUniqueViolation } from '../db/client.js';
import type { Placement } from '../hosts/placement.js';
import { hostWorkspaces, reservationOf } from '../hosts/registry.js';
import { type ClaimDeps, claimFromPool, type PoolDeps } from '../pools/index.js';
import { type DryRunDeps, dryRun } from '../templates/dryRun.js';
import { error, type Finding } from '../templates/findings.js';
import type { Template } from '../templates/schema.js';
import { CellIdKey, CellStatusKey, TemplateIdKey, WorkspaceIdKey } from '../temporal/searchAttributes.js';
// By type only: the API starts the workflow by its name and never loads workflow code.
import type { provisionCell } from '../workflows/provisionCell.js';
import { recordAction, recordEvent } from './events.js';
import { newCellId } from './ids.js';
import { notifyColumns, notifyRoute } from './notifyColumns.js';
import type { CellPlan, OnFailure, OptionValues } from './plan.js';
import type { CellRequest } from './schema.js';
import { cellWorkflowId } from './workflowIds.js';

export interface CreateCellDeps extends DryRunDeps {
  db: Db;
  /** Between two looks of a warm pool at its cells (src/pools). */
  poolCheckMs?: number;
  /** Where a warm pool's tolerated failures are told (src/pools). */
  log?: PoolDeps['log'];
  client: Client;
  taskQueue: string;
  /** The client shares this process's worker connection: ask the server for an eager start. */
  eagerStart?: boolean;
  /** How long a preserved failed cell waits for a person before rolling back. */
  preserveFailedForMs?: number;
  /** History bound of a live cell's workflow before it continues as new. */
  historyLimit?: number;
  /**
   * Set where this process is also a host's worker (`hive up`): plans an accepted request at once,
   * from its dry run, so the workflow's first attempt needs no `validate` activity on this host.
   */
  planFirst?: (cell: CellRow, workspace: Workspace, validated: Validated) => Promise<CellPlan>;
  /** Set there too: a cell claimed from a warm pool of this host is handed over here (src/pools). */
  handOverHere?: ClaimDeps['handOverHere'];
  /**
   * Set there too: places an accepted request's cell at once (the `place` step, and `provisioning`
   * when placed), so its workflow's first task needs no placement activity (src/activities/hosts.ts).
   */
  placeFirst?: (cellId: string) => Promise<Placement>;
}

/** What a passed dry run says the request is: its template and its options with defaults. */
export interface Validated {
  template: Template;
  options: OptionValues;
  /** The commit the dry run resolved the base ref to. */
  baseCommit?: string;
}

export type CellRow = Awaited<ReturnType<Db['cell']['create']>>;

export type CreateCellResult =
  | { kind: 'accepted'; cell: CellRow }
  | { kind: 'key-reused'; cell: CellRow }
  | { kind: 'unknown-workspace'; workspace: string }
  | { kind: 'invalid'; findings: Finding[] };

/**
 * A cell request, end to end: the same Idempotency-Key returns the same cell (also for two racing
 * requests: the unique key lets one row in); otherwise the dry run must pass, then the cell is
 * recorded and its workflow started.
 */
export async function createCell(
  deps: CreateCellDeps,
  request: CellRequest,
  idempotencyKey?: string,
  /** Name of the API token that asks; undefined for tokenless local use. */
  createdBy?: string,
): Promise<CreateCellResult> {
  const requestHash = fingerprint(request);
  // The same key with the same request is the same cell; with another request it is a client's bug.
  const answer = (cell: CellRow): CreateCellResult =>
    cell.requestHash && cell.requestHash !== requestHash
      ? { kind: 'key-reused', cell }
      : { kind: 'accepted', cell };
  const byKey = () => deps.db.cell.findUnique({ where: { idempotencyKey } });
  const existing = idempotencyKey ? await byKey() : null;
  if (existing) return answer(existing);
  // A request its template's warm pool can serve takes one of the pool's ready cells (src/pools).
  const pooled = await claimFromPool(deps, request, { idempotencyKey, requestHash, createdBy }).catch(
    async (error: unknown) => {
      if (idempotencyKey && isUniqueViolation(error)) return (await byKey()) ?? undefined;
      throw error;
    },
  );
  if (pooled) return answer(pooled);
  // The same dry run as POST /templates/:id/validate: refuse before anything is created.
  const validation = await dryRun(deps, { ...request, templateId: request.template });
  if ('unknownWorkspace' in validation) return { kind: 'unknown-workspace', workspace: request.workspace };
  if (!validation.ok || !validation.options) return { kind: 'invalid', findings: validation.findings };
  const refused = request.host ? await checkHost(deps.db, request.host, validation.workspace.id) : undefined;
  if (refused) return { kind: 'invalid', findings: [refused] };
  const validated = validation.template && {
    template: validation.template,
    options: validation.options,
    baseCommit: validation.baseCommit,
  };
  try {
    const cell = await startCell(
      deps,
      validation.workspace,
      { ...request, options: validation.options, ...reservationOf(validation.template?.resources) },
      { idempotencyKey, requestHash, createdBy },
      validated,
    );
    return { kind: 'accepted', cell };
  } catch (error) {
    const winner = idempotencyKey && isUniqueViolation(error) ? await byKey() : null;
    if (winner) return answer(winner);
    throw error;
  }
}

/** Why a request may not name this host (a finding), or undefined when it may. */
async function checkHost(db: Db, id: string, workspaceId: string): Promise<Finding | undefined> {
  const host = await db.host.findUnique({ where: { id } });
  const known = async () =>
    (await db.host.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map((h) => h.id).join(', ');
  if (!host) {
    return error(
      'host',
      `no host "${id}" is registered`,
      `Name one of: ${(await known()) || '(none)'} — or leave host out to let placement choose.`,
    );
  }
  if (host.drained) {
    return error(
      'host',
      `host "${id}" is drained: it takes no new cells`,
      `Undrain it (hive hosts undrain ${id}), name another host, or leave host out.`,
    );
  }
  if (!hostWorkspaces(host).includes(workspaceId)) {
    return error(
      'host',
      `host "${id}" has no clone of workspace "${workspaceId}"`,
      `Add the workspace to that host's HIVE_WORKSPACES, or leave host out.`,
    );
  }
  return undefined;
}

/** SHA-256 of the request as validated (keys sorted): equal for equal requests however they were sent. */
function fingerprint(request: CellRequest): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(request)))
    .digest('hex');
}

/** One line for the Temporal UI's workflow list: what this cell is for. */
function summaryOf(workspace: Workspace, cell: CellRow) {
  const firstLine = cell.brief.split('\n', 1)[0] ?? '';
  const brief = firstLine.length > 80 ? `${firstLine.slice(0, 79)}…` : firstLine;
  return `${workspace.id}/${cell.templateId}: ${brief}`;
}

/**
 * Starts a run of a recorded cell's workflow: its provisioning (or, with `restore`, its return
 * from what its archive kept), then its live phase. A cell has one workflow id; each run is one life.
 */
export async function startCellWorkflow(
  deps: Pick<CreateCellDeps, 'client' | 'taskQueue' | 'eagerStart' | 'preserveFailedForMs' | 'historyLimit'>,
  workspace: Workspace,
  cell: CellRow,
  {
    onFailure,
    restore,
    plan,
    placed,
  }: {
    onFailure?: OnFailure;
    restore?: boolean;
    plan?: CellPlan;
    placed?: { host: string; taskQueue: string };
  },
) {
  const { id, templateId, baseRef } = cell;
  const notify = notifyRoute(cell.notify);
  await deps.client.workflow.start<typeof provisionCell>('provisionCell', {
    taskQueue: deps.taskQueue,
    workflowId: cell.workflowId,
    ...(deps.eagerStart ? { requestEagerStart: true } : {}),
    args: [
      {
        cellId: id,
        workspaceId: workspace.id,
        templateId,
        onFailure,
        preserveForMs: deps.preserveFailedForMs,
        historyLimit: deps.historyLimit,
        ...(notify ? { notify } : {}),
        ...(restore ? { restore } : {}),
        ...(plan ? { plan } : {}),
        ...(placed ? { placedOn: placed.host, hostTaskQueue: placed.taskQueue } : {}),
        ...(placed?.taskQueue === deps.taskQueue ? { ownQueue: true } : {}),
      },
    ],
    typedSearchAttributes: [
      { key: CellIdKey, value: id },
      { key: TemplateIdKey, value: templateId },
      { key: WorkspaceIdKey, value: workspace.id },
      { key: CellStatusKey, value: 'pending' },
    ],
    memo: { workspace: workspace.id, workspacePath: workspace.path, template: templateId },
    staticSummary: `${restore ? 'restore ' : ''}${summaryOf(workspace, cell)}`,
    staticDetails: [
      `**Cell** \`${id}\`${restore ? ' (restored from its archive)' : ''}`,
      `**Workspace** ${workspace.id} (\`${workspace.path}\`)`,
      `**Template** ${templateId}, from \`${baseRef}\`, on failure: ${onFailure ?? 'preserve'}`,
      `**Brief** ${cell.brief.split('\n', 1)[0] ?? ''}`,
    ].join('\n\n'),
  });
}

/**
 * Records a cell and starts its provisioning workflow. If Temporal refuses the start, the row is
 * removed again: a refused request leaves nothing behind.
 */
async function startCell(
  deps: CreateCellDeps,
  workspace: Workspace,
  request: CellRequest & { options: OptionValues } & ReturnType<typeof reservationOf>,
  {
    idempotencyKey,
    requestHash,
    createdBy,
  }: { idempotencyKey?: string; requestHash: string; createdBy?: string },
  validated?: Validated,
): Promise<CellRow> {
  const id = newCellId();
  const workflowId = cellWorkflowId(id);
  const baseRef = request.baseRef ?? 'HEAD';
  const cell = await deps.db.cell.create({
    data: {
      id,
      name: request.name ?? id,
      workspaceId: workspace.id,
      templateId: request.template,
      status: 'pending',
      workflowId,
      brief: request.brief,
      options: JSON.stringify(request.options),
      constraints: JSON.stringify(request.constraints ?? []),
      successCriteria: JSON.stringify(request.successCriteria ?? []),
      baseRef,
      idempotencyKey,
      requestHash,
      createdBy,
      ...notifyColumns(request.notify),
      // Named by the request: placement takes it as it is (src/hosts/placement.ts).
      host: request.host,
      reserveCpu: request.reserveCpu,
      reserveMemoryMb: request.reserveMemoryMb,
    },
  });
  await recordAction(deps.db, id, { action: 'create', by: createdBy ?? 'local' });
  await recordEvent(deps.db, id, 'status', { status: 'pending' });
  try {
    // Queued (no host has room) or unhosted: the workflow's `place` step takes it from here.
    const placement = deps.placeFirst ? await deps.placeFirst(id) : undefined;
    const placed = placement?.kind === 'placed' ? placement : undefined;
    const plan = deps.planFirst && validated ? await deps.planFirst(cell, workspace, validated) : undefined;
    await startCellWorkflow(deps, workspace, cell, { onFailure: request.onFailure, plan, placed });
  } catch (error) {
    await deps.db.cell.delete({ where: { id } });
    throw error;
  }
  return cell;
}
