import '../config/zodMessages.js';
import { z } from 'zod';
import { SECRET_REF_PATTERN } from '../secrets/refs.js';
import { unknownKeysError } from './strictKeys.js';

// One schema for hive.config.{ts,json}: TypeScript types (defineConfig), validation of loaded
// configs, the published JSON Schema (schema/hive.config.schema.json) and the API's OpenAPI docs.

const name = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/, 'a name of letters, digits, "_" or "-", starting with a letter');

/**
 * Every object of a template refuses keys it does not know (a typo such as `readyTimeoutMS` would
 * otherwise be dropped silently), naming the nearest known key; the JSON Schema says
 * `additionalProperties: false`. Only the top level stays open, for keys Hive itself uses.
 */
const strictObject = <T extends z.core.$ZodLooseShape>(shape: T) =>
  z.strictObject(shape, { error: unknownKeysError });

const portNumber = z.number().int().min(1).max(65535);

/** A named port: any free port (default), a fixed port, or a range [from, to]. */
export const PortSpec = z
  .union([
    z.literal('any'),
    z
      .literal('auto')
      .describe('The port the service chooses itself, adopted by Hive once it listens (docs/templates.md)'),
    portNumber,
    z
      .tuple([portNumber, portNumber])
      .refine(([from, to]) => from <= to, 'a range [from, to] with from <= to'),
    z
      .strictObject({ block: z.number().int().min(2).max(100) })
      .describe('A block of consecutive free ports, all reserved for the cell; the port is the first'),
  ])
  .describe(
    '"any" (a free port), a fixed port number, a range [from, to], { block: n } (n consecutive free ports), or "auto" (the port the service listens on, adopted)',
  );
export type PortSpec = z.infer<typeof PortSpec>;

const probeTiming = {
  initialDelayMs: z.number().int().min(0).default(0).describe('Wait before the first probe'),
  periodMs: z.number().int().min(50).default(500).describe('Time between probes'),
  timeoutMs: z.number().int().min(50).default(2_000).describe('Time one probe may take'),
  failureThreshold: z
    .number()
    .int()
    .min(1)
    .default(3)
    .describe(
      'Failed probes in a row, after the service was ready, before it counts as unhealthy (before that, readiness waits up to readyTimeoutMs)',
    ),
};

/** Readiness probes, modelled on process-compose's readiness_probe. */
export const ReadinessProbe = z.discriminatedUnion('type', [
  strictObject({
    type: z.literal('tcp'),
    port: name.optional().describe('Named port to connect to; default the primary port'),
    ...probeTiming,
  }),
  strictObject({
    type: z.literal('http'),
    path: z.string().startsWith('/').default('/'),
    port: name.optional().describe('Named port; default the primary port'),
    expectStatus: z.number().int().min(100).max(599).optional().describe('Default: any 2xx or 3xx'),
    ...probeTiming,
  }),
  strictObject({
    type: z.literal('exec'),
    command: z.string().min(1).describe('Ready when this command exits 0 (run in the worktree)'),
    ...probeTiming,
  }),
  strictObject({
    type: z.literal('log'),
    pattern: z.string().min(1).describe('Ready when a line of output matches this regular expression'),
    ...probeTiming,
  }),
]);
export type ReadinessProbe = z.infer<typeof ReadinessProbe>;

export const DependencyCondition = z.enum(['started', 'healthy', 'completed']);

/** Enables a service only when an option has a value (or is truthy when `equals` is omitted). */
export const OptionCondition = strictObject({
  option: name,
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
});

/** An env value: text (placeholders allowed), or a secret by reference, never stored or shown. */
export const EnvValue = z.union([
  z.string(),
  z
    .object({
      secret: z
        .string()
        .regex(SECRET_REF_PATTERN, "env:NAME (a variable of Hive's own environment) or file:PATH")
        .describe(
          "env:NAME reads Hive's own environment, file:PATH a file (relative to the workspace); resolved only when a process starts",
        ),
    })
    .strict(),
]);

