import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { inScope } from '../../auth/tokens.js';
import { ErrorType } from '../../cells/catalog.js';
import { createCell } from '../../cells/create.js';
import { cellEventStream } from '../../cells/eventStream.js';
import { recordAction } from '../../cells/events.js';
import { notifyTargetProblem } from '../../cells/notifyAddress.js';
import { restoreCell } from '../../cells/restore.js';
import {
  CellAccepted,
  CellDetail,
  CellIdParams,
  CellRecord,
  CellRequest,
  CellStatus,
} from '../../cells/schema.js';
import { allowedActions } from '../../cells/status.js';
import { cellDetail, toRecord } from '../../cells/views.js';
import { cellLogRedactor } from '../../secrets/known.js';
import {
  archiveUpdate,
  cancelSignal,
  cleanupSignal,
  retrySignal,
  serviceSignal,
} from '../../workflows/control.js';
import type { ApiDeps } from '../deps.js';
import {
  requireActionable,
  requireVisibleCell,
  requireWorkspace,
  scoped,
  scopeFilter,
  unknownWorkspace,
} from '../guards.js';
import { cellNotFound, HttpProblem, Problem, serviceNotFound } from '../problem.js';

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

const accepted = (cell: { id: string; status: string; workflowId: string }) => ({
  id: cell.id,
  status: CellStatus.parse(cell.status),
  workflowId: cell.workflowId,
});

