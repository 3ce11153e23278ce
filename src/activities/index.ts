import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PRUNE_LIMITS, type PruneLimits } from '../cache/dependencies.js';
import { DEFAULT_SETUP_TIMEOUT_MS, DEFAULT_STOP_GRACE_MS, type Workspace } from '../config/env.js';
import type { Db } from '../db/client.js';
import { createPoolsActivities } from '../pools/activities.js';
import type { ProxyAddress } from '../proxy/names.js';
import { createHostSupervisor, type HostSupervisor, type TellCell } from '../supervision/supervisor.js';
import type { ConfigLoader } from '../templates/loader.js';
import type { IdlePolicy } from '../templates/schema.js';
import { createEnvironmentActivities } from './environment.js';
import { createHostsActivities } from './hosts.js';
import { createNotifyActivities } from './notify.js';
import { createPortsActivities } from './ports.js';
import type { ExitRegistry } from './processes.js';
import { createPromptsActivities } from './prompts.js';
import { createRecordsActivities } from './records.js';
import { createServicesActivities } from './services/index.js';
import { DEFAULT_LOG_MAX_BYTES } from './services/logRotation.js';
import { createStepRecorder } from './steps.js';
import { createValidateActivities } from './validate.js';
import { createWorktreeActivities } from './worktree.js';

export interface ActivityDeps {
  db: Db;
  workspaces: Workspace[];
  configs: ConfigLoader;
  /** Name of this host: port allocations are unique per host. */
  host: string;
  /** Bound on each setup and teardown command (HIVE_SETUP_TIMEOUT_MS). */
  setupTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping a service (HIVE_STOP_GRACE_MS). */
  stopGraceMs?: number;
  /** First retry interval of a notification delivery (HIVE_NOTIFY_RETRY_MS); doubles on each retry. */
  notifyRetryMs?: number;
  /** A service log past this size is rotated to `<log>.1` (HIVE_LOG_MAX_MB). */
  logMaxBytes?: number;
  /** Hive's data dir: the workspaces' database servers keep their data under it. */
  dataDir?: string;
  /** How far each workspace's dependency cache is pruned (HIVE_DEPS_CACHE_MAX_MB, …_MAX_AGE_DAYS). */
  dependencyCache?: PruneLimits;
  /** After this long without a heartbeat a host takes no cells and is declared lost (HIVE_HOST_GRACE_MS). */
  hostGraceMs?: number;
  /** The idle policy of templates that have none (HIVE_IDLE_AFTER_MS, HIVE_IDLE_MODE); none: never. */
  idle?: IdlePolicy;
  /** The cells' proxy of this process (src/proxy): `<SVC>_PUBLIC_URL` in `.hive/env`; none without. */
  publicUrls?: ProxyAddress;
}

/** What one worker process keeps of the processes it runs: their exits, and its supervisor. */
export interface HostParts {
  exits: ExitRegistry;
  supervisor: HostSupervisor;
}

/**
 * This worker's host parts. `tell` signals a cell's workflow (the worker builds it on its Temporal
 * connection); without one, a report is only logged.
 */
export function createHostParts(deps: Pick<ActivityDeps, 'db' | 'logMaxBytes'>, tell?: TellCell): HostParts {
  const exits: ExitRegistry = new Map();
  const supervisor = createHostSupervisor({
    db: deps.db,
    exits,
    logMaxBytes: deps.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES,
    tell:
      tell ??
      (async (cellId, report) => console.warn(`supervision of ${cellId}: nobody to tell: ${report.detail}`)),
  });
  return { exits, supervisor };
}

/** All activities the worker registers, grouped by domain, built from their dependencies. */
export function createActivities(deps: ActivityDeps, host: HostParts = createHostParts(deps)) {
  const shared = {
    ...deps,
    ...host,
    steps: createStepRecorder(deps.db),
    setupTimeoutMs: deps.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS,
    stopGraceMs: deps.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
    dependencyCache: deps.dependencyCache ?? DEFAULT_PRUNE_LIMITS,
    dataDir: deps.dataDir ?? path.join(os.tmpdir(), 'hive-data'),
  };
  const prompts = createPromptsActivities(shared);
  const records = createRecordsActivities(shared);
  return {
    ...records,
    ...createHostsActivities(shared),
    ...createValidateActivities(shared),
    ...createWorktreeActivities(shared),
    ...createPortsActivities(shared),
    ...createEnvironmentActivities(shared),
    ...createServicesActivities(shared),
    ...prompts,
    ...createNotifyActivities(shared),
    ...createPoolsActivities({ ...shared, prompts }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
