// Warm pools, the side effects: what a pool has and needs (reconcile), recording a new pool cell, and
// handing a claimed pool cell over to its request. Each idempotent.
import { ErrorType } from '../cells/catalog.js';
import { notifyRoute } from '../cells/create.js';
import { recordAction, recordEvent } from '../cells/events.js';
import { workflowIdFor } from '../cells/ids.js';
import type { CellPlan, NotifyRoute, OptionValues, ReadyCell } from '../cells/plan.js';
import type { Workspace } from '../config/env.js';
import type { Db } from '../db/client.js';
import { reservationOf } from '../hosts/registry.js';
import { defaultOptions, poolKey, poolSize } from '../pools/key.js';
import { resolveCommit } from '../templates/hostChecks.js';
import type { ConfigLoader } from '../templates/loader.js';
import { permanent } from './failures.js';
import type { createPromptsActivities } from './prompts.js';
import type { createRecordsActivities } from './records.js';

export interface PoolsDeps {
  db: Db;
  workspaces: Workspace[];
  configs: ConfigLoader;
  prompts: ReturnType<typeof createPromptsActivities>;
  records: ReturnType<typeof createRecordsActivities>;
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
  /** Claimed cells whose hand-over has not happened (the API died before it signalled them). */
  unclaimed: string[];
  /** Pool cells found failed since the last look (the pool backs off refilling). */
  failed: number;
  why?: string;
}

const FINAL = ['archived', 'cancelled', 'rolled_back'];

export function createPoolsActivities({ db, workspaces, configs, prompts, records }: PoolsDeps) {
  /** Marks a pool cell recycled unless a request claimed it first (the same compare-and-set as the claim). */
  const letGo = async (id: string) => {
    const marked =
      (await db.cell.updateMany({ where: { id, poolState: 'pooled' }, data: { poolState: 'recycled' } }))
        .count === 1;
    // Who let the cell go, as for every change of a cell's state (the recycle signal follows).
    if (marked) await recordAction(db, id, { action: 'recycle', by: 'pool' });
    return marked;
  };

  /** A pool's workspace, its config as it loads now, and the template in it (each may be missing). */
  const templateOf = async (workspaceId: string, templateId: string) => {
    const workspace = workspaces.find((w) => w.id === workspaceId);
    const loaded = workspace ? await configs.load(workspace.path) : undefined;
    const template = loaded?.ok ? loaded.templates.find((t) => t.id === templateId) : undefined;
    return { workspace, loaded, template };
  };

  return {
    /**
     * One look at a pool: its size and key from the current config and HEAD, its cells counted,
     * stale, broken and surplus ones marked recycled (to be let go by the workflow), recycled ones
     * that have ended removed from the records.
     */
    async reconcilePool({
      workspaceId,
      templateId,
    }: {
      workspaceId: string;
      templateId: string;
    }): Promise<PoolReconciliation> {
      const { workspace, loaded, template } = await templateOf(workspaceId, templateId);
      const baseCommit = workspace && (await resolveCommit(workspace.path, 'HEAD'));
      const size = baseCommit ? poolSize(template) : 0;
      const key = template && baseCommit ? poolKey(template, baseCommit) : undefined;
      const why = !workspace
        ? 'the workspace is not registered'
        : !loaded?.ok
          ? 'the config does not load'
          : !template
            ? 'the template is gone'
            : !baseCommit
              ? "the workspace's HEAD does not name a commit"
              : size === 0
                ? 'the template has no pool (or an option without a default)'
                : undefined;
      const cells = await db.cell.findMany({
        where: { workspaceId, templateId, poolState: { in: ['pooled', 'claimed', 'recycled'] } },
        select: { id: true, status: true, poolState: true, poolKey: true },
        orderBy: { createdAt: 'asc' },
      });
      const result: PoolReconciliation = {
        size,
        key,
        baseCommit,
        options: template && defaultOptions(template),
        ready: 0,
        warming: 0,
        recycle: [],
        unclaimed: [],
        failed: 0,
        why,
      };
      const kept: Array<{ id: string; ready: boolean }> = [];
      for (const cell of cells) {
        if (cell.poolState === 'claimed') {
          if (cell.status === 'provisioning') result.unclaimed.push(cell.id);
          continue;
        }
        if (cell.poolState === 'recycled') {
          // Let go and ended: nothing of it is left on the host; its record goes too.
          if (FINAL.includes(cell.status))
            await db.cell.deleteMany({ where: { id: cell.id, poolState: 'recycled' } });
          continue;
        }
        const fresh = key !== undefined && cell.poolKey === key;
        // A queued one waits for a host with room: still on its way, not broken.
        const usable = ['pending', 'queued', 'provisioning', 'ready'].includes(cell.status);
        if (fresh && usable) {
          kept.push({ id: cell.id, ready: cell.status === 'ready' });
          continue;
        }
        if (!usable && cell.status !== 'degraded') result.failed++;
        if (await letGo(cell.id)) result.recycle.push(cell.id);
      }
      // A pool larger than its size (it shrank, or a claim raced a refill): let the newest go,
      // warming ones before ready ones.
      const surplus = kept.length - size;
      if (surplus > 0) {
        const order = [...kept.filter((c) => !c.ready).reverse(), ...kept.filter((c) => c.ready).reverse()];
        for (const cell of order.slice(0, surplus)) {
          if (await letGo(cell.id)) {
            result.recycle.push(cell.id);
            kept.splice(kept.indexOf(cell), 1);
          }
        }
      }
      result.ready = kept.filter((c) => c.ready).length;
      result.warming = kept.length - result.ready;
      return result;
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
          workflowId: workflowIdFor(cellId),
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
     * A claimed pool cell becomes its request's: the plan takes the brief, constraints and success
     * criteria from the record (the claim wrote them), the events of its time in the pool are
     * dropped, the prompt is rendered again and the cell is ready. Null when no request claimed it.
     */
    async handOverClaim({
      cell,
    }: {
      cell: ReadyCell;
    }): Promise<{ plan: CellPlan; name: string; headline: string; notify?: NotifyRoute } | null> {
      const cellId = cell.plan.cellId;
      const row = await db.cell.findUnique({ where: { id: cellId } });
      if (!row) throw permanent(ErrorType.Error, `cell ${cellId} has no record`);
      if (row.poolState !== 'claimed') return null;
      const plan: CellPlan = {
        ...cell.plan,
        brief: row.brief,
        constraints: JSON.parse(row.constraints) as string[],
        successCriteria: JSON.parse(row.successCriteria) as string[],
        baseRef: row.baseRef,
      };
      if (row.claimedAt) {
        await db.cellEvent.deleteMany({ where: { cellId, createdAt: { lt: row.claimedAt } } });
      }
      await prompts.assemblePrompt({ ...cell, plan });
      await records.setCellStatus({ cellId, status: 'ready', failure: null });
      const firstLine = row.brief.split('\n', 1)[0] ?? '';
      return {
        plan,
        name: row.name,
        headline: firstLine.length > 80 ? `${firstLine.slice(0, 79)}…` : firstLine,
        notify: notifyRoute(row.notify),
      };
    },
  };
}
