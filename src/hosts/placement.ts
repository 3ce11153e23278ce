import type { Db } from '../db/client.js';
import { table } from '../db/rawSql.js';
import { answers, type HostRow, hostWorkspaces, type Reservation, reservations } from './registry.js';

/**
 * Where a cell goes: `placed` on a host (its task queue serves the cell's host-bound activities),
 * `queued` with why no host can take it now, or `unhosted` when no host is registered at all (a
 * worker without a host id serves every activity on the shared queue).
 */
export type Placement =
  | {
      kind: 'placed';
      host: string;
      taskQueue: string;
      why: string;
      /** Set by the `place` step when the host's queue is the asking workflow's own (it runs alone). */
      ownQueue?: boolean;
    }
  | { kind: 'queued'; why: string }
  | { kind: 'unhosted' };

/** What placement reads of a host. */
type Candidate = Pick<
  HostRow,
  | 'id'
  | 'taskQueue'
  | 'workspaces'
  | 'cpus'
  | 'memoryMb'
  | 'drained'
  | 'heartbeatAt'
  | 'lostAt'
  | 'placements'
>;

/**
 * Placement's reads and writes, in raw SQL (src/db/rawSql.ts): the API of a host places every
 * accepted request before answering it, and Prisma's compiling of each model query (~1.5–2 ms of
 * CPU on the one event loop) was most of that.
 */
function placementRows(db: Db) {
  const [cells, hosts] = [table(db, 'Cell'), table(db, 'Host')];
  // SQLite hands back booleans as 0/1 and may hand back dates as text; PostgreSQL as they are.
  const date = (v: Date | string | number) => (v instanceof Date ? v : new Date(v));
  return {
    async cell(cellId: string) {
      const [cell] = await db.$queryRaw<
        {
          host: string | null;
          workspaceId: string;
          reserveCpu: number | null;
          reserveMemoryMb: number | null;
        }[]
      >`SELECT "host", "workspaceId", "reserveCpu", "reserveMemoryMb" FROM ${cells} WHERE "id" = ${cellId}`;
      if (!cell) throw new Error(`no cell ${cellId} to place`);
      return cell;
    },
    async hosts(): Promise<Candidate[]> {
      const rows = await db.$queryRaw<Candidate[]>`SELECT "id", "taskQueue", "workspaces", "cpus", "memoryMb",
        "drained", "heartbeatAt", "lostAt", "placements" FROM ${hosts} ORDER BY "id" ASC`;
      return rows.map((h) => ({
        ...h,
        cpus: Number(h.cpus),
        memoryMb: Number(h.memoryMb),
        placements: Number(h.placements),
        drained: Boolean(h.drained),
        heartbeatAt: date(h.heartbeatAt),
        lostAt: h.lostAt === null ? null : date(h.lostAt),
      }));
    },
    reserve: (cellId: string, host: string | null) =>
      db.$executeRaw`UPDATE ${cells} SET "host" = ${host}, "updatedAt" = ${new Date()} WHERE "id" = ${cellId}`,
    /** The compare-and-set of the host's counter: 1 when this placement swapped it. */
    swap: (host: Candidate) =>
      db.$executeRaw`UPDATE ${hosts} SET "placements" = ${host.placements + 1}
        WHERE "id" = ${host.id} AND "placements" = ${host.placements}`,
  };
}

interface Need {
  cpus: number;
  memoryMb: number;
}

/** A candidate's headroom after taking the cell: the smaller free fraction of cores and memory. */
function headroom(host: Candidate, used: Reservation | undefined, need: Need): number | undefined {
  const freeCpus = host.cpus - (used?.cpus ?? 0) - need.cpus;
  const freeMemory = host.memoryMb - (used?.memoryMb ?? 0) - need.memoryMb;
  if ((need.cpus > 0 && freeCpus < 0) || (need.memoryMb > 0 && freeMemory < 0)) return undefined;
  return Math.min(freeCpus / Math.max(host.cpus, 1e-9), freeMemory / Math.max(host.memoryMb, 1));
}

const describe = (host: Candidate, used: Reservation | undefined) =>
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
  const rows = placementRows(db);
  for (let attempt = 0; attempt < CONTENDED_TRIES; attempt++) {
    const cell = await rows.cell(cellId);
    const hosts = await rows.hosts();
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
      .filter((c): c is { host: Candidate; score: number } => c.score !== undefined)
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
    await rows.reserve(cellId, host.id);
    if ((await rows.swap(host)) === 1) {
      return {
        kind: 'placed',
        host: host.id,
        taskQueue: host.taskQueue,
        why: `most headroom: ${describe(host, used.get(host.id))} before this cell`,
      };
    }
    await rows.reserve(cellId, null);
  }
  return { kind: 'queued', why: 'every host was contended; trying again' };
}
