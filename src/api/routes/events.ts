import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { cellEventStream } from '../../cells/eventStream.js';
import { CellIdParams } from '../../cells/schema.js';
import type { ApiDeps } from '../deps.js';
import { HttpProblem, Problem } from '../problem.js';

export function eventRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/cells/:id/events',
      {
        sse: 'only',
        schema: {
          summary:
            'Server-Sent Events: status, step and operation events, and service log lines, as they happen',
          description:
            'Events `status`, `step`, `operation` carry ids (resume with the Last-Event-ID header); `log` lines are live only. The stream ends with an `end` event when the cell rests (ready, degraded, failed, rolled back, cancelled, archived).',
          tags: ['cells'],
          params: CellIdParams,
          response: { 404: Problem, 406: Problem },
        },
      },
      async (request, reply) => {
        const exists = await deps.db.cell.findUnique({
          where: { id: request.params.id },
          select: { id: true },
        });
        if (!exists) {
          throw new HttpProblem(
            404,
            'cell-not-found',
            'Cell not found',
            `No cell has id "${request.params.id}".`,
          );
        }
        const after = Number.parseInt(reply.sse.lastEventId ?? '0', 10);
        await reply.sse.send(
          cellEventStream(
            deps.db,
            exists.id,
            Number.isFinite(after) ? after : 0,
            () => reply.sse.isConnected,
          ),
        );
      },
    );
  };
}
