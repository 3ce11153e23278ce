import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CellAccepted,
  CellDetail,
  CellIdParams,
  CellRecord,
  CellRequest,
  CellStatus,
} from '../../cells/schema.js';
import { startCell } from '../../cells/start.js';
import { cellDetail, toRecord } from '../../cells/views.js';
import type { ApiDeps } from '../deps.js';
import { HttpProblem, Problem } from '../problem.js';
import { dryRunRequest } from '../workspaces.js';

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
        // The same dry run as POST /templates/:id/validate: refuse before anything is created.
        const validation = await dryRunRequest(deps, { ...request.body, templateId: request.body.template });
        const { workspace } = validation;
        if (!validation.ok || !validation.options) {
          const errors = validation.findings.filter((f) => f.severity === 'error');
          throw new HttpProblem(
            422,
            'template-validation-failed',
            'The template cannot be provisioned as requested',
            `${errors.map((f) => `${f.path}: ${f.message}`).join('; ')}. See findings for how to fix each.`,
            { findings: validation.findings },
          );
        }
        const cell = await startCell(
          {
            db: deps.db,
            client: deps.temporal.client,
            taskQueue: deps.temporal.taskQueue,
            preserveFailedForMs: deps.preserveFailedForMs,
          },
          workspace,
          { ...request.body, options: validation.options },
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
          response: { 200: CellDetail, 400: Problem, 404: Problem },
        },
      },
      async (request) => {
        const cell = await cellDetail(deps.db, request.params.id);
        if (!cell) {
          throw new HttpProblem(
            404,
            'cell-not-found',
            'Cell not found',
            `No cell has id "${request.params.id}". GET /cells lists existing cells.`,
          );
        }
        return cell;
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
