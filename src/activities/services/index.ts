import type { Db } from '../../db/client.js';
import type { HostSupervisor } from '../../supervision/supervisor.js';
import type { ExitRegistry } from '../processes.js';
import type { StepRecorder } from '../steps.js';
import { createServiceControl } from './control.js';
import { createReadiness } from './readiness.js';
import { createSupervision } from './supervision.js';
import { createSuspension } from './suspension.js';

export interface ServicesDeps {
  db: Db;
  steps: StepRecorder;
  exits: ExitRegistry;
  stopGraceMs: number;
  setupTimeoutMs: number;
  /** A service log past this size is rotated (HIVE_LOG_MAX_MB). */
  logMaxBytes?: number;
  /** This worker's supervisor of the cells placed on its host. */
  supervisor: HostSupervisor;
}

/** The services step and the live phase: process control, readiness, supervision. */
export function createServicesActivities(deps: ServicesDeps) {
  return {
    ...createServiceControl(deps),
    ...createReadiness(deps),
    ...createSupervision(deps),
    ...createSuspension(deps),
  };
}
