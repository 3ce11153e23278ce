import { inScope, type Principal } from '../auth/tokens.js';
import { CellStatus } from '../cells/schema.js';
import { allowedActions, type CellAction } from '../cells/status.js';
import type { Workspace } from '../config/env.js';
import { table } from '../db/rawSql.js';
import { findingsFromProblems } from '../templates/findings.js';
import type { LoadedConfig } from '../templates/loader.js';
import type { ApiDeps } from './deps.js';
import { cellNotFound, HttpProblem } from './problem.js';

// What a request must find before it acts — else the problem that says what is missing and how to
// go on.

/**
 * The API as this principal may see it: only the workspaces in its scope exist. Every lookup by
 * workspace (requireWorkspace, unknownWorkspace, the dry run, createCell) then answers for the
 * others exactly as for a workspace that is not registered.
 */
export function scoped(deps: ApiDeps, principal: Principal): ApiDeps {
  if (principal.workspaces === null) return deps;
  return { ...deps, workspaces: deps.workspaces.filter((w) => inScope(principal, w.id)) };
}

/** The principal's workspaces as a Prisma filter on a workspaceId column ({} = every workspace). */
export function scopeFilter(principal: Principal): { workspaceId?: { in: string[] } } {
  return principal.workspaces === null ? {} : { workspaceId: { in: [...principal.workspaces] } };
}

/**
 * The cell, if it exists and is in the principal's scope; else the one not-found answer. Raw SQL
 * (src/db/rawSql.ts): every request about a cell asks this first.
 */
export async function requireVisibleCell(deps: ApiDeps, id: string, principal: Principal) {
  const [cell] = await deps.db.$queryRaw<{ id: string; workspaceId: string; templateId: string }[]>`
    SELECT "id", "workspaceId", "templateId" FROM ${table(deps.db, 'Cell')} WHERE "id" = ${id}`;
  if (!cell || !inScope(principal, cell.workspaceId)) throw cellNotFound(id);
  return cell;
}

/** The registered workspace with this id, or a problem naming the ones that exist. */
export function requireWorkspace(deps: ApiDeps, id: string, status: 404 | 422, pointer?: string): Workspace {
  const workspace = deps.workspaces.find((w) => w.id === id);
  if (workspace) return workspace;
  throw unknownWorkspace(deps, id, status, pointer);
}

export function unknownWorkspace(deps: ApiDeps, id: string, status: 404 | 422, pointer?: string) {
  const known = deps.workspaces.map((w) => w.id);
  return new HttpProblem(
    status,
    'unknown-workspace',
    'Unknown workspace',
    `No workspace "${id}" is registered. Use one of: ${known.length ? known.join(', ') : '(none: hive workspaces add <id> <path>, or POST /workspaces)'}.`,
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
    { findings: findingsFromProblems(loaded.problems) },
  );
}

const verbs: Record<CellAction, string> = {
  cancel: 'cancelled',
  retry: 'retried',
  archive: 'archived',
  service: 'given service commands',
  cleanup: 'cleaned up',
  restore: 'restored',
  resume: 'resumed',
};

/**
 * The cell, if the principal may see it and its state allows `action`; else 404 (also for a cell
 * outside the principal's scope), or 409 naming the state and what it allows.
 */
export async function requireActionable(deps: ApiDeps, id: string, action: CellAction, principal: Principal) {
  const cell = await deps.db.cell.findUnique({ where: { id }, include: { services: true } });
  if (!cell || !inScope(principal, cell.workspaceId)) throw cellNotFound(id);
  const status = CellStatus.parse(cell.status);
  const allowed = allowedActions[status];
  if (!allowed.includes(action)) {
    throw new HttpProblem(
      409,
      'invalid-state',
      'Not possible in this state',
      `Cell ${id} is ${status} and cannot be ${verbs[action]}. ${
        allowed.length
          ? `In this state it allows: ${allowed.join(', ')}.`
          : 'It allows no action in this state.'
      }`,
      { currentState: status, allowedActions: allowed },
    );
  }
  return { ...cell, status };
}
