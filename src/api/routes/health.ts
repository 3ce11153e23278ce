import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pingDb } from '../../db/client.js';
import type { ApiDeps } from '../deps.js';
import { diskCheck } from '../disk.js';

const Check = z.object({ ok: z.boolean(), detail: z.string().optional() });
const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.object({
    temporal: Check,
    database: Check,
    disk: Check.optional().describe("Free space in Hive's data directory (not ok below 32 MiB)"),
  }),
});

/** A health probe must answer quickly even when a dependency hangs or keeps retrying. */
export const HEALTH_PROBE_TIMEOUT_MS = 2_000;

async function check(probe: () => Promise<unknown>): Promise<z.infer<typeof Check>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${HEALTH_PROBE_TIMEOUT_MS} ms`)),
      HEALTH_PROBE_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([probe(), timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/healthz',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Reachability of Temporal and the database, and free space in the data directory',
          tags: ['health'],
          response: { 200: Health, 503: Health },
        },
      },
      async (_request, reply) => {
        const [temporal, database] = await Promise.all([
          check(() =>
            deps.temporal.client.connection.withDeadline(Date.now() + HEALTH_PROBE_TIMEOUT_MS, () =>
              deps.temporal.client.workflowService.describeNamespace({
                namespace: deps.temporal.namespace,
              }),
            ),
          ),
          check(() => pingDb(deps.db)),
        ]);
        const disk = deps.dataDir ? await diskCheck(deps.dataDir) : undefined;
        const ok = temporal.ok && database.ok && (disk?.ok ?? true);
        return reply.code(ok ? 200 : 503).send({
          status: ok ? 'ok' : 'degraded',
          checks: { temporal, database, ...(disk ? { disk } : {}) },
        });
      },
    );
  };
}
