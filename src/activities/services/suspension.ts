import { Step } from '../../cells/catalog.js';
import { recordEvent } from '../../cells/events.js';
import type { ReadyCell } from '../../cells/plan.js';
import type { Suspension } from '../../cells/schema.js';
import { freezeCell, thawCell } from '../../cgroups/freeze.js';
import type { Db } from '../../db/client.js';
import { warn } from '../steps.js';

export type SuspendMode = 'freeze' | 'stop';

/** Idle cells (docs/lifecycle.md#idle-cells): suspend by the cell's policy, and wake. */
export function createSuspension({ db }: { db: Db }) {
  return {
    /**
     * Suspends an idle cell: `freeze` stops every process of its cgroup where it is (zero CPU, memory
     * kept); without a freezer the cell is suspended by stopping its services instead, and the
     * returned mode says so (the workflow then stops them, each a step of its own). Records why and
     * since when. Idempotent: freezing a frozen cell changes nothing.
     */
    async suspendCell(call: ReadyCell & { mode: SuspendMode; why: string }): Promise<Suspension> {
      const { cellId } = call.plan;
      let suspension: Suspension = { since: new Date().toISOString(), why: call.why, mode: call.mode };
      if (call.mode === 'freeze') {
        await freezeCell(cellId).catch((error: unknown) => {
          suspension = { ...suspension, mode: 'stop', fallback: `cannot freeze: ${String(error)}` };
        });
      }
      await db.cell.update({ where: { id: cellId }, data: { suspended: JSON.stringify(suspension) } });
      await recordEvent(db, cellId, 'operation', {
        step: Step.services,
        operation: `suspended (${suspension.mode === 'freeze' ? 'processes frozen' : 'services stopped'}): ${call.why}${suspension.fallback ? ` (${suspension.fallback})` : ''}`,
      });
      return suspension;
    },

    /**
     * Wakes a suspended cell: thaws its processes (frozen), and clears the record (the workflow starts
     * stopped services itself). Idempotent: thawing a running cell changes nothing.
     */
    async wakeCell(call: ReadyCell & { mode: SuspendMode }): Promise<void> {
      const { cellId } = call.plan;
      if (call.mode === 'freeze') {
        // No cgroup any more (the host restarted): nothing is frozen; its services are looked at
        // when the watch is asked for, and restarted by their policy.
        await thawCell(cellId).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      }
      await db.cell
        .update({ where: { id: cellId }, data: { suspended: null } })
        .catch((error: unknown) => warn('suspension not cleared', { cellId, error: String(error) }));
      await recordEvent(db, cellId, 'operation', {
        step: Step.services,
        operation: call.mode === 'freeze' ? 'woken: processes thawed' : 'woken: starting its services',
      });
    },
  };
}
