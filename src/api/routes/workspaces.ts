import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CacheEntry,
  dependencyCacheDir,
  listDependencyCache,
  removeCacheEntry,
} from '../../cache/dependencies.js';
import { finalStatuses } from '../../cells/status.js';
import { WORKSPACE_ID, type Workspace } from '../../config/env.js';
import {
  checkNewWorkspace,
  openWorkspaceRegistry,
  type WorkspaceIssue,
  type WorkspaceRegistry,
} from '../../config/workspaces.js';
import { Finding, findingsFromProblems } from '../../templates/findings.js';
import type { ApiDeps } from '../deps.js';
import { requireWorkspace, scoped } from '../guards.js';
import { HttpProblem, Problem } from '../problem.js';

/** The body of POST /workspaces. */
export const NewWorkspace = z.object({
  id: z
    .string()
    .regex(WORKSPACE_ID, 'an id of 1-63 letters, digits, "-" or "_", starting with a letter or digit')
    .describe('The id cells and templates name it by'),
  path: z
    .string()
    .min(1)
    .refine((p) => path.isAbsolute(p), 'an absolute path, e.g. /home/me/src/app')
    .transform((p) => path.resolve(p))
    .describe("Absolute path of the git repository's top folder, on the API's machine"),
});

/** One registered workspace, and whether its config loads. */
export const WorkspaceView = z.object({
  id: z.string(),
  path: z.string(),
  configFile: z.string().optional(),
  configLoads: z.boolean(),
  templates: z.number().int(),
  problems: z.array(Finding),
});

/** The problem for a workspace that may not be added, naming the field and the fix. */
function refuseIssue(issue: WorkspaceIssue | undefined): void {
  if (!issue) return;
  throw new HttpProblem(
    issue.status,
    issue.status === 409 ? 'workspace-conflict' : 'invalid-workspace',
    issue.status === 409 ? 'Workspace already registered' : 'Not a usable workspace',
    `${issue.field}: ${issue.detail}.`,
    { errors: [{ pointer: `#/${issue.field}`, detail: issue.detail }] },
  );
}

/** A workspace as GET /workspaces shows it. */
async function viewOf(deps: ApiDeps, w: Workspace): Promise<z.infer<typeof WorkspaceView>> {
  const loaded = await deps.configs.load(w.path);
  return {
    id: w.id,
    path: w.path,
    configFile: loaded.file,
    configLoads: loaded.ok,
    templates: loaded.ok ? loaded.templates.length : 0,
    problems: loaded.ok ? [] : findingsFromProblems(loaded.problems),
  };
}

/**
 * The workspaces resource: the registered repositories and whether their config loads; adding and
 * removing them while Hive runs.
 */
