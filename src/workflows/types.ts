// Shapes crossing the workflow boundary. Plain types only: this file is bundled into the sandbox.
import type { CellStatus } from '../cells/status.js';

export interface ProvisionCellInput {
  cellId: string;
  workspaceId: string;
  templateId: string;
  /** Task queue of the worker on the cell's host (worktree, ports, services run there). */
  hostTaskQueue?: string;
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
