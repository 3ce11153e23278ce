import {
  ActivityCancellationType,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { CellStatus } from '../cells/status.js';
import { CellStatusKey } from '../temporal/searchAttributes.js';
import { archiveUpdate, cancelSignal, retrySignal, serviceSignal } from './control.js';
import { describeFailure, Saga } from './saga.js';
import type {
  AllocatedPort,
  CellPlan,
  CellState,
  FailureInfo,
  PreparedEnvironment,
  ProvisionCellInput,
  ProvisionCellResult,
  ServiceAction,
  ServiceEvent,
  ServicePlan,
} from './types.js';

/** A preserved failed cell nobody acts on rolls back after this long (unless the request says otherwise). */
const DEFAULT_PRESERVE_MS = 24 * 60 * 60 * 1000;
/** History bound: past this many events the workflow continues as new with its state. */
const MAX_HISTORY_EVENTS = 2_000;

const records = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '10 seconds' },
});

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '15 seconds' };

/**
 * Host-bound activities (worktree, ports, environment, services, prompt) run on the task queue of
 * the cell's host; one host today, one worker per host later. Transient failures retry with
 * backoff; permanent ones are non-retryable ApplicationFailures and end the attempt at once.
 */
function hostActivities(taskQueue: string | undefined) {
  return proxyActivities<Activities>({
    taskQueue,
    startToCloseTimeout: '20 minutes',
    heartbeatTimeout: '10 seconds',
    // The promise settles only once the activity has really stopped, so a service spawned by a
    // cancelled attempt always has its compensation registered before rollback runs.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { ...retry, maximumAttempts: 5 },
  });
}
type Host = ReturnType<typeof hostActivities>;

/** Supervision runs for as long as the cell lives: retried without limit (a worker restart is normal). */
function supervisionActivities(taskQueue: string | undefined) {
  return proxyActivities<Activities>({
    taskQueue,
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '10 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry,
  });
}

/** Call-site options merge into the proxy's: only the one-line summary the Temporal UI shows. */
const opts = (summary: string) => ({ summary });

async function transition(cellId: string, status: CellStatus, failure?: FailureInfo): Promise<void> {
  await records.setCellStatus({ cellId, status, failure });
  upsertSearchAttributes([{ key: CellStatusKey, value: status }]);
}

/** What people asked for, as the signal and update handlers record it. */
interface Control {
  cancel: boolean;
  retry: boolean;
  archive: boolean;
  commands: Array<{ service: string; action: ServiceAction }>;
  phase: 'provisioning' | 'live';
  interruptProvisioning?: () => void;
}

/**
 * The owner of one cell for its whole life: provisions it (validate → worktree → ports →
 * environment → services → prompt), then keeps it — supervising services, obeying service
 * commands — until it is archived. Each provisioning step registers its compensation; a failure
 * either preserves the cell for a person (services stopped, the rest kept, retry or cancel) or
 * rolls it back.
 */
export async function provisionCell(input: ProvisionCellInput): Promise<ProvisionCellResult> {
  const host = hostActivities(input.hostTaskQueue);
  const state: CellState = input.resume ?? { restarts: {}, stopped: [] };
  const control = listen(host, state, input.resume ? 'live' : 'provisioning');
  if (!input.resume) {
    const outcome = await provisionUntilSettled(input, host, state, control);
    if (outcome.status !== 'ready') return outcome;
  }
  control.phase = 'live';
  return live(input, host, state, control);
}

function listen(host: Host, state: CellState, phase: Control['phase']): Control {
  const control: Control = { cancel: false, retry: false, archive: false, commands: [], phase };
  setHandler(cancelSignal, () => {
    if (control.phase !== 'provisioning') return;
    control.cancel = true;
    control.interruptProvisioning?.();
  });
  setHandler(retrySignal, () => {
    control.retry = true;
  });
  setHandler(serviceSignal, (command) => {
    if (control.phase === 'live') control.commands.push(command);
  });
  setHandler(
    archiveUpdate,
    async ({ force }) => {
      const plan = state.plan as CellPlan;
      const inspection = await host.inspectWorktree.executeWithOptions(
        opts('inspect worktree before archiving'),
        [plan],
      );
      if (inspection.dirty.length > 0 && !force) {
        throw ApplicationFailure.create({
          type: 'WorktreeDirty',
          message: `the worktree has uncommitted changes: ${inspection.dirty.slice(0, 10).join(', ')}`,
          details: [inspection],
        });
      }
      control.archive = true;
      return inspection;
    },
    {
      validator: (_request: { force: boolean }) => {
        if (control.phase !== 'live' || control.archive)
          throw new Error(`the cell is not live (${control.phase})`);
      },
    },
  );
  return control;
}

