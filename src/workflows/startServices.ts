import { CancellationScope, condition } from '@temporalio/workflow';
import { dependencyTarget, serviceStep } from '../cells/catalog.js';
import type { ReadyCell, ServicePlan, SettlingService } from '../cells/plan.js';
import type { CellActivities } from './activities.js';
import type { Saga } from './saga.js';

type Reached = 'started' | 'ready' | 'completed' | 'failed';

/** Whether a service has reached what a dependent asked of it (`started` is met by any later state). */
function satisfies(reached: Reached | undefined, wanted: 'started' | 'ready' | 'completed'): boolean {
  if (reached === undefined || reached === 'failed') return false;
  return wanted === 'started' || reached === wanted;
}

/**
 * Starts services in dependency order, independent ones in parallel: each waits (a workflow
 * condition over what the others reached) for its dependencies, starts, registers its stop, then
 * waits until it is ready (or, when others depend on it as `completed`, until it exits 0). On a
 * failure the rest are cancelled and allowed to settle, so every started service has its
 * compensation before rollback begins.
 *
 * With `deferSettle`, a service nothing depends on is ready here once its probe passed; the rest
 * of its settle window is returned, to be confirmed beside the next steps (`confirmSettled`). One
 * that others depend on settles here in full: they start only after it.
 */
export async function startServices(
  act: CellActivities,
  saga: Saga,
  cell: ReadyCell,
  deferSettle = false,
): Promise<SettlingService[]> {
  const { plan, ports } = cell;
  const reached = new Map<string, Reached>();
  const settling: SettlingService[] = [];
  const dependedOn = new Set(plan.services.flatMap((s) => Object.keys(s.dependsOn)));
  const oneShot = new Set(
    plan.services.flatMap((s) =>
      Object.entries(s.dependsOn)
        .filter(([, c]) => c === 'completed')
        .map(([d]) => d),
    ),
  );

  const runOne = async (service: ServicePlan) => {
    const deps = Object.entries(service.dependsOn);
    if (deps.length > 0) {
      const failed = () => deps.some(([d]) => reached.get(d) === 'failed');
      await condition(
        () => failed() || deps.every(([d, c]) => satisfies(reached.get(d), dependencyTarget[c])),
      );
      // A failed dependency reports itself; its dependents just never start.
      if (failed()) return;
    }
    const call = { ...cell, service };
    const port = ports.find((p) => p.service === service.name && p.name === service.primaryPort)?.port;
    try {
      saga.add(serviceStep(service.name), () => act.stopService(call));
      await act.startService(call, `start service ${service.name}${port ? ` on :${port}` : ''}`);
      reached.set(service.name, 'started');
      const wanted = oneShot.has(service.name) ? 'completed' : 'ready';
      const defer = deferSettle && wanted === 'ready' && !dependedOn.has(service.name);
      const { adopted, settling: rest } = await act.awaitService(call, wanted, defer);
      if (rest) settling.push(rest);
      // An `auto` port the service chose: part of the cell from now on, for its dependents (which
      // start after this), the prompt and supervision, as an allocated one would be.
      if (adopted) {
        const at = ports.findIndex((p) => p.service === service.name && p.name === adopted.port.name);
        if (at === -1) ports.push(adopted.port);
        else ports[at] = adopted.port;
        Object.assign(cell.env.env, adopted.env);
      }
      reached.set(service.name, wanted);
    } catch (error) {
      reached.set(service.name, 'failed');
      throw error;
    }
  };

  const scope = new CancellationScope();
  const runs = plan.services.map((s) => scope.run(() => runOne(s)));
  try {
    await Promise.all(runs);
    return settling;
  } catch (error) {
    scope.cancel();
    await Promise.allSettled(runs);
    throw error;
  }
}
