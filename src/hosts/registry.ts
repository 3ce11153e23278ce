import { readColumn, TextListColumn } from '../cells/columns.js';
import { finalStatuses } from '../cells/status.js';
import type { Db } from '../db/client.js';
import { Prisma } from '../db/generated/client.js';
import { table } from '../db/rawSql.js';
import type { HostState, HostView } from './schema.js';

/** Defaults of a host's heartbeat and of the silence after which it is declared lost. */
export const DEFAULT_HOST_HEARTBEAT_MS = 5_000;
export const DEFAULT_HOST_GRACE_MS = 30_000;

export type HostRow = Awaited<ReturnType<Db['host']['findUniqueOrThrow']>>;

/** The task queue of a host's worker: the shared queue's name with the host's id. */
export const hostTaskQueue = (sharedQueue: string, hostId: string) => `${sharedQueue}@${hostId}`;

/** Whether a host answered within the grace period. */
export const isResponsive = (host: Pick<HostRow, 'heartbeatAt'>, graceMs: number, now = Date.now()) =>
  now - host.heartbeatAt.getTime() <= graceMs;

/** Whether a host takes part now: not declared lost, and heard from within the grace period. */
export const answers = (host: Pick<HostRow, 'heartbeatAt' | 'lostAt'>, graceMs: number) =>
  !host.lostAt && isResponsive(host, graceMs);

export function hostState(host: HostRow, graceMs: number, now = Date.now()): HostState {
  if (host.lostAt) return 'lost';
  if (!isResponsive(host, graceMs, now)) return 'unresponsive';
  return host.drained ? 'drained' : 'live';
}

export const hostWorkspaces = (host: Pick<HostRow, 'workspaces'>) =>
  readColumn('Host.workspaces', TextListColumn, host.workspaces);

/** What a host's cells hold: every cell placed on it that has not ended. */
export interface Reservation {
  cpus: number;
  memoryMb: number;
  cells: number;
}

/**
 * The reservations of these hosts (all when none named), from their cells' records. Raw SQL
 * (src/db/rawSql.ts): placement asks it on the API's path for every accepted request.
 */
export async function reservations(db: Db, hostIds?: string[]): Promise<Map<string, Reservation>> {
  if (hostIds?.length === 0) return new Map();
  const groups = await db.$queryRaw<
    { host: string; cpus: number | bigint | null; memoryMb: number | bigint | null; cells: number | bigint }[]
  >`SELECT "host", SUM("reserveCpu") AS "cpus", SUM("reserveMemoryMb") AS "memoryMb", COUNT(*) AS "cells"
    FROM ${table(db, 'Cell')}
    WHERE ${hostIds ? Prisma.sql`"host" IN (${Prisma.join(hostIds)})` : Prisma.sql`"host" IS NOT NULL`}
      AND "status" NOT IN (${Prisma.join([...finalStatuses])})
    GROUP BY "host"`;
  const byHost = new Map<string, Reservation>();
  for (const g of groups) {
    // SUM and COUNT are bigint (or numeric) on PostgreSQL, numbers on SQLite.
    byHost.set(g.host, {
      cpus: Number(g.cpus ?? 0),
      memoryMb: Number(g.memoryMb ?? 0),
      cells: Number(g.cells),
    });
  }
  return byHost;
}

export function hostView(host: HostRow, reserved: Reservation | undefined, graceMs: number): HostView {
  return {
    id: host.id,
    state: hostState(host, graceMs),
    drained: host.drained,
    taskQueue: host.taskQueue,
    workspaces: hostWorkspaces(host),
    capacity: { cpus: host.cpus, memoryMb: host.memoryMb },
    reserved: { cpus: round(reserved?.cpus ?? 0), memoryMb: reserved?.memoryMb ?? 0 },
    cells: reserved?.cells ?? 0,
    freeMemoryMb: host.freeMemoryMb,
    freeDiskMb: host.freeDiskMb,
    load: host.load,
    heartbeatAt: host.heartbeatAt.toISOString(),
    startedAt: host.startedAt.toISOString(),
    lostAt: host.lostAt?.toISOString() ?? null,
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Every registered host, as the API shows them. */
export async function listHosts(db: Db, graceMs: number): Promise<HostView[]> {
  const [hosts, reserved] = await Promise.all([
    db.host.findMany({ orderBy: { id: 'asc' } }),
    reservations(db),
  ]);
  return hosts.map((h) => hostView(h, reserved.get(h.id), graceMs));
}

/** Drains a host (no new cells) or undrains it; undefined when no such host is registered. */
export async function setDrained(
  db: Db,
  id: string,
  drained: boolean,
  graceMs: number,
): Promise<HostView | undefined> {
  const updated = await db.host.updateMany({ where: { id }, data: { drained } });
  if (updated.count === 0) return undefined;
  const host = await db.host.findUniqueOrThrow({ where: { id } });
  return hostView(host, (await reservations(db, [id])).get(id), graceMs);
}

/** What a cell of a template reserves on its host: the template's declared cores and memory. */
export function reservationOf(resources: { cpu?: number; memoryMb?: number } | undefined) {
  return { reserveCpu: resources?.cpu ?? null, reserveMemoryMb: resources?.memoryMb ?? null };
}
