// Warm pools, the side effects (the worker's entry for pools): one look at a pool (reconcile),
// recording a new pool cell, and handing a claimed pool cell over to its request. Each idempotent.
import { permanent } from '../activities/failures.js';
import { createPromptsActivities } from '../activities/prompts.js';
import { createStepRecorder } from '../activities/steps.js';
import { ErrorType, Step } from '../cells/catalog.js';
import { readColumn, TextListColumn } from '../cells/columns.js';
import { recordAction, recordEvent } from '../cells/events.js';
import { notifyRoute } from '../cells/notifyColumns.js';
import type { CellPlan, NotifyRoute, OptionValues, ReadyCell } from '../cells/plan.js';
import { cellWorkflowId } from '../cells/workflowIds.js';
import type { Workspace } from '../config/env.js';
import type { Cell, Db } from '../db/client.js';
import { reservationOf } from '../hosts/registry.js';
import { resolveCommit } from '../templates/hostChecks.js';
import type { ConfigLoader } from '../templates/loader.js';
import { defaultOptions, poolKey, poolSize } from './key.js';
import { type PoolCell, sortPoolCells, whyNoPool } from './reconcile.js';

export interface PoolsDeps {
  db: Db;
  workspaces: Workspace[];
  configs: ConfigLoader;
  prompts: ReturnType<typeof createPromptsActivities>;
}

/** What a pool's workflow learns from one look at its cells, and what it has to do. */
export interface PoolReconciliation {
  /** Cells to keep ready now (0: the template has no pool any more, or it cannot be built). */
  size: number;
  /** The current key and base commit (undefined when the workspace's HEAD does not resolve). */
  key?: string;
  baseCommit?: string;
  options?: OptionValues;
  ready: number;
  warming: number;
  /** Pool cells to let go (already marked recycled, so no request can claim them). */
  recycle: string[];
  /** Claimed cells whose hand-over has not happened (the API died before it reached them). */
  unclaimed: string[];
  /** Pool cells found failed since the last look (the pool backs off refilling). */
  failed: number;
  /** Why the pool has nothing to keep (size 0), for its log. */
  why?: string;
}

/** What the hand-over gives the cell's workflow: the request's plan, and what it shows of it. */
export interface HandedOver {
  plan: CellPlan;
  name: string;
  headline: string;
  notify?: NotifyRoute;
}

export function createPoolsActivities({ db, workspaces, configs, prompts }: PoolsDeps) {
  /** Marks a pool cell recycled unless a request claimed it first (the same compare-and-set as the claim). */
  const letGo = async (id: string) => {
    const { count } = await db.cell.updateMany({
      where: { id, poolState: 'pooled' },
      data: { poolState: 'recycled' },
    });
    // Who let the cell go, as for every change of a cell's state (the recycle signal follows).
    if (count === 1) await recordAction(db, id, { action: 'recycle', by: 'pool' });
    return count === 1;
  };

  /** A pool's workspace, its config as it loads now, and the template in it (each may be missing). */
  const templateOf = async (workspaceId: string, templateId: string) => {
    const workspace = workspaces.find((w) => w.id === workspaceId);
    const loaded = workspace ? await configs.load(workspace.path) : undefined;
    const template = loaded?.ok ? loaded.templates.find((t) => t.id === templateId) : undefined;
    return { workspace, loaded, template };
  };

  const takeRequest = requestTaker({ db, prompts });

  return {
    /**
     * One look at a pool: its size and key from the current config and HEAD; its cells sorted
     * (src/pools/reconcile.ts) into kept, to let go (marked recycled here, let go by the workflow),
     * claims not handed over, and ended recycled ones, whose records are removed.
     */
    async reconcilePool({
      workspaceId,
      templateId,
    }: {
      workspaceId: string;
      templateId: string;
    }): Promise<PoolReconciliation> {
      const found = await templateOf(workspaceId, templateId);
      const { workspace, template } = found;
      const baseCommit = workspace && (await resolveCommit(workspace.path, 'HEAD'));
      const size = baseCommit ? poolSize(template) : 0;
      const key = template && baseCommit ? poolKey(template, baseCommit) : undefined;
      const cells: PoolCell[] = await db.cell.findMany({
        where: { workspaceId, templateId, poolState: { in: ['pooled', 'claimed', 'recycled'] } },
        select: { id: true, status: true, poolState: true, poolKey: true, poolReady: true },
        orderBy: { createdAt: 'asc' },
      });
      const sorted = sortPoolCells(cells, key, size);
      // Let go and ended: nothing of them is left on the host; their records go too.
      if (sorted.ended.length > 0) {
        await db.cell.deleteMany({ where: { id: { in: sorted.ended }, poolState: 'recycled' } });
      }
      const recycle: string[] = [];
      for (const id of sorted.letGo) if (await letGo(id)) recycle.push(id);
      // One a request claimed meanwhile (letGo refused) is the request's: in no count of the pool.
      const { kept } = sorted;
      const ready = kept.filter((c) => c.ready).length;
      return {
        size,
        key,
        baseCommit,
        options: template && defaultOptions(template),
        ready,
        warming: kept.length - ready,
        recycle,
        unclaimed: sorted.unclaimed,
        failed: sorted.failed,
        why: whyNoPool({ ...found, baseCommit, size }),
      };
    },

    /** Records a new pool cell (the id comes from the pool's workflow, so a retry finds it). */
    async recordPoolCell({
      cellId,
      workspaceId,
      templateId,
      key,
      baseCommit,
      options,
    }: {
      cellId: string;
      workspaceId: string;
      templateId: string;
      key: string;
      baseCommit: string;
      options: OptionValues;
    }): Promise<void> {
      if (await db.cell.findUnique({ where: { id: cellId }, select: { id: true } })) return;
      // What a cell of the template reserves on its host, as a requested one does (src/hosts).
      const { template } = await templateOf(workspaceId, templateId);
      await db.cell.create({
        data: {
          id: cellId,
          name: cellId,
          workspaceId,
          templateId,
          status: 'pending',
          workflowId: cellWorkflowId(cellId),
          // No request yet: a claim writes the brief (and everything else of the request).
          brief: '',
          options: JSON.stringify(options),
          // The exact commit the key names, not HEAD: a commit made meanwhile does not change the cell.
          baseRef: baseCommit,
          poolState: 'pooled',
          poolKey: key,
          ...reservationOf(template?.resources),
        },
      });
      await recordAction(db, cellId, { action: 'create', by: 'pool' });
      await recordEvent(db, cellId, 'status', { status: 'pending' });
    },

    /**
     * A claimed pool cell's hand-over, as its workflow runs it (on a claim update or signal): the
     * request taken (see takeRequest; already done when the API of the cell's host did it at the
     * claim), and `poolReady` cleared: the workflow has the claim now. Null when no request claimed it.
     */
    async handOverClaim({ cell }: { cell: ReadyCell }): Promise<HandedOver | null> {
      const cellId = cell.plan.cellId;
      const row = await db.cell.findUnique({ where: { id: cellId } });
      if (!row) throw permanent(ErrorType.Error, `cell ${cellId} has no record`);
      if (row.poolState !== 'claimed') return null;
      const handed = await takeRequest(row, cell);
      if (row.poolReady !== null) await db.cell.update({ where: { id: cellId }, data: { poolReady: null } });
      return handed;
    },
  };
}