export function workspaceRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  // An API built with a plain list (tests, embedders) keeps that very array live.
  let opened: Promise<WorkspaceRegistry> | undefined;
  const registry = () => {
    if (deps.workspaceRegistry) return Promise.resolve(deps.workspaceRegistry);
    opened ??= openWorkspaceRegistry(deps.db, [...deps.workspaces], { list: deps.workspaces });
    return opened;
  };
  return async (app) => {
    app.get(
      '/workspaces',
      {
        config: { access: 'read' },
        schema: {
          summary: 'Registered workspaces and whether their config loads',
          tags: ['templates'],
          response: {
            200: z.object({ workspaces: z.array(WorkspaceView) }),
          },
        },
      },
      async (request) => {
        // Another process of the control plane (hive api beside this one) may have added some.
        await (await registry()).refresh();
        return {
          workspaces: await Promise.all(
            scoped(deps, request.principal).workspaces.map((w) => viewOf(deps, w)),
          ),
        };
      },
    );

    app.post(
      '/workspaces',
      {
        config: { access: 'admin' },
        schema: {
          summary: 'Register a git repository as a workspace, while Hive runs',
          description:
            "Stored in Hive's database: it survives a restart and every host whose machine has a git repository at that path takes its cells. Its templates are read from its hive.config at once (GET /templates?workspace=<id>).",
          tags: ['templates'],
          body: NewWorkspace,
          response: { 201: WorkspaceView, 400: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        if (request.principal.workspaces !== null) {
          throw new HttpProblem(
            403,
            'forbidden',
            'Forbidden',
            `Token "${request.principal.name}" is limited to some workspaces and cannot register new ones. Use an admin token for every workspace (hive tokens create --role admin).`,
          );
        }
        const live = await registry();
        await live.refresh();
        refuseIssue(checkNewWorkspace(live.list, request.body));
        const added = await live.add(request.body).catch(async (error: unknown) => {
          // Two requests at once for one id or path: the loser's insert breaks the unique key.
          await live.refresh();
          refuseIssue(checkNewWorkspace(live.list, request.body));
          throw error;
        });
        return reply.code(201).send(await viewOf(deps, added));
      },
    );

    app.delete(
      '/workspaces/:id',
      {
        config: { access: 'admin' },
        schema: {
          summary: 'Unregister a workspace (refused while it has cells that are not ended)',
          description:
            'The repository, its worktrees and its dependency cache are left as they are. A workspace from HIVE_WORKSPACES is part of the configuration and cannot be removed while running.',
          tags: ['templates'],
          params: z.object({ id: z.string().max(100) }),
          response: { 204: z.null(), 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        const live = await registry();
        await live.refresh();
        const workspace = requireWorkspace(scoped(deps, request.principal), request.params.id, 404);
        if (live.configured(workspace.id)) {
          throw new HttpProblem(
            409,
            'workspace-configured',
            'Workspace is configured',
            `Workspace "${workspace.id}" comes from HIVE_WORKSPACES: remove it there and restart Hive.`,
          );
        }
        const cells = await deps.db.cell.findMany({
          where: { workspaceId: workspace.id, status: { notIn: [...finalStatuses] } },
          select: { id: true, status: true },
          orderBy: { createdAt: 'asc' },
        });
        if (cells.length > 0) {
          // Never lose work: a live cell's worktree and services belong to this workspace.
          const named = cells.map((c) => `${c.id} (${c.status})`).join(', ');
          throw new HttpProblem(
            409,
            'workspace-in-use',
            'Workspace has live cells',
            `Workspace "${workspace.id}" still has ${cells.length} cell(s) that are not ended: ${named}. Archive or cancel them first (hive cells archive <id>, hive cells cancel <id>), then remove the workspace.`,
          );
        }
        await live.remove(workspace.id);
        return reply.code(204).send(null);
      },
    );

    const WorkspaceParams = z.object({ id: z.string().max(100) });
    app.get(
      '/workspaces/:id/caches',
      {
        config: { access: 'read' },
        schema: {
          summary: "The workspace's dependency cache: one entry per key, most recently used first",
          description:
            "A template's `dependencies` are installed once per key (a hash of the install command, paths, key files and platform) and copied into every later cell. Entries unused for HIVE_DEPS_CACHE_MAX_AGE_DAYS, or beyond HIVE_DEPS_CACHE_MAX_MB (least recently used first), are pruned when an entry is added.",
          tags: ['templates'],
          params: WorkspaceParams,
          response: {
            200: z.object({ path: z.string(), dependencies: z.array(CacheEntry) }),
            400: Problem,
            404: Problem,
          },
        },
      },
      async (request) => {
        const workspace = requireWorkspace(scoped(deps, request.principal), request.params.id, 404);
        return {
          path: dependencyCacheDir(workspace.path),
          dependencies: await listDependencyCache(workspace.path),
        };
      },
    );

    app.delete(
      '/workspaces/:id/caches/dependencies/:key',
      {
        config: { access: 'admin' },
        schema: {
          summary: 'Drop one dependency cache entry (the next cell with its key installs again)',
          tags: ['templates'],
          params: WorkspaceParams.extend({ key: z.string().regex(/^[0-9a-f]{24}$/, 'a cache key') }),
          response: { 204: z.null(), 400: Problem, 404: Problem },
        },
      },
      async (request, reply) => {
        const workspace = requireWorkspace(scoped(deps, request.principal), request.params.id, 404);
        if (!(await removeCacheEntry(workspace.path, request.params.key))) {
          throw new HttpProblem(
            404,
            'cache-entry-not-found',
            'No such cache entry',
            `Workspace ${workspace.id} has no dependency cache entry ${request.params.key}. GET /workspaces/${workspace.id}/caches lists them.`,
          );
        }
        return reply.code(204).send(null);
      },
    );
  };
}