/** The cells resource: requests, reads, the lifecycle actions and the event stream of a cell. */
export function cellRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  const handle = (workflowId: string) => deps.temporal.client.workflow.getHandle(workflowId);
  const actionResponses = { 202: CellAccepted, 400: Problem, 404: Problem, 409: Problem };

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
        return reply.code(202).header('location', `/cells/${result.cell.id}`).send(accepted(result.cell));
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
        });
        return { cells: cells.map(toRecord) };
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
        const cell = await cellDetail(deps.db, request.params.id, async (workspaceId, templateId) => {
          const workspace = deps.workspaces.find((w) => w.id === workspaceId);
          const loaded = workspace ? await deps.configs.load(workspace.path) : undefined;
          return loaded?.ok
            ? loaded.templates.find((t) => t.id === templateId)?.resources.provisionSeconds
            : undefined;
        });
        if (!cell) throw cellNotFound(request.params.id);
        return cell;
      },
    );

    // Cancel, retry and cleanup are plain signals to the cell's workflow, each allowed in some states.
    const signalRoutes = [
      {
        path: '/cells/:id/cancel',
        summary: 'Cancel provisioning (then roll back), or roll back a preserved failed cell',
        action: 'cancel' as const,
        signal: cancelSignal,
      },
      {
        path: '/cells/:id/retry',
        summary: 'Resume a preserved failed cell at its failed step, planned again from the current config',
        action: 'retry' as const,
        signal: retrySignal,
      },
      {
        path: '/cells/:id/cleanup',
        summary: 'Run a failed clean-up (rollback, cancel or archive) again',
        action: 'cleanup' as const,
        signal: cleanupSignal,
      },
    ];
    for (const route of signalRoutes) {
      app.post(
        route.path,
        {
          config: { access: 'operate' },
          schema: {
            summary: route.summary,
            tags: ['lifecycle'],
            params: CellIdParams,
            response: actionResponses,
          },
        },
        async (request, reply) => {
          const cell = await requireActionable(deps, request.params.id, route.action, request.principal);
          await handle(cell.workflowId).signal(route.signal);
          await recordAction(deps.db, cell.id, { action: route.action, by: request.principal.name });
          return reply.code(202).send(accepted(cell));
        },
      );
    }

    app.delete(
      '/cells/:id',
      {
        config: { access: 'operate' },
        schema: {
          summary:
            'Archive: stop services, teardown, save the work in the worktree, remove it, release ports',
          description:
            'Nothing is lost: before the worktree is removed, uncommitted changes, untracked files, gitignored files made after the cell was ready and commits on a detached HEAD are saved to refs/hive/archive/<id> (GET /cells/:id shows what, under `archive`; POST /cells/:id/restore brings them back). A branch holding commits beyond its base is kept. Only discard=true drops the uncommitted work, and the archive record lists what was dropped.',
          tags: ['lifecycle'],
          params: CellIdParams,
          querystring: z.object({
            discard: z
              .enum(['true', 'false'])
              .default('false')
              .describe(
                "Drop the worktree's uncommitted work instead of saving it (commits are always kept)",
              ),
          }),
          response: actionResponses,
        },
      },
      async (request, reply) => {
        const cell = await requireActionable(deps, request.params.id, 'archive', request.principal);
        try {
          await handle(cell.workflowId).executeUpdate(archiveUpdate, {
            args: [{ discard: request.query.discard === 'true' }],
          });
        } catch (error) {
          const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
          if (cause instanceof ApplicationFailure && cause.type === ErrorType.AlreadyArchiving) {
            throw new HttpProblem(
              409,
              'invalid-state',
              'Already being archived',
              `Cell ${cell.id} is already being archived. Follow it with GET /cells/${cell.id}.`,
              { currentState: 'archiving', allowedActions: allowedActions.archiving },
            );
          }
          throw error;
        }
        await recordAction(deps.db, cell.id, { action: 'archive', by: request.principal.name });
        return reply.code(202).send({ ...accepted(cell), status: 'archiving' });
      },
    );

    app.post(
      '/cells/:id/restore',
      {
        config: { access: 'operate' },
        schema: {
          summary: 'Bring an archived (or rolled back, or cancelled) cell back to life',
          description:
            "Provisions the cell again on its branch, with the work its last archive saved put back in the worktree byte for byte (HEAD detached again if it was), then ports, environment, services and prompt from the workspace's current config. A new run of the cell's workflow.",
          tags: ['lifecycle'],
          params: CellIdParams,
          response: actionResponses,
        },
      },
      async (request, reply) => {
        const cell = await requireActionable(deps, request.params.id, 'restore', request.principal);
        const restored = await restoreCell(
          {
            db: deps.db,
            client: deps.temporal.client,
            taskQueue: deps.temporal.taskQueue,
            eagerStart: deps.temporal.eagerStart,
            preserveFailedForMs: deps.preserveFailedForMs,
            historyLimit: deps.workflowHistoryLimit,
          },
          requireWorkspace(deps, cell.workspaceId, 422),
          cell,
        );
        if (!restored) {
          throw new HttpProblem(
            409,
            'invalid-state',
            'Already being restored',
            `Cell ${cell.id} is already being restored. Follow it with GET /cells/${cell.id}.`,
          );
        }
        await recordAction(deps.db, cell.id, { action: 'restore', by: request.principal.name });
        return reply.code(202).send(accepted(restored));
      },
    );

    app.post(
      '/cells/:id/services/:service/:action',
      {
        config: { access: 'operate' },
        schema: {
          summary: 'Stop, start or restart one service of a ready cell',
          tags: ['lifecycle'],
          params: CellIdParams.extend({ service: z.string(), action: z.enum(['stop', 'start', 'restart']) }),
          response: actionResponses,
        },
      },
      async (request, reply) => {
        const cell = await requireActionable(deps, request.params.id, 'service', request.principal);
        const names = cell.services.map((s) => s.name);
        if (!names.includes(request.params.service)) {
          throw serviceNotFound(cell.id, request.params.service, names);
        }
        await handle(cell.workflowId).signal(serviceSignal, {
          service: request.params.service,
          action: request.params.action,
        });
        await recordAction(deps.db, cell.id, {
          action: 'service',
          by: request.principal.name,
          service: request.params.service,
          command: request.params.action,
        });
        return reply.code(202).send(accepted(cell));
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
            'Events `status`, `step`, `plan`, `operation` and `action` (who asked for what: `{ action, by }`) carry ids (resume with the Last-Event-ID header); `log` lines are live only. The stream ends with an `end` event when the cell rests (ready, degraded, failed, rolled back, cancelled, archived, cleanup failed).',
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
        await reply.sse.send(cellEventStream(deps.db, exists.id, after, () => reply.sse.isConnected, redact));
      },
    );
  };
}