/** Provisions, and on failure preserves (waiting for retry or cancel) or rolls back. */
async function provisionUntilSettled(
  input: ProvisionCellInput,
  host: Host,
  state: CellState,
  control: Control,
): Promise<ProvisionCellResult> {
  const { cellId } = input;
  const saga = new Saga();
  await transition(cellId, 'provisioning');
  for (;;) {
    const scope = new CancellationScope();
    control.interruptProvisioning = () => scope.cancel();
    try {
      await scope.run(() => provision(host, saga, state, cellId));
      control.interruptProvisioning = undefined;
      await transition(cellId, 'ready');
      return { cellId, status: 'ready' };
    } catch (error) {
      control.interruptProvisioning = undefined;
      if (control.cancel) return rollBack(saga, cellId, 'cancelled');
      const failure = describeFailure(saga.current, error);
      if (input.onFailure === 'rollback') return rollBack(saga, cellId, 'rolled_back', failure);
      // Preserve: stop what runs, keep worktree, logs and ports for inspection; wait for a person.
      await saga.compensate((name) => name.startsWith('services.'));
      state.servicesReady = false;
      await transition(cellId, 'failed', failure);
      const acted = await condition(
        () => control.retry || control.cancel,
        input.preserveForMs ?? DEFAULT_PRESERVE_MS,
      );
      if (control.cancel) return rollBack(saga, cellId, 'cancelled');
      if (!acted) return rollBack(saga, cellId, 'rolled_back', failure);
      control.retry = false;
      await transition(cellId, 'provisioning');
    }
  }
}

/** The provisioning steps; a step done in an earlier attempt (before a retry) is not redone. */
async function provision(host: Host, saga: Saga, state: CellState, cellId: string): Promise<void> {
  state.plan ??= await saga.step('validate', () => host.validateCell({ cellId }));
  const plan = state.plan;
  if (!state.worktree) {
    await saga.step(
      'worktree',
      () => host.createWorktree.executeWithOptions(opts(`git worktree add ${plan.branch}`), [plan]),
      () => host.removeWorktree.executeWithOptions(opts(`remove worktree ${plan.branch}`), [plan]),
    );
    state.worktree = true;
  }
  state.ports ??= await saga.step(
    'ports',
    () => host.allocatePorts.executeWithOptions(opts(`allocate ports for ${serviceNames(plan)}`), [plan]),
    () => host.releasePorts(plan),
  );
  const ports = state.ports;
  state.env ??= await saga.step(
    'environment',
    () =>
      host.prepareEnvironment.executeWithOptions(opts(`write env, run ${plan.setup.length} setup commands`), [
        { plan, ports },
      ]),
    () =>
      host.runTeardown.executeWithOptions(opts(`teardown (${plan.teardown.length} commands)`), [
        { plan, ports },
      ]),
  );
  const env = state.env;
  if (!state.servicesReady) {
    await saga.step('services', () => startServices(host, saga, plan, env, ports));
    state.servicesReady = true;
  }
  if (!state.prompt) {
    await saga.step('prompt', () => host.assemblePrompt({ plan, env, ports }));
    state.prompt = true;
  }
}

/** Runs every compensation (in reverse) and ends the cell as cancelled or rolled back. */
async function rollBack(
  saga: Saga,
  cellId: string,
  end: 'cancelled' | 'rolled_back',
  failure?: FailureInfo,
): Promise<ProvisionCellResult> {
  await CancellationScope.nonCancellable(async () => {
    await transition(cellId, end === 'cancelled' ? 'cancelling' : 'rolling_back', failure);
    await saga.compensate();
    await transition(cellId, end);
  });
  if (end === 'cancelled' || !failure) return { cellId, status: end };
  throw ApplicationFailure.create({
    type: 'ProvisioningFailed',
    message: `${failure.step} failed (${failure.type}): ${failure.message}; rolled back`,
    nonRetryable: true,
    details: [failure],
  });
}

