import { DEFAULT_SETUP_TIMEOUT_MS, DEFAULT_STOP_GRACE_MS, type Workspace } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { ConfigLoader } from '../templates/loader.js';
import { createEnvironmentActivities } from './environment.js';
import { createPortsActivities } from './ports.js';
import type { ExitRegistry } from './processes.js';
import { createPromptsActivities } from './prompts.js';
import { createRecordsActivities } from './records.js';
import { createServicesActivities } from './services/index.js';
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
}

/** All activities the worker registers, grouped by domain, built from their dependencies. */
export function createActivities(deps: ActivityDeps) {
  const shared = {
    ...deps,
    steps: createStepRecorder(deps.db),
    exits: new Map() as ExitRegistry,
    setupTimeoutMs: deps.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS,
    stopGraceMs: deps.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
  };
  return {
    ...createRecordsActivities(shared),
    ...createValidateActivities(shared),
    ...createWorktreeActivities(shared),
    ...createPortsActivities(shared),
    ...createEnvironmentActivities(shared),
    ...createServicesActivities(shared),
    ...createPromptsActivities(shared),
  };
}

export type Activities = ReturnType<typeof createActivities>;