export const ServiceSpec = strictObject({
  type: z.literal('process').default('process'),
  run: z.string().min(1).describe('Command line; $PORT, $PORT:<service>, $OPTION:<name> are replaced'),
  setup: z.array(z.string()).default([]).describe('Commands run once before the service starts'),
  cwd: z.string().optional().describe('Working directory relative to the worktree'),
  env: z.record(z.string(), EnvValue).default({}),
  readyTimeoutMs: z.number().int().positive().optional().describe('Upper bound on the readiness wait'),
  settleMs: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'Ready only while the process still runs this long after it started (and when its probe passed); 0 turns it off. Default 200',
    ),
  stop: z.string().optional().describe('Command that stops the service; default SIGTERM'),
  ports: z
    .record(name, PortSpec)
    .optional()
    .describe('Named ports; default one free port. The first (or "primary") is $PORT'),
  readiness: ReadinessProbe.optional(),
  dependsOn: z
    .union([z.array(name), z.record(name, DependencyCondition)])
    .optional()
    .transform((deps) =>
      Array.isArray(deps) ? Object.fromEntries(deps.map((d) => [d, 'started' as const])) : (deps ?? {}),
    )
    .describe('Services that must reach a condition before this one starts'),
  enabledWhen: OptionCondition.optional().describe('Start this service only under this option value'),
  restart: z
    .enum(['no', 'on-failure', 'always'])
    .default('on-failure')
    .describe('After ready: restart the service when it exits (on-failure: only with a non-zero code)'),
  maxRestarts: z.number().int().min(0).default(5).describe('Restarts before the service is left exited'),
  restartBackoffMs: z.number().int().min(0).default(1_000).describe('First restart delay; doubles each time'),
});
export type ServiceSpec = z.output<typeof ServiceSpec>;

/**
 * Hive's container service types, accepted as Hive's configs write them. This Hive runs processes
 * only: the dry run reports a template using one as needing a container engine, instead of the
 * config failing to load (see checkContainers).
 */
export const DockerServiceSpec = strictObject({
  type: z.literal('docker'),
  image: z.string().min(1).describe('Image to run'),
  command: z.string().optional().describe("Command overriding the image's default"),
  ports: z.array(z.string()).optional().describe('Port mappings such as "5432:5432"'),
  env: z.record(z.string(), EnvValue).default({}),
  volumes: z.array(z.string()).optional(),
  readyTimeoutMs: z.number().int().positive().optional(),
});
export const ComposeServiceSpec = strictObject({
  type: z.literal('compose'),
  file: z.string().min(1).describe('A docker-compose file, relative to the worktree'),
  services: z.array(z.string()).optional().describe('Only these services of the file'),
  env: z.record(z.string(), EnvValue).default({}),
});
export type ContainerServiceSpec = z.output<typeof DockerServiceSpec> | z.output<typeof ComposeServiceSpec>;

/**
 * A PostgreSQL database per cell, built in: one server per workspace (Debian's binaries, run and
 * supervised by Hive), a template database built once by `seed` and rebuilt when `inputs` change,
 * and each cell's own database cloned from it.
 */
export const PostgresServiceSpec = strictObject({
  type: z.literal('postgres'),
  seed: z
    .array(z.string())
    .default([])
    .describe(
      'Commands that build the template database (migrate, seed), run in the worktree with DATABASE_URL set',
    ),
  inputs: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Files or globs, relative to the worktree, whose contents decide a rebuild (e.g. "migrations/**")',
    ),
});
export type PostgresServiceSpec = z.output<typeof PostgresServiceSpec>;

const AnyServiceSpec = z.discriminatedUnion('type', [
  ServiceSpec,
  PostgresServiceSpec,
  DockerServiceSpec,
  ComposeServiceSpec,
]);

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