/**
 * A claimed pool cell becomes its request's: the plan takes the brief, constraints and success
 * criteria from the record (the claim wrote them), the events of its time in the pool are dropped,
 * the prompt is rendered again and the cell is ready. Whoever comes second (the API of the cell's
 * host and then the workflow) finds the prompt rendered since the claim and the cell ready.
 */
function requestTaker({ db, prompts }: Pick<PoolsDeps, 'db' | 'prompts'>) {
  /** Whether the prompt step succeeded since the claim (its prompt is then the request's). */
  const promptRenderedSince = async (cellId: string, claimedAt: Date | null) => {
    if (!claimedAt) return false;
    const step = await db.step.findUnique({
      where: { cellId_name_kind: { cellId, name: Step.prompt, kind: 'forward' } },
      select: { status: true, endedAt: true },
    });
    return step?.status === 'succeeded' && step.endedAt !== null && step.endedAt >= claimedAt;
  };

  /** `first`: the API's hand-over right after the claim, which nobody can have done before it. */
  return async (row: Cell, cell: ReadyCell, { first = false } = {}): Promise<HandedOver> => {
    const cellId = row.id;
    const plan: CellPlan = {
      ...cell.plan,
      brief: row.brief,
      constraints: readColumn('Cell.constraints', TextListColumn, row.constraints),
      successCriteria: readColumn('Cell.successCriteria', TextListColumn, row.successCriteria),
      baseRef: row.baseRef,
    };
    if (first || !(await promptRenderedSince(cellId, row.claimedAt))) {
      if (row.claimedAt) {
        await db.cellEvent.deleteMany({ where: { cellId, createdAt: { lt: row.claimedAt } } });
      }
      await prompts.assemblePrompt({ ...cell, plan });
    }
    // Ready, unless something happened to the cell since the claim: an archive asked the moment the
    // request was answered (its signal may reach the workflow before the claim's), a service that
    // failed meanwhile. It then stays as that made it.
    const { count } = await db.cell.updateMany({
      where: { id: cellId, status: 'provisioning' },
      data: { status: 'ready', readyAt: new Date(), failure: null },
    });
    if (count === 1) await recordEvent(db, cellId, 'status', { status: 'ready' });
    const firstLine = row.brief.split('\n', 1)[0] ?? '';
    return {
      plan,
      name: row.name,
      headline: firstLine.length > 80 ? `${firstLine.slice(0, 79)}…` : firstLine,
      notify: notifyRoute(row.notify),
    };
  };
}

/**
 * The hand-over done where the claim is accepted, by the API of the cell's own host (the worktree
 * is on this machine), before the workflow hears of it: the request is answered with a ready cell
 * without a round trip through Temporal. From the record's `poolReady`; false when there is none (a
 * cell made before it was kept), the cell is not claimed, or it lives on another host.
 */
export function createHandOverHere({ db, host }: { db: Db; host?: string }) {
  const takeRequest = requestTaker({
    db,
    prompts: createPromptsActivities({ db, steps: createStepRecorder(db) }),
  });
  return async (cellId: string): Promise<boolean> => {
    const row = await db.cell.findUnique({ where: { id: cellId } });
    if (row?.poolState !== 'claimed' || !row.poolReady || (row.host && row.host !== host)) return false;
    await takeRequest(row, JSON.parse(row.poolReady) as ReadyCell, { first: true });
    return true;
  };
}

export type HandOverHere = ReturnType<typeof createHandOverHere>;
