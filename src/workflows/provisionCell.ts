import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  proxyActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { CellStatus } from '../cells/status.js';
import { CellStatusKey } from '../temporal/searchAttributes.js';
import { describeFailure, Saga } from './saga.js';
import type {
  AllocatedPort,
  CellPlan,
  PreparedEnvironment,
  ProvisionCellInput,
  ProvisionCellResult,
  ServicePlan,
} from './types.js';

const records = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '10 seconds' },
});

/**
 * Host-bound activities (worktree, ports, environment, services, prompt) run on the task queue of
 * the cell's host; one host today, one worker per host later. Transient failures retry with
 * backoff; permanent ones are non-retryable ApplicationFailures and end the attempt at once.
 */
function hostActivities(taskQueue: string | undefined) {
  return proxyActivities<Activities>({
    taskQueue,
    startToCloseTimeout: '20 minutes',
    heartbeatTimeout: '20 seconds',
    // The promise settles only once the activity has really stopped, so a service spawned by a
    // cancelled attempt always has its compensation registered before rollback runs.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '15 seconds',
      maximumAttempts: 5,
    },
  });
}

async function transition(cellId: string, status: CellStatus): Promise<void> {
  await records.setCellStatus({ cellId, status });
  upsertSearchAttributes([{ key: CellStatusKey, value: status }]);
}

/**
 * Provisions one cell: validate → worktree → ports → environment → services → prompt → ready.
 * Each step registers its compensation; on failure they run in reverse and the cell is rolled back.
 */
export async function provisionCell(input: ProvisionCellInput): Promise<ProvisionCellResult> {
  const host = hostActivities(input.hostTaskQueue);
  const saga = new Saga();
  await transition(input.cellId, 'provisioning');
  try {
    const plan = await saga.step('validate', () => host.validateCell({ cellId: input.cellId }));
    await saga.step(
      'worktree',
      () => host.createWorktree.executeWithOptions(opts(`git worktree add ${plan.branch}`), [plan]),
      () => host.removeWorktree.executeWithOptions(opts(`remove worktree ${plan.branch}`), [plan]),
    );
    const ports = await saga.step(
      'ports',
      () => host.allocatePorts.executeWithOptions(opts(`allocate ports for ${serviceNames(plan)}`), [plan]),
      () => host.releasePorts(plan),
    );
    const env = await saga.step(
      'environment',
      () =>
        host.prepareEnvironment.executeWithOptions(
          opts(`write env, run ${plan.setup.length} setup commands`),
          [{ plan, ports }],
        ),
      () =>
        host.runTeardown.executeWithOptions(opts(`teardown (${plan.teardown.length} commands)`), [
          { plan, ports },
        ]),
    );
    await saga.step('services', () => startServices(host, saga, plan, env, ports));
    await saga.step('prompt', () => host.assemblePrompt({ plan, env, ports }));
    await transition(input.cellId, 'ready');
    return { cellId: input.cellId, status: 'ready' };
  } catch (error) {
    const failure = describeFailure(saga.current, error);
    await CancellationScope.nonCancellable(async () => {
      await records.setCellStatus({ cellId: input.cellId, status: 'rolling_back', failure });
      upsertSearchAttributes([{ key: CellStatusKey, value: 'rolling_back' }]);
      await saga.compensate();
      await transition(input.cellId, 'rolled_back');
    });
    throw ApplicationFailure.create({
      type: 'ProvisioningFailed',
      message: `${failure.step} failed (${failure.type}): ${failure.message}; rolled back`,
      nonRetryable: true,
      details: [failure],
    });
  }
}

type HostActivities = ReturnType<typeof hostActivities>;

/** Call-site options merge into the proxy's: only the one-line summary the Temporal UI shows. */
const opts = (summary: string) => ({ summary });

const serviceNames = (plan: CellPlan) => plan.services.map((s) => s.name).join(', ') || 'no services';

/**
 * Starts services in dependency order, independent ones in parallel: each waits for its
 * dependencies' conditions, starts, registers its stop, then waits until it is ready (or, when
 * others depend on it as `completed`, until it exits 0). On a failure the rest are cancelled and
 * allowed to settle, so every started service has its compensation before rollback begins.
 */
async function startServices(
  host: HostActivities,
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
