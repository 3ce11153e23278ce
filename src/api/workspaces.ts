import type { Workspace } from '../config/env.js';
import type { LoadedConfig } from '../templates/loader.js';
import { type ValidationResult, validateTemplate } from '../templates/validate.js';
import type { ApiDeps } from './deps.js';
import { HttpProblem } from './problem.js';

/** The registered workspace with this id, or a problem naming the ones that exist. */
export function requireWorkspace(deps: ApiDeps, id: string, status: 404 | 422, pointer?: string): Workspace {
  const workspace = deps.workspaces.find((w) => w.id === id);
  if (workspace) return workspace;
  const known = deps.workspaces.map((w) => w.id);
  throw new HttpProblem(
    status,
    'unknown-workspace',
    'Unknown workspace',
    `No workspace "${id}" is registered. Use one of: ${known.length ? known.join(', ') : '(none: set HIVE_WORKSPACES)'}.`,
    pointer ? { errors: [{ pointer, detail: 'not a registered workspace' }] } : {},
  );
}

/** The workspace's templates, or a 422 carrying every problem of its config file. */
export function requireLoadedConfig(
  workspace: Workspace,
  loaded: LoadedConfig,
): Extract<LoadedConfig, { ok: true }> {
  if (loaded.ok) return loaded;
  throw new HttpProblem(
    422,
    'config-invalid',
    'Workspace config is invalid',
    `The config of workspace "${workspace.id}" (${loaded.file ?? workspace.path}) cannot be used: ${loaded.problems
      .map((p) => `${p.path}: ${p.message}`)
      .join('; ')}. See findings for how to fix each.`,
    {
      findings: loaded.problems.map((p) => ({
        severity: 'error' as const,
        path: p.path,
        message: p.message,
        hint: p.hint,
      })),
    },
  );
}

/** The dry run for a request naming a workspace, a template and options (validate and POST /cells). */
export async function dryRunRequest(
  deps: ApiDeps,
  request: { workspace: string; templateId: string; options?: Record<string, unknown>; baseRef?: string },
): Promise<ValidationResult & { workspace: Workspace }> {
  const workspace = requireWorkspace(deps, request.workspace, 422, '#/workspace');
  const result = await validateTemplate({
    workspace,
    loaded: await deps.configs.load(workspace.path),
    templateId: request.templateId,
    options: request.options,
    baseRef: request.baseRef,
  });
  return { ...result, workspace };
}
