import '../config/zodMessages.js';
import { z } from 'zod';
import { SECRET_REF_PATTERN } from '../secrets/refs.js';
import { unknownKeysError } from './strictKeys.js';

// The services of a template in hive.config.*: processes (ports, readiness probes, env, dependencies
// between services), built-in PostgreSQL, containers. Part of the config's one schema (schema.ts).

export const name = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/, 'a name of letters, digits, "_" or "-", starting with a letter');

/**
 * Every object of a template refuses keys it does not know (a typo such as `readyTimeoutMS` would
 * otherwise be dropped silently), naming the nearest known key; the JSON Schema says
 * `additionalProperties: false`. Only the top level stays open, for keys Hive itself uses.
 */
export const strictObject = <T extends z.core.$ZodLooseShape>(shape: T) =>
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

export const AnyServiceSpec = z.discriminatedUnion('type', [
  ServiceSpec,
  PostgresServiceSpec,
  DockerServiceSpec,
  ComposeServiceSpec,
]);
