import '../config/zodMessages.js';
import { z } from 'zod';
import {
  AnyServiceSpec,
  type ContainerServiceSpec,
  EnvValue,
  name,
  type PostgresServiceSpec,
  type ServiceSpec,
  strictObject,
} from './serviceSchema.js';

// One schema for hive.config.{ts,json}: TypeScript types (defineConfig), validation of loaded
// configs, the published JSON Schema (schema/hive.config.schema.json) and the API's OpenAPI docs.
export {
  ComposeServiceSpec,
  type ContainerServiceSpec,
  DependencyCondition,
  DockerServiceSpec,
  EnvValue,
  OptionCondition,
  PortSpec,
  PostgresServiceSpec,
  ReadinessProbe,
  ServiceSpec,
} from './serviceSchema.js';

/** A path relative to the worktree that stays inside it (checked again with symlinks at run time). */
const worktreeRelative = z
  .string()
  .min(1)
  .refine(
    (p) => !p.startsWith('/') && !p.split('/').includes('..'),
    'a path inside the worktree, without ".."',
  );

/**
 * A dependency set (spec: isolated node_modules and dependencies): installed once per key into the
 * workspace's cache, then copied into each cell.
 */
export const DependencySpec = strictObject({
  key: z
    .array(worktreeRelative)
    .min(1)
    .describe(
      'Files whose contents decide the install, e.g. ["package-lock.json"]; a change rebuilds the cache',
    ),
  paths: z.array(worktreeRelative).min(1).describe('What the install produces, e.g. ["node_modules"]'),
  install: z.string().min(1).describe('Command that produces the paths, run in the worktree, e.g. "npm ci"'),
});
export type DependencySpec = z.output<typeof DependencySpec>;

/** Template options: a small typed schema, turned into JSON Schema for clients. */
export const OptionSpec = z.discriminatedUnion('type', [
  strictObject({
    type: z.literal('string'),
    description: z.string().optional(),
    default: z.string().optional(),
    pattern: z
      .string()
      .refine((p) => {
        try {
          new RegExp(p, 'u');
          return true;
        } catch {
          return false;
        }
      }, 'a valid regular expression')
      .optional()
      .describe('A value must match this regular expression (anchor it with ^…$ to match all of it)'),
    maxLength: z.number().int().min(1).optional().describe('Longest accepted value'),
    values: z.array(z.string()).min(1).optional().describe('The only values accepted'),
  }),
  strictObject({
    type: z.literal('number'),
    description: z.string().optional(),
    default: z.number().optional(),
  }),
  strictObject({
    type: z.literal('boolean'),
    description: z.string().optional(),
    default: z.boolean().optional(),
  }),
  strictObject({
    type: z.literal('enum'),
    values: z.array(z.string()).min(1),
    description: z.string().optional(),
    default: z.string().optional(),
  }),
]);
export type OptionSpec = z.infer<typeof OptionSpec>;

const semverRange = z.string().min(1).describe('A semver range, e.g. ">=14"');

export const Requirements = strictObject({
  executables: z
    .record(z.string().regex(/^[a-zA-Z0-9._+-]+$/, 'an executable name'), semverRange)
    .default({})
    .describe('Executables that must be on PATH, with the versions accepted ("*" for any)'),
  minFreeDiskMb: z.number().int().min(0).optional(),
  minFreeMemoryMb: z.number().int().min(0).optional(),
});

export const Resources = strictObject({
  cpu: z.number().positive().optional().describe('Cores'),
  memoryMb: z.number().int().positive().optional(),
  diskMb: z.number().int().positive().optional(),
  provisionSeconds: z.number().positive().optional().describe('Declared provisioning time estimate'),
});

/**
 * When a live cell with nothing going on is suspended (docs/lifecycle.md#idle-cells): no request
 * through its URLs (the proxy), its processes under `cpuPercent` of a core, and no command, for
 * `afterMs`. `freeze` stops its processes where they are (cgroup freezer: zero CPU, memory kept, wakes
 * in milliseconds; a host without the freezer stops them instead); `stop` stops its services (memory
 * freed; waking starts them again). The first request through its URLs, `hive cells resume`, the
 * dashboard or MCP wake it.
 */
