import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';

/** The workflow's own default (src/workflows/provisionCell.ts) when the API was given none. */
const DEFAULT_PRESERVE_FAILED_MS = 24 * 60 * 60 * 1000;

export const About = z.object({
  temporal: z.object({
    namespace: z.string(),
    uiUrl: z
      .string()
      .nullable()
      .describe(
        "Base URL of the Temporal Web UI, when Hive knows it; a cell's workflow is at <uiUrl>/namespaces/<namespace>/workflows/<workflowId>",
      ),
  }),
  preserveFailedForMs: z
    .number()
    .int()
    .describe('How long a preserved failed cell waits for retry or cancel before it rolls back by itself'),
});

/** Facts about this server a client needs to explain a cell: where its workflow is shown, timers. */
export function aboutRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/about',
      {
        config: { access: 'read' },
        schema: {
          summary: 'This server: its Temporal namespace and Web UI, and how long failed cells are kept',
          tags: ['health'],
          response: { 200: About },
        },
      },
      async () => ({
        temporal: { namespace: deps.temporal.namespace, uiUrl: deps.temporalUiUrl ?? null },
        preserveFailedForMs: deps.preserveFailedForMs ?? DEFAULT_PRESERVE_FAILED_MS,
      }),
    );
  };
}
