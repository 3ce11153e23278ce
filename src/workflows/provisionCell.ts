import { log, patched } from '@temporalio/workflow';
import { Step, stepsToRedo } from '../cells/catalog.js';
import type { CellPlan, ReadyCell, SettlingService } from '../cells/plan.js';
import { listenForPool } from '../pools/workflows/index.js';
import { type CellActivities, cellActivities } from './activities.js';
import { provisionUntilSettled } from './attempts.js';
import { rollBack } from './cleanup.js';
import { listen } from './handlers.js';
import { live } from './live.js';
import { notifying } from './notify.js';
import { Patch } from './patches.js';
import { awaitPlacement } from './placement.js';
import { Saga } from './saga.js';
import { startServices } from './startServices.js';
import type { Progress, ProvisionCellInput, ProvisionCellResult } from './state.js';

/**
 * The owner of one cell for its whole life: places it on a host, provisions it (validate →
 * worktree → ports → environment → services → prompt), then keeps it — supervising services,
 * obeying service commands — until it is archived. Each provisioning step registers its
 * compensation; a failure either preserves the cell for a person (services stopped, the rest kept,
 * retry or cancel) or rolls it back (attempts.ts). Each status a notify target hears about (ready,
 * failed, cancelled, archived …) is delivered to it by a child workflow (notify.ts).
 */
export async function provisionCell(input: ProvisionCellInput): Promise<ProvisionCellResult> {
  let act = notifying(cellActivities(input.hostTaskQueue, input.ownQueue), input);
  const control = listen(input.resume?.cell);
  listenForPool(input, control);
  if (input.resume) return live(input, act, control, input.resume);
  // Placed by the API (input.placedOn) or by the `place` step below, the plan made for that host holds.
  let plannedFor = input.placedOn;
  // Whether the cell's status is `provisioning` already: placement writes it (Patch.placeProvisioning).
  let provisioning = input.placedOn !== undefined;
  if (!input.hostTaskQueue) {
    provisioning = patched(Patch.placeProvisioning);
    const placed = await awaitPlacement(act, control, input.cellId, provisioning);
    if (placed === 'cancelled') return rollBack(act, control, new Saga(), input.cellId);
    // The host's queue from here on (and in every later run: continue-as-new carries the input).
    input.hostTaskQueue = placed.taskQueue;
    if (placed.ownQueue) input.ownQueue = true;
    // A plan made before the cell waited for room may be of a config changed since: planned again.
    plannedFor = placed.queued ? undefined : placed.host;
    act = notifying(cellActivities(input.hostTaskQueue, input.ownQueue), input);
  }
  // The API's plan holds for the host it was made on (paths, data dir, idle policy are the host's).
  const planned = input.plan && input.plan.host === plannedFor ? input.plan : undefined;
  const attempt = (saga: Saga, done: Progress) => provision(act, saga, done, input, planned);
  const settled = await provisionUntilSettled(input, act, control, attempt, provisioning);
  if ('status' in settled) return settled;
  if (control.cancel) log.warn('cancel arrived as the cell became ready; ignored (archive it instead)');
  control.live = settled;
  return live(input, act, control, { cell: settled, restarts: {}, stopped: [] });
}

/** The provisioning steps; a step done in an earlier attempt (before a retry) is not redone. */
async function provision(
  act: CellActivities,
  saga: Saga,
  done: Progress,
  { cellId, restore }: ProvisionCellInput,
  planned: CellPlan | undefined,
): Promise<ReadyCell> {
  done.plan ??= planned ?? (await saga.step(Step.validate, () => act.validate(cellId, restore)));
  if (done.replan) {
    const previous = done.plan;
    const { plan, changed } = await saga.step(Step.validate, () => act.replan(previous));
    // What depends on a changed input runs again; the rest (worktree, kept ports) stays.
    const redo = stepsToRedo(changed);
    if (redo.has(Step.ports)) done.ports = undefined;
    if (redo.has(Step.environment)) done.env = undefined;
    done.plan = plan;
    done.replan = false;
  }
  const { plan } = done;
  const worktree = [
    Step.worktree,
    async () => {
      await act.createWorktree(plan);
      done.worktree = true;
    },
    () => act.removeWorktree(plan),
  ] as const;
  const allocate = [
    Step.ports,
    async () => {
      done.ports = await act.allocatePorts(plan);
    },
    () => act.releasePorts(plan),
  ] as const;
  // Neither needs the other (files in the worktree; the host's port registry): both at once.
  if (!done.worktree && !done.ports && patched(Patch.parallelSteps)) await saga.together(worktree, allocate);
  if (!done.worktree) await saga.step(...worktree);
  if (!done.ports) await saga.step(...allocate);
  const { ports } = done;
  if (!ports) throw new Error('unreachable: the ports step ran');
  done.env ??= await saga.step(
    Step.environment,
    () => act.prepareEnvironment(plan, ports),
    // Registered even when the step failed part-way: its setup may have run and need undoing.
    () => act.runTeardown(done.plan ?? plan, done.ports ?? ports, done.env),
  );
  const cell: ReadyCell = { plan, ports, env: done.env };
  let settling: SettlingService[] = [];
  if (!done.servicesReady) {
    // A fast service's settle window passes beside the prompt and baseline, not before them.
    const beside = patched(Patch.settleBeside);
    settling = await saga.step(Step.services, () => startServices(act, saga, cell, beside));
    done.servicesReady = true;
  }
  // Handed to a person: what setup and services left is the template's; archive keeps what follows.
  // The prompt writes only under .hive/, which the baseline never lists: both run at once.
  const [prompt, noted, settled] = await Promise.allSettled([
    saga.step(Step.prompt, () => act.assemblePrompt(cell)),
    act.recordWorktreeBaseline(plan),
    settling.length > 0 ? act.confirmSettled(cell, settling) : Promise.resolve(),
  ]);
  if (settled.status === 'rejected') {
    // A service that exited within its settle window failed the services step, as it would have there.
    saga.current = Step.services;
    throw settled.reason;
  }
  if (prompt.status === 'rejected') throw prompt.reason;
  if (noted.status === 'rejected') throw noted.reason;
  return cell;
}