/** After ready: supervise services, obey service commands, archive on request. */
async function live(
  input: ProvisionCellInput,
  host: Host,
  state: CellState,
  control: Control,
): Promise<ProvisionCellResult> {
  const plan = state.plan as CellPlan;
  const call = (service: ServicePlan) => ({
    plan,
    env: state.env as PreparedEnvironment,
    ports: state.ports as AllocatedPort[],
    service,
  });
  for (;;) {
    while (control.commands.length > 0) {
      const command = control.commands.shift();
      const service = plan.services.find((s) => s.name === command?.service);
      if (command && service) await obey(host, state, call(service), command.action);
    }
    if (control.archive) return archive(host, state, input.cellId);
    // Bounded history: hand the state to a new run, but only with nothing pending, so no command is
    // dropped on the way (one arriving meanwhile makes the server refuse this and we loop again).
    const limit = input.historyLimit ?? MAX_HISTORY_EVENTS;
    if (workflowInfo().historyLength > limit || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (control.commands.length === 0 && !control.archive) {
        return continueAsNew<typeof provisionCell>({ ...input, resume: state });
      }
      continue;
    }
    const event = await superviseUntilInterrupted(supervisionActivities(input.hostTaskQueue), state, control);
    if (event) await recover(host, state, input.cellId, event, call);
  }
}

/** Runs the supervision activity until it reports a service, or a person wants something. */
async function superviseUntilInterrupted(
  host: Host,
  state: CellState,
  control: Control,
): Promise<ServiceEvent | null> {
  const scope = new CancellationScope();
  let settled = false;
  let event: ServiceEvent | null = null;
  const watching = scope
    .run(() =>
      host.watchServices.executeWithOptions(opts('supervise services'), [
        {
          plan: state.plan as CellPlan,
          env: state.env as PreparedEnvironment,
          ports: state.ports as AllocatedPort[],
          ignore: [...state.stopped],
        },
      ]),
    )
    .then(
      (reported) => {
        event = reported;
      },
      (error: unknown) => {
        if (!isCancellation(error)) throw error;
      },
    )
    .finally(() => {
      settled = true;
    });
  await condition(() => settled || control.archive || control.commands.length > 0);
  if (!settled) scope.cancel();
  await watching;
  return event;
}

/** A service died or turned unhealthy: report it, and restart it as its policy says. */
async function recover(
  host: Host,
  state: CellState,
  cellId: string,
  event: ServiceEvent,
  call: (s: ServicePlan) => Parameters<Host['startService']>[0],
): Promise<void> {
  await transition(cellId, 'degraded');
  const service = (state.plan as CellPlan).services.find((s) => s.name === event.service);
  if (!service) return;
  const restarts = state.restarts[service.name] ?? 0;
  const wanted =
    service.restart === 'always' ||
    (service.restart === 'on-failure' && (event.kind === 'unhealthy' || event.exitCode !== 0));
  if (!wanted || restarts >= service.maxRestarts) {
    // Left as it is for a person: supervision stops watching it until it is started again.
    state.stopped.push(service.name);
    return;
  }
  await sleep(service.restartBackoffMs * 2 ** restarts);
  state.restarts[service.name] = restarts + 1;
  try {
    // An unhealthy service still runs: replace it, do not adopt it.
    await host.stopService.executeWithOptions(opts(`stop ${service.name} before restarting it`), [
      call(service),
    ]);
    await host.startService.executeWithOptions(opts(`restart service ${service.name} (${event.detail})`), [
      call(service),
    ]);
    await host.awaitService.executeWithOptions(opts(`wait for ${service.name} to be ready`), [
      { ...call(service), condition: 'ready' },
    ]);
    if (state.stopped.length === 0) await transition(cellId, 'ready');
  } catch {
    // Still not ready: supervision reports it again, and the next attempt counts toward maxRestarts.
  }
}

