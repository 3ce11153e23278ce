import { statSync } from 'node:fs';
import type { Db } from '../db/client.js';
import { isGitRepository, repositoryOf, type Workspace } from './env.js';

/**
 * The workspaces this process knows, live. Those of HIVE_WORKSPACES come from the environment and
 * are fixed for the process's life; the others are rows of the Workspace table (added with POST
 * /workspaces, or the repository `hive up` was started in), shared by every process of the control
 * plane. `list` is one array for the registry's whole life, changed in place, so everything handed
 * it at start (the API's deps, the worker's activities) sees a workspace added later without being
 * rebuilt.
 */
export interface WorkspaceRegistry {
  readonly list: Workspace[];
  /** Whether the workspace comes from HIVE_WORKSPACES (it cannot be removed while running). */
  configured(id: string): boolean;
  /** Stores a workspace and adds it to the list; the caller has validated it (see the API route). */
  add(workspace: Workspace): Promise<Workspace>;
  /** Forgets a stored workspace (the repository itself is not touched). */
  remove(id: string): Promise<void>;
  /** Reads the stored workspaces again: another process of the control plane may have changed them. */
  refresh(): Promise<void>;
  /** Called after every change made through this registry (a host re-announces its workspaces). */
  onChange(listener: () => Promise<void> | void): void;
}

/**
 * Opens the registry: the configured workspaces, then the stored ones. `remember` (the repository
 * `hive up` runs in, when HIVE_WORKSPACES is unset) is stored unless its path already is; its id is
 * the folder's name, or that name with a number when another repository holds it.
 */
export async function openWorkspaceRegistry(
  db: Db,
  configured: readonly Workspace[],
  options: {
    remember?: Workspace;
    /** An array to keep live instead of a new one (an API built with a plain `workspaces` list). */
    list?: Workspace[];
  } = {},
): Promise<WorkspaceRegistry> {
  const { remember } = options;
  const fixed = new Set(configured.map((w) => w.id));
  const list: Workspace[] = options.list ?? [];
  const listeners: Array<() => Promise<void> | void> = [];

  const refresh = async () => {
    const rows = await db.workspace.findMany({ orderBy: { createdAt: 'asc' } });
    const stored = rows
      .filter((row) => !fixed.has(row.id) && !configured.some((w) => w.path === row.path))
      .map((row) => ({ id: row.id, path: row.path }));
    list.splice(0, list.length, ...configured, ...stored);
  };
  const changed = async () => {
    await refresh();
    for (const listener of listeners) {
      // The change is stored: a listener that fails now (a heartbeat not recorded) catches up on
      // its next beat, which reads the stored workspaces again.
      await Promise.resolve()
        .then(listener)
        .catch(() => undefined);
    }
  };

  if (remember && isGitRepository(remember.path)) {
    const stored = await db.workspace.findUnique({ where: { path: remember.path } });
    if (!stored) {
      const taken = new Set([...fixed, ...(await db.workspace.findMany()).map((w) => w.id)]);
      let id = remember.id;
      for (let n = 2; taken.has(id); n++) id = `${remember.id.slice(0, 60)}-${n}`;
      // Two processes starting at once in one repository: the second finds the first's row.
      await db.workspace.create({ data: { id, path: remember.path } }).catch(async (error: unknown) => {
        if (!(await db.workspace.findUnique({ where: { path: remember.path } }))) throw error;
      });
    }
  }
  await refresh();

  return {
    list,
    configured: (id) => fixed.has(id),
    async add(workspace) {
      await db.workspace.create({ data: { id: workspace.id, path: workspace.path } });
      await changed();
      return workspace;
    },
    async remove(id) {
      await db.workspace.deleteMany({ where: { id } });
      await changed();
    },
    refresh,
    onChange(listener) {
      listeners.push(listener);
    },
  };
}

/** What is wrong with registering this workspace: the field, what, and how to fix it. */
export interface WorkspaceIssue {
  field: 'id' | 'path';
  /** 409: it collides with a registered workspace; 400: it is not a usable repository. */
  status: 400 | 409;
  detail: string;
}

/** Checks a workspace to add against the file system and the registered ones (id and path are validated shapes). */
export function checkNewWorkspace(
  registered: readonly Workspace[],
  workspace: Workspace,
): WorkspaceIssue | undefined {
  const sameId = registered.find((w) => w.id === workspace.id);
  if (sameId) {
    return {
      field: 'id',
      status: 409,
      detail: `workspace "${workspace.id}" is already registered (at ${sameId.path}); choose another id, or remove it first (hive workspaces remove ${workspace.id})`,
    };
  }
  const samePath = registered.find((w) => w.path === workspace.path);
  if (samePath) {
    return {
      field: 'path',
      status: 409,
      detail: `${workspace.path} is already registered as workspace "${samePath.id}"; use that id`,
    };
  }
  const stat = statOf(workspace.path);
  if (!stat?.isDirectory()) {
    return {
      field: 'path',
      status: 400,
      detail: `${workspace.path} is not a directory on the API's machine`,
    };
  }
  if (!isGitRepository(workspace.path)) {
    const top = repositoryOf(workspace.path);
    return {
      field: 'path',
      status: 400,
      detail: top
        ? `${workspace.path} is inside the git repository ${top}: give its top folder`
        : `${workspace.path} is not a git repository: run git init there (and commit), or give a repository's folder`,
    };
  }
  return undefined;
}

function statOf(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
