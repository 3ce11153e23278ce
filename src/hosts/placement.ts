import type { Db } from '../db/client.js';
import { answers, type HostRow, hostWorkspaces, type Reservation, reservations } from './registry.js';

/**
 * Where a cell goes: `placed` on a host (its task queue serves the cell's host-bound activities),
 * `queued` with why no host can take it now, or `unhosted` when no host is registered at all (a
 * worker without a host id serves every activity on the shared queue).
 */
export type Placement =
  | { kind: 'placed'; host: string; taskQueue: string; why: string }
  | { kind: 'queued'; why: string }
  | { kind: 'unhosted' };

interface Need {
  cpus: number;
  memoryMb: number;
}

/** A candidate's headroom after taking the cell: the smaller free fraction of cores and memory. */
function headroom(host: HostRow, used: Reservation | undefined, need: Need): number | undefined {
  const freeCpus = host.cpus - (used?.cpus ?? 0) - need.cpus;
  const freeMemory = host.memoryMb - (used?.memoryMb ?? 0) - need.memoryMb;
  if ((need.cpus > 0 && freeCpus < 0) || (need.memoryMb > 0 && freeMemory < 0)) return undefined;
  return Math.min(freeCpus / Math.max(host.cpus, 1e-9), freeMemory / Math.max(host.memoryMb, 1));
}

const describe = (host: HostRow, used: Reservation | undefined) =>
  `${host.id}: ${round(host.cpus - (used?.cpus ?? 0))} of ${host.cpus} cpus, ` +
  `${host.memoryMb - (used?.memoryMb ?? 0)} of ${host.memoryMb} MiB free, ${used?.cells ?? 0} cells`;
const round = (n: number) => Math.round(n * 100) / 100;

/** How many times a placement retries when another one took the same host first. */
const CONTENDED_TRIES = 20;

/**
 * Places a cell: the host its record names (the request's explicit host, or an earlier run of this
 * placement) if it answers; otherwise the live, undrained host that has the cell's workspace and
 * the most headroom for what its template declares (ties: fewer cells, then id). Idempotent.
 *
 * Two placements racing for one host are ordered by a compare-and-set of the host's `placements`
 * counter, taken after the cell's reservation is written: whoever reads the counter after another
 * placement's swap also reads that placement's reservation, so a host is never filled past what it
 * offers; the loser takes its reservation back and places again.
 */
export async function placeCell(db: Db, cellId: string, graceMs: number): Promise<Placement> {
  for (let attempt = 0; attempt < CONTENDED_TRIES; attempt++) {
    const cell = await db.cell.findUniqueOrThrow({ where: { id: cellId } });
    const hosts = await db.host.findMany({ orderBy: { id: 'asc' } });
    if (hosts.length === 0) return { kind: 'unhosted' };
    if (cell.host) {
      const host = hosts.find((h) => h.id === cell.host);
      // A host name no registered host has: a cell recorded before hosts registered.
      if (!host) return { kind: 'unhosted' };
      if (!answers(host, graceMs)) {
        return { kind: 'queued', why: `waiting for host ${host.id}, which does not answer` };
      }
      return { kind: 'placed', host: host.id, taskQueue: host.taskQueue, why: `on ${host.id}` };
    }
    const need = { cpus: cell.reserveCpu ?? 0, memoryMb: cell.reserveMemoryMb ?? 0 };
    const withWorkspace = hosts.filter((h) => hostWorkspaces(h).includes(cell.workspaceId));
    if (withWorkspace.length === 0) {
      return { kind: 'queued', why: `no registered host has workspace ${cell.workspaceId}` };
    }
    const open = withWorkspace.filter((h) => !h.drained && answers(h, graceMs));
    if (open.length === 0) {
      return {
        kind: 'queued',
        why: `every host with workspace ${cell.workspaceId} is drained or not answering`,
      };
    }
    const used = await reservations(
      db,
      open.map((h) => h.id),
    );
    const ranked = open
      .map((host) => ({ host, score: headroom(host, used.get(host.id), need) }))
      .filter((c): c is { host: HostRow; score: number } => c.score !== undefined)
      .sort(
        (a, b) =>
          b.score - a.score ||
          (used.get(a.host.id)?.cells ?? 0) - (used.get(b.host.id)?.cells ?? 0) ||
          a.host.id.localeCompare(b.host.id),
      );
    const best = ranked[0];
    if (!best) {
      return {
        kind: 'queued',
        why: `no host has room for ${need.cpus} cpus and ${need.memoryMb} MiB (${open
          .map((h) => describe(h, used.get(h.id)))
          .join('; ')})`,
      };
    }
    const { host } = best;
    // Reserve first, then swap the counter read with the host (see above).
    await db.cell.update({ where: { id: cellId }, data: { host: host.id } });
    const swapped = await db.host.updateMany({
      where: { id: host.id, placements: host.placements },
      data: { placements: host.placements + 1 },
    });
    if (swapped.count === 1) {
      return {
        kind: 'placed',
        host: host.id,
        taskQueue: host.taskQueue,
        why: `most headroom: ${describe(host, used.get(host.id))} before this cell`,
      };
    }
    await db.cell.update({ where: { id: cellId }, data: { host: null } });
  }
  return { kind: 'queued', why: 'every host was contended; trying again' };
}
