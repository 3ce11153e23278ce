// Idle cells (docs/lifecycle.md#idle-cells): the host's supervisor reports a cell idle by its policy;
// the live phase suspends it (its processes frozen, or its services stopped), waits for a reason to
// wake, and wakes it. Each of these is an activity in the cell's history.
import { condition } from '@temporalio/workflow';
import type { CellActivities } from './activities.js';
import { Saga } from './saga.js';
import { startServices } from './startServices.js';
import type { Control, LiveState } from './state.js';

/** Starts again every service nobody stopped, in dependency order, as provisioning started them. */
export async function startWanted(act: CellActivities, state: LiveState): Promise<void> {
  const { plan } = state.cell;
  const wanted = (name: string) => !state.stopped.includes(name);
  const services = plan.services
    .filter((s) => wanted(s.name))
    .map((s) => ({
      ...s,
      dependsOn: Object.fromEntries(Object.entries(s.dependsOn).filter(([d]) => wanted(d))),
    }));
  // Their stops are the live phase's own (archive stops every service).
  await startServices(act, new Saga(), { ...state.cell, plan: { ...plan, services } });
}

/** Suspends the cell by its idle policy; `why` is the supervisor's account of its idleness. */
export async function suspend(
  act: CellActivities,
  state: LiveState,
  control: Control,
  cellId: string,
  why: string,
): Promise<void> {
  const policy = state.cell.plan.idle;
  if (!policy) return;
  // A wake asked for from here on is for this suspension.
  control.wake = false;
  const { mode } = await act.suspendCell(state.cell, policy.mode, why);
  state.suspended = mode;
  if (mode === 'stop') {
    for (const service of [...state.cell.plan.services].reverse()) {
      if (state.stopped.includes(service.name)) continue;
      await act.stopService({ ...state.cell, service }, `suspend: stop service ${service.name}`);
    }
  }
  await act.setStatus(cellId, 'suspended');
}

/**
 * Suspended: waits for a wake (a request through its URLs, `resume`), a command or an archive, then
 * wakes the cell (an archive does not start stopped services just to stop them). A lost host leaves
 * it suspended: its return wakes it (see `resume` in live.ts).
 */
export async function sleepUntilWoken(
  act: CellActivities,
  state: LiveState,
  control: Control,
  cellId: string,
): Promise<void> {
  await condition(
    () => control.wake || control.archive || control.commands.length > 0 || control.hostLost !== undefined,
  );
  if (control.hostLost) return;
  await wake(act, state, { start: !control.archive });
  control.wake = false;
  await act.setStatus(cellId, state.stopped.length === 0 ? 'ready' : 'degraded');
}

/** Thaws its processes (or, with `start`, starts its stopped services again); no status change. */
export async function wake(
  act: CellActivities,
  state: LiveState,
  { start }: { start: boolean },
): Promise<void> {
  const mode = state.suspended;
  if (!mode) return;
  await act.wakeCell(state.cell, mode);
  if (mode === 'stop' && start) await startWanted(act, state);
  state.suspended = undefined;
}
