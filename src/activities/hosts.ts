import { Step } from '../cells/catalog.js';
import { recordEvent } from '../cells/events.js';
import { finalStatuses } from '../cells/status.js';
import type { Db } from '../db/client.js';
import { Prisma } from '../db/generated/client.js';
import { table } from '../db/rawSql.js';
import { type Placement, placeCell } from '../hosts/placement.js';
import { DEFAULT_HOST_GRACE_MS, isResponsive } from '../hosts/registry.js';
import { writeCellStatus } from './records.js';
import { inActivity } from './steps.js';

export interface HostsDeps {
  db: Db;
  /** After this long without a heartbeat a host takes no cells, and the monitor declares it lost. */
  hostGraceMs?: number;
}

/** Hosts the monitor announced lost, and their cells' workflows (to tell them). */
export interface HostChange {
  host: string;
  since: string;
  workflowIds: string[];
}

/**
 * The `place` step's record, in raw SQL (src/db/rawSql.ts): written on the API's path for every
 * accepted request of a host running alone.
 */
function placeStepRows(db: Db) {
  const steps = table(db, 'Step');
  const ofStep = (cellId: string) =>
    Prisma.sql`"cellId" = ${cellId} AND "name" = ${Step.place} AND "kind" = 'forward'`;
  return {
    async read(cellId: string) {
      const [row] = await db.$queryRaw<{ status: string; operation: string | null }[]>`
        SELECT "status", "operation" FROM ${steps} WHERE ${ofStep(cellId)}`;
      return row;
    },
    /** The step as it is now: its row made, or these fields of it written (the others kept). */
    write(
      cellId: string,
      status: 'running' | 'succeeded',
      fields: { operation: string | null; detail?: string; endedAt?: Date },
    ) {
      const set = [
        Prisma.sql`"status" = ${status}`,
        Prisma.sql`"operation" = ${fields.operation}`,
        ...(fields.detail !== undefined ? [Prisma.sql`"detail" = ${fields.detail}`] : []),
        ...(fields.endedAt !== undefined ? [Prisma.sql`"endedAt" = ${fields.endedAt}`] : []),
      ];
      return db.$executeRaw`INSERT INTO ${steps}
          ("id", "cellId", "name", "kind", "status", "attempt", "startedAt", "operation", "detail", "endedAt")
        VALUES (${crypto.randomUUID()}, ${cellId}, ${Step.place}, 'forward', ${status}, 1, ${new Date()},
          ${fields.operation}, ${fields.detail ?? null}, ${fields.endedAt ?? null})
        ON CONFLICT ("cellId", "name", "kind") DO UPDATE SET ${Prisma.join(set, ', ')}`;
    },
  };
}

/**
 * Placement and the host monitor's sweep: record work on the shared queue (any worker runs them, as
 * local activities of the workflow that asks). Both are idempotent.
 */
