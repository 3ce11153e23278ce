import type { Workspace } from '../config/env.js';
import type { ConfigLoader } from './loader.js';
import { type ValidationResult, validateTemplate } from './validate.js';

export interface DryRunDeps {
  workspaces: Workspace[];
  configs: ConfigLoader;
}

export interface DryRunRequest {
  workspace: string;
  templateId: string;
  options?: Record<string, unknown>;
  baseRef?: string;
}

export type DryRun = (ValidationResult & { workspace: Workspace }) | { unknownWorkspace: string };

/** The dry run for a request naming a workspace by id (POST /templates/:id/validate, POST /cells). */
export async function dryRun(deps: DryRunDeps, request: DryRunRequest): Promise<DryRun> {
  const workspace = deps.workspaces.find((w) => w.id === request.workspace);
  if (!workspace) return { unknownWorkspace: request.workspace };
  const result = await validateTemplate({
    workspace,
    loaded: await deps.configs.load(workspace.path),
    templateId: request.templateId,
    options: request.options,
    baseRef: request.baseRef,
  });
  return { ...result, workspace };
}
