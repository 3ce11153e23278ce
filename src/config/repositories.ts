import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';

// Workspaces as the environment names them: git repositories, the ids they get, and the
// HIVE_WORKSPACES list (id=path pairs).

/** A registered workspace: a git repository this service may provision cells in. */
export interface Workspace {
  id: string;
  path: string;
}

export const WORKSPACE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

/** A git repository's top folder: `.git` is there (a folder, or a file in a linked worktree). */
export function isGitRepository(dir: string): boolean {
  return existsSync(path.join(dir, '.git'));
}

/** The id a repository gets by default: its folder's name, made a valid id. */
export function defaultWorkspaceId(dir: string): string {
  const id = path
    .basename(dir)
    .replace(/[^a-z0-9_-]/gi, '-')
    .replace(/^[^a-z0-9]+/i, '')
    .slice(0, 63);
  return WORKSPACE_ID.test(id) ? id : 'workspace';
}

/** The top folder of the git repository `dir` is in, if it is in one. */
export function repositoryOf(dir: string): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (isGitRepository(at)) return at;
    if (at === path.dirname(at)) return undefined;
  }
}

/** Parses `id=path,id2=path2`; relative paths resolve against the working directory. */
export function parseWorkspaces(raw: string, ctx: z.RefinementCtx, cwd: string): Workspace[] {
  const workspaces: Workspace[] = [];
  for (const pair of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    const id = eq > 0 ? pair.slice(0, eq).trim() : '';
    const dir = eq > 0 ? path.resolve(cwd, pair.slice(eq + 1).trim()) : '';
    if (!WORKSPACE_ID.test(id)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${pair}" is not id=path with an id of letters, digits, - or _`,
      });
    } else if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      ctx.addIssue({ code: 'custom', message: `workspace "${id}": ${dir} is not a directory` });
    } else if (!isGitRepository(dir)) {
      ctx.addIssue({
        code: 'custom',
        message: `workspace "${id}": ${dir} is not a git repository (run git init there)`,
      });
    } else if (workspaces.some((w) => w.id === id)) {
      ctx.addIssue({ code: 'custom', message: `workspace id "${id}" is listed twice` });
    } else {
      workspaces.push({ id, path: dir });
    }
  }
  return workspaces;
}