/** A person's command for one service. */
async function obey(
  host: Host,
  state: CellState,
  call: Parameters<Host['startService']>[0],
  action: ServiceAction,
): Promise<void> {
  const name = call.service.name;
  if (action === 'stop' || action === 'restart') {
    await host.stopService.executeWithOptions(opts(`stop service ${name}`), [call]);
    if (!state.stopped.includes(name)) state.stopped.push(name);
  }
  if (action === 'start' || action === 'restart') {
    state.stopped = state.stopped.filter((s) => s !== name);
    state.restarts[name] = 0;
    await host.startService.executeWithOptions(opts(`start service ${name}`), [call]);
    await host.awaitService.executeWithOptions(opts(`wait for ${name} to be ready`), [
      { ...call, condition: 'ready' },
    ]);
  }
}

/** Archive: stop services, teardown, remove the worktree (a branch with commits stays), release ports. */
async function archive(host: Host, state: CellState, cellId: string): Promise<ProvisionCellResult> {
  const plan = state.plan as CellPlan;
  const ports = state.ports as AllocatedPort[];
  const env = state.env as PreparedEnvironment;
  await CancellationScope.nonCancellable(async () => {
    await transition(cellId, 'archiving');
    for (const service of [...plan.services].reverse()) {
      await host.stopService.executeWithOptions(opts(`stop service ${service.name}`), [
        { plan, env, ports, service },
      ]);
    }
    await host.runTeardown.executeWithOptions(opts(`teardown (${plan.teardown.length} commands)`), [
      { plan, ports },
    ]);
    await host.removeWorktree.executeWithOptions(opts(`remove worktree ${plan.branch}`), [plan]);
    await host.releasePorts(plan);
    await transition(cellId, 'archived');
  });
  return { cellId, status: 'archived' };
}

const serviceNames = (plan: CellPlan) => plan.services.map((s) => s.name).join(', ') || 'no services';

/**
 * Starts services in dependency order, independent ones in parallel: each waits for its
 * dependencies' conditions, starts, registers its stop, then waits until it is ready (or, when
 * others depend on it as `completed`, until it exits 0). On a failure the rest are cancelled and
 * allowed to settle, so every started service has its compensation before rollback begins.
 */
async function startServices(
  host: Host,
  saga: Saga,
  plan: CellPlan,
  env: PreparedEnvironment,
  ports: AllocatedPort[],
): Promise<void> {
  const oneShot = new Set(
    plan.services.flatMap((s) =>
      Object.entries(s.dependsOn)
        .filter(([, c]) => c === 'completed')
        .map(([d]) => d),
    ),
  );
  const started = new Map<string, Deferred>();
  const finished = new Map<string, Deferred>();
  for (const s of plan.services) {
    started.set(s.name, deferred());
    finished.set(s.name, deferred());
  }
  const reached = (dep: string, condition: string) =>
    (condition === 'started' ? started.get(dep) : finished.get(dep))?.promise ?? Promise.resolve();

  const runOne = async (service: ServicePlan) => {
    try {
      await Promise.all(Object.entries(service.dependsOn).map(([dep, c]) => reached(dep, c)));
      const call = { plan, env, ports, service };
      const port = ports.find((p) => p.service === service.name && p.name === service.primaryPort)?.port;
      saga.add(`services.${service.name}`, () =>
        host.stopService.executeWithOptions(opts(`stop service ${service.name}`), [call]),
      );
      await host.startService.executeWithOptions(
        opts(`start service ${service.name}${port ? ` on :${port}` : ''}`),
        [call],
      );
      started.get(service.name)?.resolve();
      const condition = oneShot.has(service.name) ? ('completed' as const) : ('ready' as const);
      await host.awaitService.executeWithOptions(
        opts(
          `wait for ${service.name} to be ${condition}${service.readiness ? ` (${service.readiness.type} probe)` : ''}`,
        ),
        [{ ...call, condition }],
      );
      finished.get(service.name)?.resolve();
    } catch (error) {
      started.get(service.name)?.reject(error);
      finished.get(service.name)?.reject(error);
      throw error;
    }
  };

  const scope = new CancellationScope();
  const runs = plan.services.map((s) => scope.run(() => runOne(s)));
  try {
    await Promise.all(runs);
  } catch (error) {
    scope.cancel();
    await Promise.allSettled(runs);
    throw error;
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve: () => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A dependency's failure is reported by its own run; dependents only need to stop waiting.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
