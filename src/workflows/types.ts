// Shapes crossing the workflow boundary. Plain types only: this file is bundled into the sandbox.
import type { CellStatus } from '../cells/status.js';

export interface ProvisionCellInput {
  cellId: string;
  workspaceId: string;
  templateId: string;
  /** Task queue of the worker on the cell's host (worktree, ports, services run there). */
  hostTaskQueue?: string;
  /** On a provisioning failure: keep the cell for inspection (default) or roll back at once. */
  onFailure?: 'preserve' | 'rollback';
  /** A preserved failed cell with no action for this long rolls back by itself. */
  preserveForMs?: number;
  /** After ready, continue as new past this many history events (default 2,000). */
  historyLimit?: number;
  /** Set when the workflow continues as new: what the previous run had already done. */
  resume?: CellState;
}

/** What a cell's workflow knows of its cell; carried across continue-as-new. */
export interface CellState {
  plan?: CellPlan;
  worktree?: boolean;
  ports?: AllocatedPort[];
  env?: PreparedEnvironment;
  servicesReady?: boolean;
  prompt?: boolean;
  /** Restarts so far, per service. */
  restarts: Record<string, number>;
  /** Services a person stopped: supervision leaves them alone. */
  stopped: string[];
}

export type ServiceAction = 'stop' | 'start' | 'restart';

/** Reported by the supervision activity when a service needs attention. */
export interface ServiceEvent {
  service: string;
  kind: 'exited' | 'unhealthy';
  exitCode: number | null;
  detail: string;
}

export type PortSpecPlan = 'any' | number | [number, number];

export interface ProbePlan {
  type: 'tcp' | 'http' | 'exec' | 'log';
  port?: string;
  path?: string;
  expectStatus?: number;
  command?: string;
  pattern?: string;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
}

export interface ServicePlan {
  name: string;
  run: string;
  setup: string[];
  cwd?: string;
  env: Record<string, string>;
  stop?: string;
  ports: Record<string, PortSpecPlan>;
  primaryPort?: string;
  readiness?: ProbePlan;
  readyTimeoutMs: number;
  dependsOn: Record<string, 'started' | 'healthy' | 'completed'>;
  restart: 'no' | 'on-failure' | 'always';
  maxRestarts: number;
  restartBackoffMs: number;
}

/** Everything provisioning needs, resolved once by the validate step and carried in history. */
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
  options: Record<string, string | number | boolean>;
  env: Record<string, string>;
  setup: string[];
  teardown: string[];
  prompts: string[];
  includePatterns: string[];
  ignorePatterns: string[];
  /** Enabled services only. */
  services: ServicePlan[];
}

export interface AllocatedPort {
  service: string;
  name: string;
  port: number;
}

export interface PreparedEnvironment {
  /** Cell-wide variables (HIVE_CELL_ID, <SERVICE>_PORT, <SERVICE>_URL, template env). */
  env: Record<string, string>;
  /** Per service: its own resolved env, run and setup commands. */
  services: Record<string, { env: Record<string, string>; run: string; setup: string[] }>;
  envFile: string;
  /** Last lines of the setup commands' output. */
  setupLogTail?: string;
}

export interface FailureInfo {
  step: string;
  type: string;
  message: string;
  hint?: string;
  logTail?: string;
}

export interface ProvisionCellResult {
  cellId: string;
  status: CellStatus;
  failure?: FailureInfo;
}
