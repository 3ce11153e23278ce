import {
  ApplicationFailure,
  CancellationScope,
  condition,
  log,
  patched,
  setHandler,
} from '@temporalio/workflow';
import { ErrorType, isServiceStep, Step } from '../cells/catalog.js';
import type { ReadyCell } from '../cells/plan.js';
import type { Failure } from '../cells/schema.js';
import { type CellActivities, cellActivities } from './activities.js';
import { cleanUp } from './cleanup.js';
import {
  archiveUpdate,
  cancelSignal,
  cleanupSignal,
  hostSignal,
  retrySignal,
  serviceSignal,
} from './control.js';
import { listenForPool } from './handover.js';
import { hostLostFailure, waitForHost } from './hostLoss.js';
import { live } from './live.js';
import { notifying } from './notify.js';
import { awaitPlacement } from './placement.js';
import { describeFailure, Saga } from './saga.js';
import { startServices } from './startServices.js';
import type { Control, Progress, ProvisionCellInput, ProvisionCellResult } from './state.js';

/** Patch: worktree baselines at handover and retry (archive keeps only a person's work). */
const WORKTREE_BASELINE = 'worktree-baseline';

/** Patch: the worktree baseline noted while the prompt is assembled, not after. */
const PROMPT_BESIDE_BASELINE = 'prompt-beside-baseline';

/** Patch: the `place` step (choose a host, or wait queued) before validate. */
const PLACEMENT = 'placement';

/** A preserved failed cell nobody acts on rolls back after this long (unless the request says otherwise). */
const DEFAULT_PRESERVE_MS = 24 * 60 * 60 * 1000;

/**
 * The owner of one cell for its whole life: provisions it (validate → worktree → ports →
 * environment → services → prompt), then keeps it — supervising services, obeying service
 * commands — until it is archived. Each provisioning step registers its compensation; a failure
 * either preserves the cell for a person (services stopped, the rest kept, retry or cancel) or
 * rolls it back. Each status a notify target hears about (ready, failed, cancelled, archived …) is
 * delivered to it by a child workflow (notify.ts).
 */
export async function provisionCell(input: ProvisionCellInput): Promise<ProvisionCellResult> {
  let act = notifying(cellActivities(input.hostTaskQueue), input);
  const control = listen(() => act, input.resume?.cell);
  listenForPool(input, control);
  if (input.resume) return live(input, act, control, input.resume);
  if (!input.hostTaskQueue && patched(PLACEMENT)) {
    const placed = await awaitPlacement(act, control, input.cellId);
    if (placed === 'cancelled') return rollBack(act, control, new Saga(), input.cellId);
    // The host's queue from here on (and in every later run: continue-as-new carries the input).
    input.hostTaskQueue = placed.taskQueue;
    act = notifying(cellActivities(input.hostTaskQueue), input);
  }
  const settled = await provisionUntilSettled(input, act, control);
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
): Promise<ReadyCell> {
  done.plan ??= await saga.step(Step.validate, () => act.validate(cellId, restore));
  if (done.replan) {
    const previous = done.plan;
    const { plan, changed } = await saga.step(Step.validate, () => act.replan(previous));
    // What depends on a changed input runs again; the rest (worktree, kept ports) stays.
    if (changed.includes('services')) done.ports = undefined;
    if (
      changed.some((part) =>
        ['services', 'env', 'setup', 'dependencies', 'databases', 'teardown', 'options'].includes(part),
      )
    ) {
      done.env = undefined;
    }
    done.plan = plan;
    done.replan = false;
  }
  const { plan } = done;
  if (!done.worktree) {
    await saga.step(
      Step.worktree,
      () => act.createWorktree(plan),
      () => act.removeWorktree(plan),
    );
    done.worktree = true;
  }
  done.ports ??= await saga.step(
    Step.ports,
    () => act.allocatePorts(plan),
    () => act.releasePorts(plan),
  );
  const { ports } = done;
  done.env ??= await saga.step(
    Step.environment,
    () => act.prepareEnvironment(plan, ports),
    // Registered even when the step failed part-way: its setup may have run and need undoing.
    () => act.runTeardown(done.plan ?? plan, done.ports ?? ports, done.env),
  );
  const cell: ReadyCell = { plan, ports, env: done.env };
  if (!done.servicesReady) {
    await saga.step(Step.services, () => startServices(act, saga, cell));
    done.servicesReady = true;
  }
  const prompting = saga.step(Step.prompt, () => act.assemblePrompt(cell));
  // Handed to a person: what setup and services left is the template's; archive keeps what follows.
  // The prompt writes only under .hive/, which the baseline never lists: both run at once.
  if (patched(PROMPT_BESIDE_BASELINE)) {
    const baseline = patched(WORKTREE_BASELINE) ? act.recordWorktreeBaseline(plan) : undefined;
    const [prompt, noted] = await Promise.allSettled([prompting, baseline]);
    if (prompt.status === 'rejected') throw prompt.reason;
    if (noted.status === 'rejected') throw noted.reason;
    return cell;
  }
  await prompting;
  if (patched(WORKTREE_BASELINE)) await act.recordWorktreeBaseline(plan);
  return cell;
}

