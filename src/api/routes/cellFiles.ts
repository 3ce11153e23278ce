import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FileReplacedError } from '../../cells/containedFiles.js';
import { ENV_FILE, readCellEnv, readLogTail } from '../../cells/files.js';
import { CellIdParams } from '../../cells/schema.js';
import { templateSecretRefs, templateSecrets } from '../../secrets/known.js';
import { redactor } from '../../secrets/redact.js';
import type { ApiDeps } from '../deps.js';
import { requireVisibleCell } from '../guards.js';
import { cellNotFound, HttpProblem, Problem, serviceNotFound } from '../problem.js';

export const ServiceLogs = z.object({
  service: z.string(),
  logPath: z.string().nullable(),
  lines: z.array(z.string()).describe('The last lines of the log, known secret values masked'),
});

export const CellEnv = z.object({
  file: z.string().nullable().describe('The env file in the worktree; null before the environment step'),
  variables: z.array(
    z.object({
      name: z.string(),
      value: z.string().nullable().describe('null for a secret: its value is never shown'),
      secret: z.boolean(),
    }),
  ),
});

/** A cell file its agent replaced with a link: refused, never followed (docs/security.md). */
async function refusingLinks<T>(cellId: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof FileReplacedError)) throw error;
    throw new HttpProblem(
      409,
      'cell-file-replaced',
      'Cell file replaced',
      `${error.file} in cell ${cellId} is no longer the file Hive wrote: it was replaced by a symbolic link (or sits under one), which Hive does not follow. Restore the file in the cell (for .hive/env: POST /cells/${cellId}/retry or restore rewrites it) and ask again.`,
    );
  }
}

/**
 * What a cell has on its host beyond its records: a service's log tail and the cell's environment.
 * Read from the cell's files here, so they answer for cells of this host.
 */
export function cellFileRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  const workspaceOf = (id: string) => deps.workspaces.find((w) => w.id === id);

  return async (app) => {
    app.get(
      '/cells/:id/services/:service/logs',
      {
        config: { access: 'read' },
        schema: {
          summary: "The last lines of one service's log (live lines: GET /cells/:id/events)",
          tags: ['cells'],
          params: CellIdParams.extend({ service: z.string().max(100) }),
          querystring: z.object({ lines: z.coerce.number().int().min(1).max(5_000).default(200) }),
          response: { 200: ServiceLogs, 400: Problem, 404: Problem, 409: Problem },
        },
      },
      async (request) => {
        const cell = await requireVisibleCell(deps, request.params.id, request.principal);
        const services = await deps.db.serviceInstance.findMany({
          where: { cellId: cell.id },
          select: { name: true, logPath: true },
        });
        const service = services.find((s) => s.name === request.params.service);
        if (!service) {
          throw serviceNotFound(
            cell.id,
            request.params.service,
            services.map((s) => s.name),
            '(none started yet)',
          );
        }
        const { logPath } = service;
        const worktree = (
          await deps.db.cell.findUnique({ where: { id: cell.id }, select: { worktreePath: true } })
        )?.worktreePath;
        const lines =
          logPath && worktree
            ? await refusingLinks(cell.id, () => readLogTail(worktree, logPath, request.query.lines))
            : [];
        const redact = redactor(
          await templateSecrets(deps.configs, workspaceOf(cell.workspaceId), cell.templateId),
        );
        return { service: service.name, logPath: service.logPath, lines: lines.map(redact) };
      },
    );

    app.get(
      '/cells/:id/env',
      {
        config: { access: 'read' },
        schema: {
          summary: "The cell's environment (what .hive/env holds), secret values hidden",
          tags: ['cells'],
          params: CellIdParams,
          response: { 200: CellEnv, 400: Problem, 404: Problem, 409: Problem },
        },
      },
      async (request) => {
        await requireVisibleCell(deps, request.params.id, request.principal);
        const cell = await deps.db.cell.findUnique({ where: { id: request.params.id } });
        if (!cell) throw cellNotFound(request.params.id);
        const worktree = cell.worktreePath;
        const env = worktree ? await refusingLinks(cell.id, () => readCellEnv(worktree)) : undefined;
        if (!env || !cell.worktreePath) return { file: null, variables: [] };
        const workspace = workspaceOf(cell.workspaceId);
        const names = new Set(
          Object.keys(await templateSecretRefs(deps.configs, workspace, cell.templateId)),
        );
        // A value equal to a secret's (say, copied into another variable) is hidden too.
        const values = new Set(
          Object.values(await templateSecrets(deps.configs, workspace, cell.templateId)).filter(
            (v) => v.length >= 4,
          ),
        );
        return {
          file: `${cell.worktreePath}/${ENV_FILE}`,
          variables: Object.entries(env).map(([name, value]) => {
            const secret = names.has(name) || values.has(value);
            return { name, value: secret ? null : value, secret };
          }),
        };
      },
    );
  };
}
