import {
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyLocalActivities,
  sleep,
} from '@temporalio/workflow';
import type { HostChange } from '../activities/hosts.js';
import type { Activities } from '../activities/index.js';
import { hostSignal } from './control.js';

export interface WatchHostsInput {
  /** Between two looks at the hosts' heartbeats. */
  everyMs: number;
  /** Hosts announced lost to their cells (carried across continue-as-new). */
  announced?: string[];
}

/** Looks per run before continuing as new: ~7 history events each. */
const LOOKS_PER_RUN = 200;

const { sweepHosts } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '10 seconds' },
});

/**
 * The host monitor, one per task queue (`hosts-<queue>`, started by every host's worker; the first
 * start wins): looks at the hosts' heartbeats, declares lost a host silent for the grace period and
 * tells each of its cells (signal `host`: lost), and tells them again when it is back. Other hosts'
 * cells are never touched. What it announced is its own state, so a look repeated after a crash
 * re-announces at most, which the cells ignore.
 */
export async function watchHosts(input: WatchHostsInput): Promise<void> {
  const announced = new Set(input.announced ?? []);
  for (let look = 0; look < LOOKS_PER_RUN; look++) {
    const { lost, back } = await sweepHosts.executeWithOptions({ summary: 'look at the hosts’ heartbeats' }, [
      { announced: [...announced] },
    ]);
    for (const change of lost) {
      log.warn('host lost', { host: change.host, since: change.since, cells: change.workflowIds.length });
      await tell(change, 'lost');
      announced.add(change.host);
    }
    for (const change of back) {
      log.info('host back', { host: change.host, cells: change.workflowIds.length });
      await tell(change, 'back');
      announced.delete(change.host);
    }
    await sleep(input.everyMs);
  }
  await continueAsNew<typeof watchHosts>({ ...input, announced: [...announced] });
}

/** Signals every cell of a host; a cell whose workflow has ended meanwhile is skipped. */
async function tell(change: HostChange, state: 'lost' | 'back') {
  await Promise.all(
    change.workflowIds.map((id) =>
      getExternalWorkflowHandle(id)
        .signal(hostSignal, { host: change.host, state, since: change.since })
        .catch((error: unknown) => log.info('cell not told (its workflow ended)', { id, error })),
    ),
  );
}