export const IdlePolicy = strictObject({
  afterMs: z.number().int().min(1_000).describe('Idle this long (ms) before the cell is suspended'),
  mode: z.enum(['freeze', 'stop']).default('freeze').describe('Freeze the processes, or stop the services'),
  cpuPercent: z
    .number()
    .min(0)
    .max(100)
    .default(5)
    .describe("Above this share of a core (its processes' CPU), the cell counts as busy"),
});
export type IdlePolicy = z.infer<typeof IdlePolicy>;

/**
 * A warm pool: cells provisioned in advance at the workspace's base commit with the template's
 * default options, each claimed by a request that matches (docs/templates.md#warm-pools).
 */
export const Pool = strictObject({
  size: z.number().int().min(0).max(50).describe('Cells kept ready; 0 turns the pool off'),
});
export type Pool = z.infer<typeof Pool>;

export const TemplateSpec = strictObject({
  id: name.optional().describe('Defaults to the key under `templates`'),
  label: z.string().min(1),
  type: z.literal('manual').default('manual'),
  description: z.string().optional(),
  services: z.record(name, AnyServiceSpec).default({}),
  env: z.record(z.string(), EnvValue).default({}),
  setup: z.array(z.string()).default([]),
  dependencies: z
    .array(DependencySpec)
    .default([])
    .describe('Installed once per key into a per-workspace cache and copied into every cell before setup'),
  prompts: z.array(z.string()).default([]).describe('Prompt files or folders, relative to the workspace'),
  teardown: z.array(z.string()).default([]),
  includePatterns: z.array(z.string()).default([]).describe('Gitignored files to copy into the worktree'),
  ignorePatterns: z.array(z.string()).default([]),
  agent: z.record(z.string(), z.unknown()).optional().describe('Agent identifiers, passed through'),
  requirements: Requirements.default({ executables: {} }),
  resources: Resources.default({}),
  idle: IdlePolicy.optional().describe('Suspend the cell when nothing goes on in it for a while'),
  options: z.record(name, OptionSpec).default({}),
  pool: Pool.optional().describe(
    'Keep this many cells provisioned in advance (default options, the base commit) for requests to claim',
  ),
})
  // Process services are what Hive runs; databases are provisioned by the environment step; container
  // services are kept apart, for the dry run to name.
  .transform(({ services, ...template }) => {
    const processes: Record<string, ServiceSpec> = {};
    const databases: Record<string, PostgresServiceSpec> = {};
    const containers: Record<string, ContainerServiceSpec> = {};
    for (const [key, service] of Object.entries(services)) {
      if (service.type === 'process') processes[key] = service;
      else if (service.type === 'postgres') databases[key] = service;
      else containers[key] = service;
    }
    return { ...template, services: processes, databases, containers };
  });
export type TemplateSpecInput = z.input<typeof TemplateSpec>;

/** The whole config file. Keys Hive itself uses (opencode, promptSources, defaults) pass through. */
export const HiveConfigSchema = z
  .looseObject({
    $schema: z.string().optional(),
    templates: z.record(name, TemplateSpec),
  })
  .superRefine((config, ctx) => {
    for (const [key, template] of Object.entries(config.templates)) {
      if (template.id !== undefined && template.id !== key) {
        ctx.addIssue({
          code: 'custom',
          path: ['templates', key, 'id'],
          message: `id "${template.id}" differs from its key "${key}"; make them equal or drop id`,
        });
      }
    }
  });
export type HiveConfigInput = z.input<typeof HiveConfigSchema>;
export type HiveConfig = z.output<typeof HiveConfigSchema>;

export interface Template extends Omit<z.output<typeof TemplateSpec>, 'id'> {
  id: string;
  /** The file that defines it (hive.config.ts, conductor.json …), set by the loader. */
  source?: string;
}

/** Typed helper for hive.config.ts: `export default defineConfig({ templates: { … } })`. */
export function defineConfig(config: HiveConfigInput): HiveConfigInput {
  return config;
}

/** Where the published JSON Schema lives in this package (point `$schema` at it). */
export const jsonSchemaFile = 'schema/hive.config.schema.json';

/** JSON Schema for hive.config.json (`$schema`), generated from the same zod schema. */
export function hiveConfigJsonSchema() {
  return z.toJSONSchema(HiveConfigSchema, { io: 'input', unrepresentable: 'any' });
}
