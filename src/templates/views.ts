import { z } from 'zod';
import { PoolView } from '../pools/index.js';
import { optionsJsonSchema, portsOf, primaryPortName } from './model.js';
import { EnvValue, PortSpec, ReadinessProbe, Requirements, Resources, type Template } from './schema.js';
import type { MeasuredTiming } from './timings.js';

// What the catalog API shows of a template; derived from the same schemas as the config.

const Measured = z
  .object({ samples: z.number().int(), p50Seconds: z.number(), p95Seconds: z.number() })
  .nullable()
  .describe('Measured provisioning time of past cells of this template; null until there are some');

export const TemplateSummary = z.object({
  id: z.string(),
  label: z.string(),
  description: z.string().optional(),
  source: z
    .string()
    .describe(
      'The file of the workspace that defines it: hive.config.ts, hive.config.jsonc, conductor.json …',
    ),
  services: z.array(z.string()),
  containers: z
    .array(z.string())
    .describe(
      'Docker and compose services: accepted in the config, refused by the dry run (no container engine)',
    ),
  requirements: Requirements,
  resources: Resources,
  measured: Measured,
  pool: PoolView,
});
export type TemplateSummary = z.infer<typeof TemplateSummary>;

export const ServiceView = z.object({
  name: z.string(),
  run: z.string(),
  ports: z.record(z.string(), PortSpec),
  primaryPort: z.string().optional(),
  readiness: ReadinessProbe.optional(),
  readyTimeoutMs: z.number().optional(),
  dependsOn: z.record(z.string(), z.enum(['started', 'healthy', 'completed'])),
  enabledWhen: z
    .object({ option: z.string(), equals: z.union([z.string(), z.number(), z.boolean()]).optional() })
    .optional(),
});

export const TemplateDetail = TemplateSummary.extend({
  options: z.record(z.string(), z.unknown()).describe('JSON Schema of the options, with defaults'),
  services: z.array(ServiceView),
  env: z.record(z.string(), EnvValue).describe('Secret values appear as their reference, never resolved'),
  setup: z.array(z.string()),
  teardown: z.array(z.string()),
  prompts: z.array(z.string()),
  includePatterns: z.array(z.string()),
  ignorePatterns: z.array(z.string()),
  agent: z.record(z.string(), z.unknown()).optional(),
});
export type TemplateDetail = z.infer<typeof TemplateDetail>;

export function summarize(
  template: Template,
  measured: MeasuredTiming | null,
  pool: PoolView = null,
): TemplateSummary {
  return {
    id: template.id,
    label: template.label,
    description: template.description,
    source: template.source ?? 'hive.config',
    services: Object.keys(template.services),
    containers: Object.keys(template.containers),
    requirements: template.requirements,
    resources: template.resources,
    measured,
    pool,
  };
}

export function detail(
  template: Template,
  measured: MeasuredTiming | null,
  pool: PoolView = null,
): TemplateDetail {
  return {
    ...summarize(template, measured, pool),
    options: optionsJsonSchema(template) as Record<string, unknown>,
    services: Object.entries(template.services).map(([name, s]) => ({
      name,
      run: s.run,
      ports: portsOf(s),
      primaryPort: primaryPortName(s),
      readiness: s.readiness,
      readyTimeoutMs: s.readyTimeoutMs,
      dependsOn: s.dependsOn,
      enabledWhen: s.enabledWhen,
    })),
    env: template.env,
    setup: template.setup,
    teardown: template.teardown,
    prompts: template.prompts,
    includePatterns: template.includePatterns,
    ignorePatterns: template.ignorePatterns,
    agent: template.agent,
  };
}
