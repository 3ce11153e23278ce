import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CellIdParams, CellStatus } from '../../cells/schema.js';
import { allowedActions, type CellAction } from '../../cells/status.js';
import { archiveUpdate, cancelSignal, retrySignal, serviceSignal } from '../../workflows/control.js';
import type { ApiDeps } from '../deps.js';
import { HttpProblem, Problem } from '../problem.js';

const Accepted = z.object({
  id: z.string(),
  status: CellStatus.describe('The state when the request was accepted; follow GET /cells/:id'),
  workflowId: z.string(),
});

const verbs: Record<CellAction, string> = {
  cancel: 'cancelled',
  retry: 'retried',
  archive: 'archived',
  service: 'given service commands',
};

/** The cell, if its state allows `action`; else 404 or 409 naming the state and what it allows. */
async function requireActionable(deps: ApiDeps, id: string, action: CellAction) {
  const cell = await deps.db.cell.findUnique({ where: { id }, include: { services: true } });
  if (!cell) {
    throw new HttpProblem(
      404,
      'cell-not-found',
      'Cell not found',
      `No cell has id "${id}". GET /cells lists them.`,
    );
  }
  const status = CellStatus.parse(cell.status);
  const allowed = allowedActions[status];
  if (!allowed.includes(action)) {
    throw new HttpProblem(
      409,
      'invalid-state',
      'Not possible in this state',
      `Cell ${id} is ${status} and cannot be ${verbs[action]}. ${
        allowed.length
          ? `In this state it allows: ${allowed.join(', ')}.`
          : 'It allows no action in this state.'
      }`,
      { currentState: status, allowedActions: allowed },
    );
  }
  return { ...cell, status };
}

export function lifecycleRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  const handle = (workflowId: string) => deps.temporal.client.workflow.getHandle(workflowId);
  const responses = { 202: Accepted, 400: Problem, 404: Problem, 409: Problem };

  return async (app) => {
    // Cancel and retry are plain signals to the cell's workflow, each allowed in some states.
    const signalRoutes = [
      {
        path: '/cells/:id/cancel',
        summary: 'Cancel provisioning (then roll back), or roll back a preserved failed cell',
        action: 'cancel' as const,
        signal: cancelSignal,
      },
      {
        path: '/cells/:id/retry',
        summary: 'Resume a preserved failed cell at its failed step',
        action: 'retry' as const,
        signal: retrySignal,
      },
    ];
    for (const route of signalRoutes) {
      app.post(
        route.path,
        {
          schema: { summary: route.summary, tags: ['lifecycle'], params: CellIdParams, response: responses },
        },
        async (request, reply) => {
          const cell = await requireActionable(deps, request.params.id, route.action);
          await handle(cell.workflowId).signal(route.signal);
          return reply.code(202).send({ id: cell.id, status: cell.status, workflowId: cell.workflowId });
        },
      );
    }

    app.delete(
      '/cells/:id',
      {
        schema: {
          summary: 'Archive: stop services, teardown, remove the worktree, release ports',
          description:
            'A worktree with uncommitted changes is refused with 409 unless force=true. A branch holding commits beyond its base is always kept.',
          tags: ['lifecycle'],
          params: CellIdParams,
          querystring: z.object({ force: z.enum(['true', 'false']).default('false') }),
          response: responses,
        },
      },
      async (request, reply) => {
        const cell = await requireActionable(deps, request.params.id, 'archive');
        try {
          await handle(cell.workflowId).executeUpdate(archiveUpdate, {
            args: [{ force: request.query.force === 'true' }],
          });
        } catch (error) {
          const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
          if (cause instanceof ApplicationFailure && cause.type === 'WorktreeDirty') {
            throw new HttpProblem(
              409,
              'worktree-dirty',
              'Uncommitted changes in the worktree',
              `Archiving cell ${cell.id} would lose work: ${cause.message}. Commit it on branch ${cell.branch} (the branch is kept), or archive with ?force=true to discard it.`,
              { currentState: cell.status, allowedActions: allowedActions[cell.status] },
            );
          }
          throw error;
        }
        return reply.code(202).send({ id: cell.id, status: 'archiving', workflowId: cell.workflowId });
      },
    );

    app.post(
      '/cells/:id/services/:service/:action',
      {
        schema: {
          summary: 'Stop, start or restart one service of a ready cell',
          tags: ['lifecycle'],
          params: CellIdParams.extend({ service: z.string(), action: z.enum(['stop', 'start', 'restart']) }),
          response: responses,
        },
      },
      async (request, reply) => {
        const cell = await requireActionable(deps, request.params.id, 'service');
        const names = cell.services.map((s) => s.name);
        if (!names.includes(request.params.service)) {
          throw new HttpProblem(
            404,
            'service-not-found',
            'Service not found',
            `Cell ${cell.id} has no service "${request.params.service}". Its services: ${names.join(', ') || '(none)'}.`,
          );
        }
        await handle(cell.workflowId).signal(serviceSignal, {
          service: request.params.service,
          action: request.params.action,
        });
        return reply.code(202).send({ id: cell.id, status: cell.status, workflowId: cell.workflowId });
      },
    );
  };
}
