import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { inScope } from '../../auth/tokens.js';
import { createCell } from '../../cells/create.js';
import { cellEventStream } from '../../cells/eventStream.js';
import { notifyTargetProblem } from '../../cells/notifyAddress.js';
import {
  CellAccepted,
  CellDetail,
  CellIdParams,
  CellRecord,
  CellRequest,
  CellStatus,
  IdempotencyKey,
} from '../../cells/schema.js';
import { cellDetail, toAccepted, toRecord } from '../../cells/views.js';
import { cellPublicUrl } from '../../proxy/names.js';
import { cellLogRedactor } from '../../secrets/known.js';
import type { ApiDeps } from '../deps.js';
import { requireVisibleCell, scoped, scopeFilter, unknownWorkspace } from '../guards.js';
import { cellNotFound, HttpProblem, Problem } from '../problem.js';

/** A notify URL's host name must not resolve to an address webhooks may not reach (the schema checked the rest). */
async function checkNotifyUrl(notify: CellRequest['notify']) {
  if (!notify || !('url' in notify)) return;
  const problem = await notifyTargetProblem(notify.url);
  if (!problem) return;
  throw new HttpProblem(
    400,
    'validation-failed',
    'Request validation failed',
    `The request body is invalid: notify.url: ${problem}. Fix the listed fields and send it again.`,
    { errors: [{ pointer: '#/notify/url', detail: problem }] },
  );
}

/** The cells resource: requests, reads and the event stream of a cell (its actions: cellActions.ts). */
export function cellRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  /** A cell as GET /cells/:id answers it (and a cell's stream ends with it), after the caller's access check. */
  const detailOf = (id: string) =>
    cellDetail(
      deps.db,
      id,
      async (workspaceId, templateId) => {
        const workspace = deps.workspaces.find((w) => w.id === workspaceId);
        const loaded = workspace ? await deps.configs.load(workspace.path) : undefined;
        return loaded?.ok
          ? loaded.templates.find((t) => t.id === templateId)?.resources.provisionSeconds
          : undefined;
      },
      deps.proxy,
    );
  return async (app) => {
    app.post(
      '/cells',
      {
        config: { access: 'operate' },
        schema: {
          summary: 'Request a cell: starts its provisioning workflow',
          tags: ['cells'],
          body: CellRequest,
          headers: z.object({
            'idempotency-key': IdempotencyKey.optional().describe(
              'The same key returns the same cell and starts no second workflow',
            ),
          }),
          response: { 202: CellAccepted, 400: Problem, 413: Problem, 415: Problem, 422: Problem },
        },
      },
      async (request, reply) => {
        await checkNotifyUrl(request.body.notify);
        const result = await createCell(
          {
            db: deps.db,
            client: deps.temporal.client,
            taskQueue: deps.temporal.taskQueue,
            eagerStart: deps.temporal.eagerStart,
            workspaces: scoped(deps, request.principal).workspaces,
            configs: deps.configs,
            preserveFailedForMs: deps.preserveFailedForMs,
            historyLimit: deps.workflowHistoryLimit,
            poolCheckMs: deps.poolCheckMs,
            log: request.log,
            planFirst: deps.planFirst,
            handOverHere: deps.handOverHere,
            placeFirst: deps.placeFirst,
          },
          request.body,
          request.headers['idempotency-key'],
          request.principal.kind === 'token' ? request.principal.name : undefined,
        );
        if (result.kind === 'unknown-workspace')
          throw unknownWorkspace(scoped(deps, request.principal), result.workspace, 422, '#/workspace');
        // A key first used for a cell this principal may not see: refused without naming that cell.
        if ('cell' in result && !inScope(request.principal, result.cell.workspaceId)) {
          throw new HttpProblem(
            422,
            'idempotency-key-reused',
            'Idempotency-Key reused with another request',
            'The Idempotency-Key was first used for a different request. Use a new key for a new request.',
          );
        }
        if (result.kind === 'key-reused') {
          throw new HttpProblem(
            422,
            'idempotency-key-reused',
            'Idempotency-Key reused with another request',
            `The Idempotency-Key was first used for a different request (cell ${result.cell.id}). Send the same body to get that cell again, or use a new key for a new request.`,
          );
        }
        if (result.kind === 'invalid') {
          const errors = result.findings.filter((f) => f.severity === 'error');
          throw new HttpProblem(
            422,
            'template-validation-failed',
            'The template cannot be provisioned as requested',
            `${errors.map((f) => `${f.path}: ${f.message}`).join('; ')}. See findings for how to fix each.`,
            { findings: result.findings },
          );
        }
        return reply.code(202).header('location', `/cells/${result.cell.id}`).send(toAccepted(result.cell));
      },
    );

    app.get(
      '/cells',
      {
        config: { access: 'read' },
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
          where: {
            AND: [
              { workspaceId: workspace, status },
              // Cells waiting in a warm pool are nobody's yet: GET /templates counts them.
              { OR: [{ poolState: null }, { poolState: 'claimed' }] },
              scopeFilter(request.principal),
            ],
          },
          orderBy: { createdAt: 'desc' },
          take: limit,
          include: { services: { select: { port: true } } },
        });
        const { proxy } = deps;
        return {
          cells: cells.map((cell) =>
            toRecord(
              cell,
              proxy && cell.services.some((s) => s.port !== null) ? cellPublicUrl(proxy, cell.id) : null,
            ),
          ),
        };
      },
    );

    app.get(
      '/cells/:id',
      {
        config: { access: 'read' },
        schema: {
          summary: 'One cell',
          tags: ['cells'],
          params: CellIdParams,
          response: { 200: CellDetail, 400: Problem, 404: Problem },
        },
      },
      async (request) => {
        await requireVisibleCell(deps, request.params.id, request.principal);
        const cell = await detailOf(request.params.id);
        if (!cell) throw cellNotFound(request.params.id);
        return cell;
      },
    );

    app.get(
      '/cells/:id/events',
      {
        config: { access: 'read' },
        sse: 'only',
        schema: {
          summary:
            'Server-Sent Events: status, step, plan and operation events, and service log lines, as they happen',
          description:
            'Events `status`, `step`, `plan`, `operation` and `action` (who asked for what: `{ action, by }`) carry ids (resume with the Last-Event-ID header); `log` lines are live only. The stream ends with an `end` event when the cell rests (ready, degraded, failed, rolled back, cancelled, archived, cleanup failed): `{ status, cell }`, the cell as GET /cells/:id answers then.',
          tags: ['cells'],
          params: CellIdParams,
          response: { 400: Problem, 404: Problem, 406: Problem },
        },
      },
      async (request, reply) => {
        const exists = await requireVisibleCell(deps, request.params.id, request.principal);
        const lastId = reply.sse.lastEventId ?? '0';
        const after = /^\d{1,15}$/.test(lastId) ? Number(lastId) : undefined;
        if (after === undefined) {
          throw new HttpProblem(
            400,
            'invalid-last-event-id',
            'Invalid Last-Event-ID',
            `Last-Event-ID "${lastId.slice(0, 40)}" is not an event id of this stream. Send the id of the last event received, or none to start over.`,
          );
        }
        const workspace = deps.workspaces.find((w) => w.id === exists.workspaceId);
        const redact = await cellLogRedactor(deps.configs, workspace, exists.templateId);
        await reply.sse.send(
          cellEventStream(
            deps.db,
            exists.id,
            after,
            () => reply.sse.isConnected,
            redact,
            () => detailOf(exists.id),
          ),
        );
      },
    );
  };
}
