// Warm pools, what one look at a pool decides: pure functions of the records (no I/O), so the
// reconcile activity (src/pools/activities.ts) only reads, applies and reports.
import { finalStatuses, provisioningStatuses, statusIn } from '../cells/status.js';
import type { Template } from '../templates/schema.js';
import { poolSize } from './key.js';

/** A pool cell as the look reads it. */
export interface PoolCell {
  id: string;
  status: string;
  poolState: string | null;
  poolKey: string | null;
  /** Set while a claim handed over by the API has not reached the cell's workflow. */
  poolReady: string | null;
}

/** Where each of a pool's cells goes after one look. */
export interface SortedPool {
  /** Fresh and ready or on its way, within the pool's size (oldest first). */
  kept: Array<{ id: string; ready: boolean }>;
  /** Stale, broken or surplus pooled cells: to mark recycled and let go. */
  letGo: string[];
  /**
   * Claimed cells whose workflow has not taken the claim: still provisioning (the hand-over has not
   * happened), or handed over by the API with its signal lost (`poolReady` still set).
   */
  unclaimed: string[];
  /** Recycled cells that have ended: nothing of them is left but the record. */
  ended: string[];
  /** Pooled cells found failed (not degraded: a degraded one may recover, it is only stale). */
  failed: number;
}

/** Sorts a pool's cells (oldest first) against the pool's current key and size. */
export function sortPoolCells(cells: PoolCell[], key: string | undefined, size: number): SortedPool {
  const sorted: SortedPool = { kept: [], letGo: [], unclaimed: [], ended: [], failed: 0 };
  for (const cell of cells) {
    if (cell.poolState === 'claimed') {
      const told = cell.status !== 'provisioning' && cell.poolReady === null;
      if (!told && !statusIn(finalStatuses, cell.status)) sorted.unclaimed.push(cell.id);
    } else if (cell.poolState === 'recycled') {
      if ((finalStatuses as readonly string[]).includes(cell.status)) sorted.ended.push(cell.id);
    } else if (cell.poolKey === key && key !== undefined && isUsable(cell.status)) {
      sorted.kept.push({ id: cell.id, ready: cell.status === 'ready' });
    } else {
      if (!isUsable(cell.status) && cell.status !== 'degraded') sorted.failed++;
      sorted.letGo.push(cell.id);
    }
  }
  // A pool larger than its size (it shrank, or a claim raced a refill): the newest go, warming ones
  // before ready ones.
  const surplus = sorted.kept.length - size;
  if (surplus > 0) {
    const newestFirst = [...sorted.kept].reverse();
    const order = [...newestFirst.filter((c) => !c.ready), ...newestFirst.filter((c) => c.ready)];
    const going = new Set(order.slice(0, surplus));
    sorted.kept = sorted.kept.filter((c) => !going.has(c));
    sorted.letGo.push(...[...going].map((c) => c.id));
  }
  return sorted;
}

function isUsable(status: string): boolean {
  // A queued one waits for a host with room: still on its way, not broken.
  return status === 'ready' || statusIn(provisioningStatuses, status);
}

/** Why a pool has nothing to keep — the first of its preconditions that fails — or undefined. */
export function whyNoPool(found: {
  workspace?: unknown;
  loaded?: { ok: boolean };
  template?: Template;
  baseCommit?: string;
  size: number;
}): string | undefined {
  if (!found.workspace) return 'the workspace is not registered';
  if (!found.loaded?.ok) return 'the config does not load';
  if (!found.template) return 'the template is gone';
  if (!found.baseCommit) return "the workspace's HEAD does not name a commit";
  if (found.size === 0 || poolSize(found.template) === 0) {
    return 'the template has no pool (or an option without a default)';
  }
  return undefined;
}