export function createHostsActivities({ db, hostGraceMs = DEFAULT_HOST_GRACE_MS }: HostsDeps) {
  const placeStep = placeStepRows(db);

  return {
    /**
     * Chooses the cell's host (src/hosts/placement.ts) and records the `place` step: succeeded with
     * the host and why, or running with what it waits for while no host has room. With
     * `provisioning`, a placed cell's status too.
     */
    async placeCell({
      cellId,
      provisioning,
    }: {
      cellId: string;
      provisioning?: boolean;
    }): Promise<Placement> {
      const chosen = await placeCell(db, cellId, hostGraceMs);
      // Run locally by the asking workflow's worker: its queue is the workflow's own. A host that
      // serves that queue runs alone, so the workflow may run its short steps itself (Patch.localSteps).
      const placement: Placement =
        chosen.kind === 'placed' && chosen.taskQueue === inActivity()?.info.taskQueue
          ? { ...chosen, ownQueue: true }
          : chosen;
      // Placed (or no hosts at all), the cell is provisioning: with `provisioning`, written here, after
      // the step, instead of by a status activity of its own (one workflow turn less per cell).
      const provisioningNow = async () => {
        if (provisioning) await writeCellStatus(db, { cellId, status: 'provisioning' });
        return placement;
      };
      if (placement.kind === 'unhosted') return provisioningNow();
      const before = await placeStep.read(cellId);
      /** The `place` step as it is now, and its event when that is news. */
      const record = async (
        status: 'running' | 'succeeded',
        fields: { operation: string | null; detail?: string; endedAt?: Date },
      ) => {
        await placeStep.write(cellId, status, fields);
        if (before?.status !== status) {
          await recordEvent(db, cellId, 'step', { name: Step.place, kind: 'forward', status, attempt: 1 });
        }
      };
      if (placement.kind === 'queued') {
        if (before?.status === 'running' && before.operation === placement.why) return placement;
        await record('running', { operation: placement.why });
        await recordEvent(db, cellId, 'operation', { step: Step.place, operation: placement.why });
      } else if (before?.status !== 'succeeded') {
        const detail = JSON.stringify({ host: placement.host, why: placement.why });
        await record('succeeded', { operation: null, detail, endedAt: new Date() });
      }
      return placement.kind === 'placed' ? provisioningNow() : placement;
    },

    /** A queued cell was cancelled: its `place` step ends (nothing else exists). */
    async withdrawPlacement({ cellId }: { cellId: string }): Promise<void> {
      await db.step.updateMany({
        where: { cellId, name: Step.place, kind: 'forward', status: 'running' },
        data: {
          status: 'failed',
          operation: null,
          endedAt: new Date(),
          detail: JSON.stringify({ message: 'cancelled while queued' }),
        },
      });
    },

    /**
     * The host monitor's look: declares lost every host silent for the grace period, takes back
     * the declaration of one that heartbeats again, and returns — against what the monitor has
     * announced so far — the hosts newly lost and those back, with the workflows of their cells.
     */
    async sweepHosts({
      announced,
    }: {
      announced: string[];
    }): Promise<{ lost: HostChange[]; back: HostChange[] }> {
      const now = new Date();
      const cutoff = new Date(now.getTime() - hostGraceMs);
      await db.host.updateMany({
        where: { lostAt: null, heartbeatAt: { lt: cutoff } },
        data: { lostAt: now },
      });
      const hosts = await db.host.findMany();
      for (const host of hosts) {
        if (host.lostAt && isResponsive(host, hostGraceMs, now.getTime()) && host.heartbeatAt > host.lostAt) {
          await db.host.updateMany({ where: { id: host.id, lostAt: host.lostAt }, data: { lostAt: null } });
          host.lostAt = null;
        }
      }
      const lost = hosts.filter((h) => h.lostAt && !announced.includes(h.id));
      const back = announced.filter((id) => !hosts.some((h) => h.id === id && h.lostAt));
      const cellsOf = async (host: string) =>
        (
          await db.cell.findMany({
            where: { host, status: { notIn: [...finalStatuses] } },
            select: { workflowId: true },
            orderBy: { createdAt: 'asc' },
          })
        ).map((c) => c.workflowId);
      return {
        lost: await Promise.all(
          lost.map(async (h) => ({
            host: h.id,
            since: h.heartbeatAt.toISOString(),
            workflowIds: await cellsOf(h.id),
          })),
        ),
        back: await Promise.all(
          back.map(async (host) => ({ host, since: now.toISOString(), workflowIds: await cellsOf(host) })),
        ),
      };
    },
  };
}

/**
 * For the API of a host (`hive up`): an accepted request's cell placed at once, as the `place` step
 * would (its status `provisioning` when placed), so its workflow starts with the first steps.
 */
export function createFirstPlacement(deps: HostsDeps) {
  const { placeCell } = createHostsActivities(deps);
  return (cellId: string) => placeCell({ cellId, provisioning: true });
}
