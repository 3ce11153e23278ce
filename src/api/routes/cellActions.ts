// The lifecycle actions on a cell: cancel, retry, cleanup and resume (signals), archive (an update, so a
// second archive is refused at once), restore (a new run of the cell's workflow), service commands.
// Each is allowed in some states only (src/cells/status.ts) and recorded as an action event.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorType } from '../../cells/catalog.js';
import { recordAction } from '../../cells/events.js';
import { restoreCell } from '../../cells/restore.js';
import { CellAccepted, CellIdParams } from '../../cells/schema.js';
import { allowedActions } from '../../cells/status.js';
import { toAccepted } from '../../cells/views.js';
import {
  archiveUpdate,
  cancelSignal,
  cleanupSignal,
  retrySignal,
  serviceSignal,
  wakeSignal,
} from '../../workflows/control.js';
import type { ApiDeps } from '../deps.js';
import { requireActionable, requireWorkspace } from '../guards.js';
import { HttpProblem, Problem, serviceNotFound } from '../problem.js';

/** The actions on a cell, each answering 202 with the cell as it was when the action was accepted. */
export function cellActionRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  const handle = (workflowId: string) => deps.temporal.client.workflow.getHandle(workflowId);
  const actionResponses = { 202: CellAccepted, 400: Problem, 404: Problem, 409: Problem };

  return async (app) => {
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
      {
        path: '/cells/:id/resume',
        summary: 'Wake a suspended cell: thaw its processes, or start its services again',
        action: 'resume' as const,
        signal: wakeSignal,
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
          return reply.code(202).send(toAccepted(cell));
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
        return reply.code(202).send({ ...toAccepted(cell), status: 'archiving' });
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
        return reply.code(202).send(toAccepted(restored));
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
        return reply.code(202).send(toAccepted(cell));
      },
    );
  };
}
