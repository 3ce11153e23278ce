// What a cell is made of, as the workflow carries it in history and the activities act on it. Types
// only, derived from the zod schemas by type-only imports (erased at build time, so the
// deterministic workflow bundle can import this file without pulling zod in).

import type { DatabaseTarget } from '../databases/cellDatabases.js';
import type { EnvValue } from '../secrets/refs.js';
import type { OptionValues } from '../templates/model.js';
import type { DependencySpec, ReadinessProbe, ServiceSpec } from '../templates/schema.js';
import type { CellNotification, CellRequest, Failure } from './schema.js';
import type { NotifiedStatus } from './status.js';

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
    | 'settleMs'
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
  /** Dependency sets, copied from the workspace's cache (absent in plans made before they existed). */
  dependencies?: DependencySpec[];
  /** The cell's own PostgreSQL databases, cloned from their template databases. */
  databases?: DatabasePlan[];
  prompts: string[];
  includePatterns: string[];
  ignorePatterns: string[];
  /** Enabled services only. */
  services: ServicePlan[];
  /** The template's limits, enforced by the cell's cgroup (src/cgroups; absent in older plans). */
  resources?: { cpu?: number; memoryMb?: number };
  /** When the cell is suspended for being idle (the template's, else the host's; absent: never). */
  idle?: { afterMs: number; mode: 'freeze' | 'stop'; cpuPercent: number };
  /** Set when the cell is restored: the worktree comes back from what its archive kept. */
  restore?: RestorePoint;
}

/** One `type: 'postgres'` service: where the cell's database is, and what builds its template. */
export interface DatabasePlan extends DatabaseTarget {
  /** The workspace server's folder (data, log): see src/databases/server.ts. */
  serverRoot: string;
  seed: string[];
  inputs: string[];
}

/** Where a restored cell's worktree comes from (see ArchiveRecord). */
export interface RestorePoint {
  /** The saved commit (HEAD plus the saved files), or null when nothing needed saving. */
  commit: string | null;
  headCommit: string;
  detached: boolean;
  /** The branch HEAD was on, when not the cell's own: checked out again. */
  headBranch?: string | null;
  /** The commit of the staged index, when something was staged: read back into the index. */
  index?: string | null;
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
  /** Where each dependency set came from. */
  dependencies?: DependencyOutcome[];
  /** Each database of the cell and the template it was cloned from. */
  databases?: DatabaseOutcome[];
}

/** How one database of the cell was made. */
export interface DatabaseOutcome {
  name: string;
  database: string;
  template: string;
  /** `built`: this cell's seed made the template; `existing`: a clone of one made before. */
  source: 'built' | 'existing';
  ms: number;
}

/** How one dependency set reached the worktree. */
export interface DependencyOutcome {
  paths: string[];
  key: string;
  source: 'cache' | 'installed';
  ms: number;
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

/**
 * A service whose probe passed before its settle window ended (`settleMs` after it started): ready
 * once its process still runs at `settlesAt` (epoch ms), which `confirmSettled` makes sure of.
 */
export interface SettlingService {
  service: string;
  passedAt: number;
  settlesAt: number;
  /** What its probe saw when it passed, for the failure message if it exits before `settlesAt`. */
  observation: string;
}

/** Reported by supervision when a service needs attention. */
/** What the host's supervisor reports: a service exited or turned unhealthy, or the cell is idle. */
export interface ServiceEvent {
  /** The service; for `idle`, the cell's main service (the whole cell is meant). */
  service: string;
  kind: 'exited' | 'unhealthy' | 'idle';
  exitCode: number | null;
  detail: string;
}

export type OnFailure = CellRequest['onFailure'];

/**
 * Where a cell's events go, as its workflow knows it: a webhook (its URL and secret stay in the
 * database, read by the delivery activity by the cell's id) or a Temporal workflow to signal.
 */
export type NotifyRoute = { kind: 'webhook' } | { kind: 'workflow'; workflowId: string; signal: string };

/** One event to deliver: the child workflow's input. */
export interface NotificationRequest {
  /** Delivery id: the id of the child workflow, of its Notification row, and the receiver's dedupe key. */
  id: string;
  cellId: string;
  event: NotifiedStatus;
  /** The failure shown with the status (failed, rolled_back, cleanup_failed), as the workflow set it. */
  failure: Failure | null;
  route: NotifyRoute;
}

/** What recording a notification returns: the event as it will be delivered, and how to retry. */
export interface RecordedNotification {
  payload: CellNotification;
  /** Where it goes, for people (no credentials): the URL's origin, or workflow:<id>#<signal>. */
  target: string;
  /** First retry interval (HIVE_NOTIFY_RETRY_MS); doubles up to `maxIntervalMs`. */
  initialIntervalMs: number;
  maxIntervalMs: number;
  /** Retries stop after this long (24 h by default): the event is then marked failed. */
  windowMs: number;
}
