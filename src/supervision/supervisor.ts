// The host's supervisor: one loop in the worker process that watches the services of every live cell
// placed on this host, and tells a cell's workflow only when something happens (a service exited or
// turned unhealthy). An idle cell costs Temporal nothing: no activity, no heartbeat, no timer, no
// history event. Its workflow asks for the watch (the superviseServices activity) and decides what to
// do about an event (its restart policy); people's commands still go through the workflow.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceEvent } from '../cells/plan.js';
import { IDLE_EVERY_LOOKS, type IdleWatch, idleReason, idleSoFar } from './idle.js';
import { type LookDeps, lookAt, type WatchedService } from './look.js';

/** How often each watched service's process is looked at (a read of /proc). */
export const LOOK_EVERY_MS = 1_000;

/** What the supervisor tells a cell's workflow: the event, and the watch it belongs to. */
export type SupervisionReport = ServiceEvent & { watch: number };

/** Delivers a report to the cell's workflow (a signal); throws when it could not be delivered (yet). */
export type TellCell = (cellId: string, report: SupervisionReport) => Promise<void>;

interface CellWatch {
  cellId: string;
  /** The workflow's number for this watch: a report of an older watch is ignored there. */
  watch: number;
  services: WatchedService[];
  /** Looks so far (drives probe and rotation cadence). */
  looks: number;
  /** Its idle policy and what was last seen going on (none: never suspended). */
  idle?: IdleWatch;
}

export interface HostSupervisorDeps extends LookDeps {
  tell: TellCell;
  lookEveryMs?: number;
}

export interface HostSupervisor {
  /** Watches a cell's services (and its idleness) from now on, in place of any earlier watch of it. */
  watch(cellId: string, watch: number, services: WatchedService[], idle?: IdleWatch): void;
  /** Ends the watch of a cell (a command is about to change its services, or it is going away). */
  forget(cellId: string): void;
  /** Cells watched now. */
  watching(): number;
  /** Stops looking; undelivered reports are dropped (the next worker's watch finds the same facts). */
  stop(): Promise<void>;
}

export function createHostSupervisor(deps: HostSupervisorDeps): HostSupervisor {
  const cells = new Map<string, CellWatch>();
  const undelivered: Array<{ cellId: string; report: SupervisionReport; attempts: number }> = [];
  const every = deps.lookEveryMs ?? LOOK_EVERY_MS;
  let stopped = false;

  async function lookAtCell(entry: CellWatch): Promise<void> {
    const current = () => cells.get(entry.cellId) === entry;
    const count = entry.looks++;
    for (const service of entry.services) {
      if (!current()) return;
      const event = await lookAt(deps, service, count, current).catch((error: unknown) => {
        console.warn(`supervision of ${entry.cellId}/${service.ctx.name}: ${String(error)}`);
        return null;
      });
      if (!event || !current()) continue;
      return report(entry, event);
    }
    if (entry.idle && count % IDLE_EVERY_LOOKS === IDLE_EVERY_LOOKS - 1) {
      const groups = entry.services.flatMap((s) => (s.row.pgid ? [s.row.pgid] : []));
      const idleMs = await idleSoFar(deps.db, entry.cellId, entry.idle, groups).catch((error: unknown) => {
        console.warn(`idleness of ${entry.cellId}: ${String(error)}`);
        return 0;
      });
      if (idleMs >= entry.idle.policy.afterMs && current()) {
        const detail = idleReason(entry.idle, idleMs);
        return report(entry, {
          service: entry.services[0]?.ctx.name ?? '',
          kind: 'idle',
          exitCode: null,
          detail,
        });
      }
    }
  }

  /** Reported once: the workflow decides, then asks for a new watch. */
  async function report(entry: CellWatch, event: ServiceEvent): Promise<void> {
    cells.delete(entry.cellId);
    await deliver({ cellId: entry.cellId, report: { ...event, watch: entry.watch }, attempts: 0 });
  }

  async function deliver(item: (typeof undelivered)[number]): Promise<void> {
    try {
      await deps.tell(item.cellId, item.report);
    } catch (error) {
      // Temporal unreachable for a moment: kept and tried again on the next looks, a few times.
      if (item.attempts < 60) {
        undelivered.push({ ...item, attempts: item.attempts + 1 });
      } else {
        console.warn(`supervision of ${item.cellId}: report not delivered: ${String(error)}`);
      }
    }
  }

  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      const retries = undelivered.splice(0);
      // Cells side by side: one slow probe does not delay the others' looks.
      await Promise.all([...retries.map(deliver), ...[...cells.values()].map(lookAtCell)]);
      await sleep(Math.max(0, every - (Date.now() - started)), undefined, { ref: false });
    }
  })();

  return {
    watch(cellId, watch, services, idle) {
      cells.set(cellId, { cellId, watch, services, looks: 0, idle });
    },
    forget(cellId) {
      cells.delete(cellId);
    },
    watching: () => cells.size,
    async stop() {
      stopped = true;
      cells.clear();
      await loop;
    },
  };
}
