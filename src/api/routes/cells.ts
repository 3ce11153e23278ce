import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CellAccepted, CellIdParams, CellRecord, CellRequest, CellStatus } from '../../cells/schema.js';
import { startCell } from '../../cells/start.js';
import type { Cell } from '../../db/client.js';
import type { ApiDeps } from '../deps.js';
import { HttpProblem, Problem } from '../problem.js';

function toRecord(cell: Cell): CellRecord {
  return {
    ...cell,
    status: CellStatus.parse(cell.status),
    createdAt: cell.createdAt.toISOString(),
    updatedAt: cell.updatedAt.toISOString(),
  };
}

export function cellRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/cells',
      {
        schema: {
          summary: 'Request a cell: starts its provisioning workflow',
          tags: ['cells'],
          body: CellRequest,
          response: { 202: CellAccepted, 400: Problem, 413: Problem, 415: Problem, 422: Problem },
        },
      },
      async (request, reply) => {
        const workspace = deps.workspaces.find((w) => w.id === request.body.workspace);
        if (!workspace) {
          const known = deps.workspaces.map((w) => w.id);
          throw new HttpProblem(
            422,
            'unknown-workspace',
            'Unknown workspace',
            `No workspace "${request.body.workspace}" is registered. Use one of: ${
              known.length ? known.join(', ') : '(none: set HIVE_WORKSPACES)'
            }.`,
            { errors: [{ pointer: '#/workspace', detail: 'not a registered workspace' }] },
          );
        }
        const cell = await startCell(
          { db: deps.db, client: deps.temporal.client, taskQueue: deps.temporal.taskQueue },
          workspace,
          request.body,
        );
        return reply
          .code(202)
          .header('location', `/cells/${cell.id}`)
          .send({ id: cell.id, status: 'pending', workflowId: cell.workflowId });
      },
    );

    app.get(
      '/cells/:id',
      {
        schema: {
          summary: 'One cell',
          tags: ['cells'],
          params: CellIdParams,
          response: { 200: CellRecord, 400: Problem, 404: Problem },
        },
      },
      async (request) => {
        const cell = await deps.db.cell.findUnique({ where: { id: request.params.id } });
        if (!cell) {
          throw new HttpProblem(
            404,
            'cell-not-found',
            'Cell not found',
            `No cell has id "${request.params.id}". GET /cells lists existing cells.`,
          );
        }
        return toRecord(cell);
      },
    );

    app.get(
      '/cells',
      {
        schema: {
          summary: 'Cells, newest first',
          tags: ['cells'],
          querystring: z.object({
            workspace: z.string().optional(),
            status: CellStatus.optional(),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          }),
          response: { 200: z.object({ cells: z.array(CellRecord) }), 400: Problem },
        },
      },
      async (request) => {
        const { workspace, status, limit } = request.query;
        const cells = await deps.db.cell.findMany({
          where: { workspaceId: workspace, status },
          orderBy: { createdAt: 'desc' },
          take: limit,
        });
        return { cells: cells.map(toRecord) };
      },
    );
  };
}
