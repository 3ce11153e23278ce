import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Finding, findingsFromProblems } from '../../templates/findings.js';
import type { ApiDeps } from '../deps.js';
import { scoped } from '../guards.js';

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
            200: z.object({
              workspaces: z.array(
                z.object({
                  id: z.string(),
                  path: z.string(),
                  configFile: z.string().optional(),
                  configLoads: z.boolean(),
                  templates: z.number().int(),
                  problems: z.array(Finding),
                }),
              ),
            }),
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
  };
}
