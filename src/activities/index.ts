import type { Workspace } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { ConfigLoader } from '../templates/loader.js';
import { createEnvironmentActivities } from './environment.js';
import { createPortsActivities } from './ports.js';
import { createPromptsActivities } from './prompts.js';
import { createRecordsActivities } from './records.js';
import { createServicesActivities } from './services.js';
import { createValidateActivities } from './validate.js';
import { createWorktreeActivities } from './worktree.js';

export interface ActivityDeps {
  db: Db;
  workspaces: Workspace[];
  configs: ConfigLoader;
  /** Name of this host: port allocations are unique per host. */
  host: string;
  setupTimeoutMs?: number;
  stopGraceMs?: number;
}

/** All activities the worker registers, grouped by domain, built from their dependencies. */
export function createActivities(deps: ActivityDeps) {
  const setupTimeoutMs = deps.setupTimeoutMs ?? 10 * 60_000;
  const stopGraceMs = deps.stopGraceMs ?? 5_000;
  return {
    ...createRecordsActivities(deps),
    ...createValidateActivities(deps),
    ...createWorktreeActivities(deps),
    ...createPortsActivities(deps),
    ...createEnvironmentActivities({ db: deps.db, setupTimeoutMs }),
    ...createServicesActivities({ db: deps.db, setupTimeoutMs, stopGraceMs }),
    ...createPromptsActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
