import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Workspace } from '../../config/env.js';
import { ensurePool, poolView } from '../../pools/index.js';
import { dryRun } from '../../templates/dryRun.js';
import { Finding } from '../../templates/findings.js';
import type { Template } from '../../templates/schema.js';
import { measuredProvisioning } from '../../templates/timings.js';
import { detail, summarize, TemplateDetail, TemplateSummary } from '../../templates/views.js';
import type { ApiDeps } from '../deps.js';
import { requireLoadedConfig, requireWorkspace, scoped, unknownWorkspace } from '../guards.js';
import { HttpProblem, Problem } from '../problem.js';

const WorkspaceQuery = z.object({ workspace: z.string().describe('Workspace id (GET /workspaces)') });
const TemplateParams = z.object({ id: z.string() });

export const ValidateRequest = z
  .object({
    workspace: z.string(),
    options: z.record(z.string(), z.unknown()).default({}),
    baseRef: z.string().optional(),
  })
  .strict();

export const ValidationReport = z.object({
  ok: z.boolean().describe('True when there is no error (warnings may remain)'),
  findings: z.array(Finding),
});

/** The templates resource: the catalog of a workspace, one template, and the dry run. */
export function templateRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  /** A pooled template's pool state; looking also wakes (or starts) the pool's workflow. */
  const pool = async (workspace: Workspace, template: Template) => {
    if (template.pool?.size) {
      const { client, taskQueue } = deps.temporal;
      await ensurePool(
        { client, taskQueue, historyLimit: deps.workflowHistoryLimit, poolCheckMs: deps.poolCheckMs },
        workspace,
        template.id,
      );
    }
    return poolView(deps.db, workspace, template);
  };
  return async (app) => {
    app.get(
      '/templates',
      {
        config: { access: 'read' },
        schema: {
          summary: 'Templates of a workspace, with requirements, resources and measured times',
          tags: ['templates'],
          querystring: WorkspaceQuery,
          response: { 200: z.object({ templates: z.array(TemplateSummary) }), 404: Problem, 422: Problem },
        },
      },
      async (request) => {
        const workspace = requireWorkspace(scoped(deps, request.principal), request.query.workspace, 404);
        const loaded = requireLoadedConfig(workspace, await deps.configs.load(workspace.path));
        const templates = await Promise.all(
          loaded.templates.map(async (t) =>
            summarize(t, await measuredProvisioning(deps.db, workspace.id, t.id), await pool(workspace, t)),
          ),
        );
        return { templates };
      },
    );

    app.get(
      '/templates/:id',
      {
        config: { access: 'read' },
        schema: {
          summary: 'One template: options as JSON Schema, services with ports, probes, dependencies',
          tags: ['templates'],
          params: TemplateParams,
          querystring: WorkspaceQuery,
          response: { 200: TemplateDetail, 404: Problem, 422: Problem },
        },
      },
      async (request) => {
        const workspace = requireWorkspace(scoped(deps, request.principal), request.query.workspace, 404);
        const loaded = requireLoadedConfig(workspace, await deps.configs.load(workspace.path));
        const template = loaded.templates.find((t) => t.id === request.params.id);
        if (!template) {
          throw new HttpProblem(
            404,
            'template-not-found',
            'Template not found',
            `Workspace "${workspace.id}" has no template "${request.params.id}". Use one of: ${
              loaded.templates.map((t) => t.id).join(', ') || '(none defined)'
            }.`,
          );
        }
        return detail(
          template,
          await measuredProvisioning(deps.db, workspace.id, template.id),
          await pool(workspace, template),
        );
      },
    );

    app.post(
      '/templates/:id/validate',
      {
        config: { access: 'operate' },
        schema: {
          summary: 'Dry run: can this template work here, with these options? Changes nothing',
          tags: ['templates'],
          params: TemplateParams,
          body: ValidateRequest,
          response: { 200: ValidationReport, 400: Problem, 422: Problem },
        },
      },
      async (request) => {
        const visible = scoped(deps, request.principal);
        const result = await dryRun(visible, { ...request.body, templateId: request.params.id });
        if ('unknownWorkspace' in result)
          throw unknownWorkspace(visible, result.unknownWorkspace, 422, '#/workspace');
        return { ok: result.ok, findings: result.findings };
      },
    );
  };
}
