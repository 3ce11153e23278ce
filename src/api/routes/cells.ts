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
import { isUniqueViolation } from '../../db/client.js';
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
          headers: z.object({
            'idempotency-key': z
              .string()
              .regex(/^[\x21-\x7e]{1,200}$/, '1-200 visible ASCII characters')
              .optional()
              .describe('The same key returns the same cell and starts no second workflow'),
          }),
          response: { 202: CellAccepted, 400: Problem, 413: Problem, 415: Problem, 422: Problem },
        },
      },
      async (request, reply) => {
        const key = request.headers['idempotency-key'];
        const accepted = (cell: { id: string; status: string; workflowId: string }) =>
          reply
            .code(202)
            .header('location', `/cells/${cell.id}`)
            .send({ id: cell.id, status: CellStatus.parse(cell.status), workflowId: cell.workflowId });
        const existing = key ? await deps.db.cell.findUnique({ where: { idempotencyKey: key } }) : null;
        if (existing) return accepted(existing);
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
        try {
          const cell = await startCell(
            {
              db: deps.db,
              client: deps.temporal.client,
              taskQueue: deps.temporal.taskQueue,
              preserveFailedForMs: deps.preserveFailedForMs,
              historyLimit: deps.workflowHistoryLimit,
            },
            workspace,
            { ...request.body, options: validation.options },
            key,
          );
          return accepted(cell);
        } catch (error) {
          // Two requests with one key raced past the lookup: the unique key let one row in (and only
          // its request started a workflow); the other answers with that cell.
          const winner =
            key && isUniqueViolation(error)
              ? await deps.db.cell.findUnique({ where: { idempotencyKey: key } })
              : null;
          if (winner) return accepted(winner);
          throw error;
        }
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
        const cell = await cellDetail(deps.db, request.params.id, async (workspaceId, templateId) => {
          const workspace = deps.workspaces.find((w) => w.id === workspaceId);
          const loaded = workspace ? await deps.configs.load(workspace.path) : undefined;
          return loaded?.ok
            ? loaded.templates.find((t) => t.id === templateId)?.resources.provisionSeconds
            : undefined;
        });
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
