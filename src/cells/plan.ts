// What a cell is made of, as the workflow carries it in history and the activities act on it. Types
// only, derived from the zod schemas by type-only imports (erased at build time, so the
// deterministic workflow bundle can import this file without pulling zod in).

import type { EnvValue } from '../secrets/refs.js';
import type { OptionValues } from '../templates/model.js';
import type { ReadinessProbe, ServiceSpec } from '../templates/schema.js';
import type { CellRequest } from './schema.js';

export type { OptionValues };

/** One enabled service of a cell, with its defaults resolved by the validate step. */
export interface ServicePlan
  extends Pick<
    ServiceSpec,
    | 'run'
    | 'setup'
    | 'cwd'
    | 'env'
    | 'stop'
    | 'readiness'
    | 'dependsOn'
    | 'restart'
    | 'maxRestarts'
    | 'restartBackoffMs'
  > {
  name: string;
  /** Named ports: declared ones, or one free port named `primary`. */
  ports: NonNullable<ServiceSpec['ports']>;
  /** The port `$PORT` means. */
  primaryPort?: string;
  /** Upper bound on the readiness wait (the template's, or the default). */
  readyTimeoutMs: number;
}

export type ProbePlan = ReadinessProbe;
export type PortSpecPlan = ServicePlan['ports'][string];

/**
 * Everything provisioning needs, resolved once by the validate step and carried in history. The
 * direction of data is one way: activities read the request's facts from here, never again from
 * the database.
 */
export interface CellPlan {
  cellId: string;
  workspaceId: string;
  workspacePath: string;
  templateId: string;
  host: string;
  baseRef: string;
  baseCommit: string;
  branch: string;
  worktreePath: string;
  brief: string;
  constraints: string[];
  successCriteria: string[];
  options: OptionValues;
  /** Text values, or secret references (resolved only where a process starts). */
  env: Record<string, EnvValue>;
  setup: string[];
  teardown: string[];
  prompts: string[];
  includePatterns: string[];
  ignorePatterns: string[];
  /** Enabled services only. */
  services: ServicePlan[];
  /** Set when the cell is restored: the worktree comes back from what its archive kept. */
  restore?: RestorePoint;
}

/** Where a restored cell's worktree comes from (see ArchiveRecord). */
export interface RestorePoint {
  /** The saved commit (HEAD plus the saved files), or null when nothing needed saving. */
  commit: string | null;
  headCommit: string;
  detached: boolean;
}

export interface AllocatedPort {
  service: string;
  name: string;
  port: number;
}

/** The environment step's result: what every command and service of the cell runs with. */
export interface CellEnvironment {
  /** Cell-wide variables (HIVE_CELL_ID, <SERVICE>_PORT, <SERVICE>_URL, template env). */
  env: Record<string, string>;
  /**
   * Per service: only what differs from the cell-wide env (PORT, its own env), and its commands
   * with placeholders resolved. A service runs with `{ ...env, ...services[name].env }`.
   */
  services: Record<
    string,
    {
      env: Record<string, string>;
      /** The service's own secret variables, by reference (name → env:… or file:…). */
      secrets?: Record<string, string>;
      run: string;
      setup: string[];
      stop?: string;
    }
  >;
  /** Cell-wide secret variables, by reference: their values never enter history. */
  secrets?: Record<string, string>;
  /** The template's setup and teardown commands, placeholders resolved. */
  setup: string[];
  teardown: string[];
  envFile: string;
  /** Last lines of the setup commands' output. */
  setupLogTail?: string;
}

/** A provisioned cell: what the live phase (supervision, service commands, archive) works with. */
export interface ReadyCell {
  plan: CellPlan;
  ports: AllocatedPort[];
  env: CellEnvironment;
}

/** The argument of every per-service activity. */
export interface ServiceCall extends ReadyCell {
  service: ServicePlan;
}

/** Reported by supervision when a service needs attention. */
export interface ServiceEvent {
  service: string;
  kind: 'exited' | 'unhealthy';
  exitCode: number | null;
  detail: string;
}

export type OnFailure = CellRequest['onFailure'];