/** Provisions, and on failure preserves (waiting for retry or cancel) or rolls back. */
async function provisionUntilSettled(
  input: ProvisionCellInput,
  act: CellActivities,
  control: Control,
): Promise<ReadyCell | ProvisionCellResult> {
  const { cellId } = input;
  const saga = new Saga();
  const done: Progress = {};
  await act.setStatus(cellId, 'provisioning');
  for (;;) {
    const scope = new CancellationScope();
    control.interruptProvisioning = () => scope.cancel();
    try {
      // No attempt on a host known to be lost (it would wait on that host's queue, unseen).
      if (control.hostLost) throw new Error('host lost');
      const cell = await scope.run(() => provision(act, saga, done, input));
      control.interruptProvisioning = undefined;
      await act.setStatus(cellId, 'ready');
      return cell;
    } catch (error) {
      control.interruptProvisioning = undefined;
      if (control.cancel) return rollBack(act, control, saga, cellId);
      if (control.hostLost) {
        // Nothing can be stopped or undone there now: a rollback waits for the host on its queue;
        // a preserved cell shows `lost` and resumes where it was when the host is back.
        const failure = hostLostFailure(saga.current || Step.place, control.hostLost);
        if (input.onFailure === 'rollback') return rollBack(act, control, saga, cellId, failure);
        const outcome = await waitForHost(act, control, cellId, failure);
        if (outcome !== 'back') return rollBack(act, control, saga, cellId);
        done.servicesReady = false;
        await act.setStatus(cellId, 'provisioning', null);
        continue;
      }
      const failure = describeFailure(saga.current, error);
      if (input.onFailure === 'rollback') return rollBack(act, control, saga, cellId, failure);
      // Preserve: stop what runs, keep worktree, logs and ports for inspection; wait for a person.
      const residue = await saga.compensate(isServiceStep);
      done.servicesReady = false;
      if (patched(WORKTREE_BASELINE) && done.plan) await act.recordWorktreeBaseline(done.plan);
      log.warn('provisioning failed; cell preserved', { cellId, step: failure.step, type: failure.type });
      await act.setStatus(cellId, 'failed', residue.length ? { ...failure, residue } : failure);
      const acted = await condition(
        () => control.retry || control.cancel,
        input.preserveForMs ?? DEFAULT_PRESERVE_MS,
      );
      if (control.cancel) return rollBack(act, control, saga, cellId);
      if (!acted) return rollBack(act, control, saga, cellId, failure);
      control.retry = false;
      // What the person changed while the cell waited stays theirs, whatever the retry's setup does.
      if (patched(WORKTREE_BASELINE) && done.plan) await act.recordWorktreeBaseline(done.plan, 'retry');
      // Versioned: a cell preserved by an older version retries as it would have (no re-plan).
      done.replan = patched('replan-on-retry');
      await act.setStatus(cellId, 'provisioning');
    }
  }
}

/** Runs every compensation (in reverse) and ends the cell as cancelled, or rolled back with its failure. */
async function rollBack(
  act: CellActivities,
  control: Control,
  saga: Saga,
  cellId: string,
  failure?: Failure,
): Promise<ProvisionCellResult> {
  const [during, end] = failure
    ? (['rolling_back', 'rolled_back'] as const)
    : (['cancelling', 'cancelled'] as const);
  await cleanUp(act, control, { cellId, during, end, failure, undo: () => saga.compensate() });
  if (!failure) return { cellId, status: end };
  throw ApplicationFailure.create({
    type: ErrorType.ProvisioningFailed,
    message: `${failure.step} failed (${failure.type}): ${failure.message}; rolled back`,
    nonRetryable: true,
    details: [failure],
  });
}

/**
 * Signal and update handlers. Commands are queued whatever the phase: one sent the moment the
 * record says `ready` can reach the workflow in the same task as the ready transition's completion
 * (signals are handled first), and must not be lost; the live phase obeys them.
 */
function listen(acts: () => CellActivities, resumed: ReadyCell | undefined): Control {
  const control: Control = {
    cancel: false,
    retry: false,
    cleanup: false,
    archive: false,
    discard: false,
    commands: [],
    live: resumed,
  };
  setHandler(cancelSignal, () => {
    if (control.live) {
      // A live cell whose host is lost may be cancelled: it is archived (its work saved) once back.
      if (control.hostLost) control.archive = true;
      else log.warn('cancel of a live cell ignored (archive it instead)');
      return;
    }
    control.cancel = true;
    control.interruptProvisioning?.();
  });
  setHandler(retrySignal, () => {
    control.retry = true;
  });
  setHandler(cleanupSignal, () => {
    control.cleanup = true;
  });
  setHandler(hostSignal, ({ host, state, since }) => {
    if (state === 'back') {
      control.hostLost = undefined;
      return;
    }
    control.hostLost = { host, since };
    // Provisioning stops where it is; the live phase sees it in its supervision loop.
    control.interruptProvisioning?.();
  });
  setHandler(serviceSignal, (command) => {
    control.commands.push(command);
  });
  setHandler(
    archiveUpdate,
    async ({ discard = false, force = false }) => {
      if (patched('archive-keeps-work')) {
        // Accepted at once (no await first), so a second archive's validator already sees it.
        control.archive = true;
        control.discard = discard;
        return { discard };
      }
      // How the older version archived: a dirty worktree refused unless forced.
      await condition(() => control.live !== undefined);
      const plan = control.live?.plan;
      if (!plan) throw new Error('unreachable: live without a cell');
      const inspection = await acts().inspectWorktree(plan);
      if (inspection.dirty.length > 0 && !force) {
        throw ApplicationFailure.create({
          type: ErrorType.WorktreeDirty,
          message: `the worktree has uncommitted changes: ${inspection.dirty.slice(0, 10).join(', ')}`,
          details: [inspection],
        });
      }
      control.archive = true;
      return { discard: false };
    },
    {
      validator: (_request: { discard?: boolean; force?: boolean }) => {
        if (control.archive) {
          throw ApplicationFailure.create({
            type: ErrorType.AlreadyArchiving,
            message: 'the cell is already being archived',
            nonRetryable: true,
          });
        }
      },
    },
  );
  return control;
}
