import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../../auth/tokens.js';
import type { CellFeedEvent } from '../../cells/eventShapes.js';
import { nextEvent } from '../../cells/events.js';
import { restingStatuses } from '../../cells/status.js';
import type { Db } from '../../db/client.js';
import type { ApiDeps } from '../deps.js';
import { requireWorkspace, scoped, scopeFilter } from '../guards.js';
import { HttpProblem, Problem } from '../problem.js';

const POLL_MS = 300;
const BATCH = 500;

export { CellFeedEvent } from '../../cells/eventShapes.js';

interface FeedQuery {
  db: Db;
  principal: Principal;
  workspace?: string;
  after: number;
  follow: boolean;
  connected: () => boolean;
}

/**
 * Every recorded event (status, step, operation, plan, archive, action) of the cells a principal may
 * see, after `after`, as they are written. Without `follow` it ends once every such cell rests — the
 * same contract as a cell's own stream, for a script that waits for a batch to settle; with `follow`
 * it stays open (a dashboard's cell list).
 */
async function* cellFeed(q: FeedQuery) {
  const cells = { AND: [scopeFilter(q.principal), q.workspace ? { workspaceId: q.workspace } : {}] };
  let last = q.after;
  while (q.connected()) {
    const rows = await q.db.cellEvent.findMany({
      where: { id: { gt: last }, cell: cells },
      orderBy: { id: 'asc' },
      take: BATCH,
      include: { cell: { select: { workspaceId: true } } },
    });
    for (const row of rows) {
      last = row.id;
      const data: CellFeedEvent = {
        cellId: row.cellId,
        workspaceId: row.cell.workspaceId,
        data: JSON.parse(row.data),
      };
      yield { id: String(row.id), event: row.type, data };
    }
    if (rows.length === BATCH) continue;
    if (!q.follow) {
      const busy = await q.db.cell.count({
        where: { ...cells, status: { notIn: [...restingStatuses] } },
      });
      if (busy === 0) {
        yield { event: 'end', data: { busy: 0 } };
        return;
      }
    }
    await nextEvent(undefined, POLL_MS);
  }
}

/** The cross-cell event stream: what a live list of cells (the dashboard's) follows. */
export function eventRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/events',
      {
        config: { access: 'read' },
        sse: 'only',
        schema: {
          summary:
            'Server-Sent Events of every cell you may see: status, step, operation, plan, archive, action',
          description:
            'Each event is `{ cellId, workspaceId, data }`, named and shaped as in GET /cells/:id/events, with an id (resume with the Last-Event-ID header; without one the stream starts with the next event). Service log lines are not included (follow a cell for those). Without follow=true the stream ends with an `end` event once every such cell rests; with follow=true it stays open.',
          tags: ['cells'],
          querystring: z.object({
            workspace: z.string().optional().describe('Only the cells of this workspace'),
            follow: z
              .enum(['true', 'false'])
              .default('false')
              .describe('Keep the stream open after every cell rests'),
          }),
          response: { 400: Problem, 404: Problem, 406: Problem },
        },
      },
      async (request, reply) => {
        const { workspace, follow } = request.query;
        if (workspace !== undefined) requireWorkspace(scoped(deps, request.principal), workspace, 404);
        const lastId = reply.sse.lastEventId;
        let after: number;
        if (lastId === null || lastId === undefined || lastId === '') {
          const newest = await deps.db.cellEvent.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
          after = newest?.id ?? 0;
        } else if (/^\d{1,15}$/.test(lastId)) {
          after = Number(lastId);
        } else {
          throw new HttpProblem(
            400,
            'invalid-last-event-id',
            'Invalid Last-Event-ID',
            `Last-Event-ID "${lastId.slice(0, 40)}" is not an event id of this stream. Send the id of the last event received, or none to start with the next event.`,
          );
        }
        // Committed at once: a quiet feed still tells its client it is live, and heartbeats start.
        reply.sse.sendHeaders();
        await reply.sse.send(
          cellFeed({
            db: deps.db,
            principal: request.principal,
            workspace,
            after,
            follow: follow === 'true',
            connected: () => reply.sse.isConnected,
          }),
        );
      },
    );
  };
}
