import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CacheEntry,
  dependencyCacheDir,
  listDependencyCache,
  removeCacheEntry,
} from '../../cache/dependencies.js';
import { Finding, findingsFromProblems } from '../../templates/findings.js';
import type { ApiDeps } from '../deps.js';
import { requireWorkspace, scoped } from '../guards.js';
import { HttpProblem, Problem } from '../problem.js';

/** One registered workspace, and whether its config loads. */
export const WorkspaceView = z.object({
  id: z.string(),
  path: z.string(),
  configFile: z.string().optional(),
  configLoads: z.boolean(),
  templates: z.number().int(),
  problems: z.array(Finding),
});

/** The workspaces resource: the registered repositories and whether their config loads. */
export function workspaceRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
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
      async (request) => ({
        workspaces: await Promise.all(
          scoped(deps, request.principal).workspaces.map(async (w) => {
            const loaded = await deps.configs.load(w.path);
            return {
              id: w.id,
              path: w.path,
              configFile: loaded.file,
              configLoads: loaded.ok,
              templates: loaded.ok ? loaded.templates.length : 0,
              problems: loaded.ok ? [] : findingsFromProblems(loaded.problems),
            };
          }),
        ),
      }),
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
