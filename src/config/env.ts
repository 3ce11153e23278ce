import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { PASS_ENV_ENTRY } from '../activities/processEnv.js';
import { parseNotifyAllowList } from '../cells/notifyAddress.js';
import { DEFAULT_HOST_GRACE_MS, DEFAULT_HOST_HEARTBEAT_MS } from '../hosts/registry.js';
import { IdlePolicy } from '../templates/schema.js';
import { defaultDataDir } from './paths.js';
import { defaultWorkspaceId, parseWorkspaces, repositoryOf } from './repositories.js';

export {
  defaultWorkspaceId,
  isGitRepository,
  repositoryOf,
  WORKSPACE_ID,
  type Workspace,
} from './repositories.js';

/** Defaults of the activities' timings, also used where activities are built without a config. */
export const DEFAULT_SETUP_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_DEPS_CACHE_MAX_MB = 20 * 1024;
export const DEFAULT_DEPS_CACHE_MAX_AGE_DAYS = 14;
export const DEFAULT_STOP_GRACE_MS = 5_000;
export const DEFAULT_NOTIFY_RETRY_MS = 5_000;

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'an integer port 0-65535' })
    .int('an integer port 0-65535')
    .min(0, 'an integer port 0-65535')
    .max(65535, 'an integer port 0-65535')
    .default(fallback);

/** The single source of truth for the service's environment configuration. */
export function envSchema(cwd: string, env: NodeJS.ProcessEnv = process.env) {
  return z
    .object({
      HIVE_HOST: z.string().min(1).default('127.0.0.1').describe('Interface the API binds to'),
      HIVE_PORT: port(4400).describe('API port'),
      HIVE_PROXY_PORT: z
        .union([z.literal('off'), port(0).unwrap()])
        .optional()
        .describe("Port of the cells' reverse proxy (docs/proxy.md); default HIVE_PORT + 1; off: none"),
      HIVE_PROXY_HOST: z
        .string()
        .min(1)
        .default('127.0.0.1')
        .describe('Interface the proxy binds to; any other than loopback needs an API token'),
      HIVE_PROXY_DOMAIN: z
        .string()
        .regex(
          /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
          'a lower-case DNS name, e.g. localhost',
        )
        .default('localhost')
        .describe(
          'Cells are <service>.<cell>.<domain>; a name that resolves to the proxy (default localhost)',
        ),
      HIVE_DATA_DIR: z
        .string()
        .min(1)
        .optional()
        .transform((p) => (p ? path.resolve(cwd, p) : defaultDataDir(env, cwd)))
        .describe(
          'Where the database, Temporal history and tools live; default: $XDG_DATA_HOME/hive-cells (~/.local/share/hive-cells)',
        ),
      HIVE_WORKSPACES: z
        .string()
        .optional()
        .describe('Git repositories cells may be provisioned in, as id=path pairs, comma-separated'),
      HIVE_HOST_ID: z
        .string()
        .regex(/^[\w.-]{1,100}$/, 'a host name of letters, digits, ".", "_" or "-"')
        .default(os.hostname().replace(/[^\w.-]/g, '-') || 'localhost')
        .describe('Name of this host (hive worker --host); port allocations are unique per host'),
      HIVE_HOST_CPUS: z.coerce
        .number({ error: 'a number of cores' })
        .positive('a number of cores above 0')
        .optional()
        .describe(
          "Cores this host offers cells (placement subtracts their templates' resources.cpu); default: detected",
        ),
      HIVE_HOST_MEMORY_MB: z.coerce
        .number({ error: 'a number of MiB' })
        .int()
        .positive('a number of MiB above 0')
        .optional()
        .describe('MiB of memory this host offers cells; default: detected'),
      HIVE_HOST_HEARTBEAT_MS: z.coerce
        .number({ error: 'a number of milliseconds' })
        .int()
        .min(100)
        .default(DEFAULT_HOST_HEARTBEAT_MS)
        .describe("How often this host's worker records its heartbeat and free resources"),
      HIVE_HOST_GRACE_MS: z.coerce
        .number({ error: 'a number of milliseconds' })
        .int()
        .min(500)
        .default(DEFAULT_HOST_GRACE_MS)
        .describe('A host silent this long takes no new cells and is declared lost (its cells are told)'),
      HIVE_PRESERVE_FAILED_MS: z.coerce
        .number({ error: 'a number of milliseconds' })
        .int()
        .min(0)
        .default(24 * 60 * 60 * 1000)
        .describe('How long a preserved failed cell waits for retry or cancel before rolling back'),
      HIVE_SETUP_TIMEOUT_MS: z.coerce
        .number({ error: 'a number of milliseconds' })
        .int()
        .min(1)
        .default(DEFAULT_SETUP_TIMEOUT_MS)
        .describe('Bound on each setup and teardown command of a template'),
      HIVE_STOP_GRACE_MS: z.coerce
        .number({ error: 'a number of milliseconds' })
        .int()
        .min(0)
        .default(DEFAULT_STOP_GRACE_MS)
        .describe('Time a stopping service gets between SIGTERM and SIGKILL (and for its stop command)'),
      HIVE_LOG_MAX_MB: z.coerce
        .number({ error: 'a number of MiB' })
        .int()
        .min(1)
        .default(64)
        .describe("A service's log past this size is rotated to <log>.1 (one previous file kept)"),
      HIVE_IDLE_AFTER_MS: z.coerce
        .number({ error: 'a number of milliseconds' })
        .int()
        .min(1_000)
        .optional()
        .describe(
          'Suspend a live cell idle this long, unless its template sets its own `idle` (unset: never)',
        ),
      HIVE_IDLE_MODE: z
        .enum(['freeze', 'stop'])
        .default('freeze')
        .describe(
          'How this host suspends an idle cell by HIVE_IDLE_AFTER_MS: freeze its processes, or stop its services',
        ),
      HIVE_NOTIFY_RETRY_MS: z.coerce
        .number({ error: 'a number of milliseconds' })
        .int()
        .min(1)
        .default(DEFAULT_NOTIFY_RETRY_MS)
        .describe('First retry interval of a notification delivery; doubles up to 10 min, for 24 h'),
      HIVE_PASS_ENV: z
        .string()
        .optional()
        .refine(
          (text) =>
            (text ?? '')
              .split(',')
              .map((e) => e.trim())
              .filter(Boolean)
              .every((e) => PASS_ENV_ENTRY.test(e) && !e.startsWith('HIVE_')),
          'variable names or prefixes ending in * (not HIVE_*), comma-separated, e.g. CYPRESS_INSTALL_BINARY,PRISMA_*',
        )
        .describe("More of Hive's environment every cell's processes get, beyond the host's basics"),
      HIVE_NOTIFY_ALLOW: z
        .string()
        .optional()
        .superRefine((text, ctx) => {
          const { invalid } = parseNotifyAllowList(text);
          if (invalid.length) {
            ctx.addIssue({
              code: 'custom',
              message: `not an address, a CIDR range or a host name: ${invalid.join(', ')} (e.g. 127.0.0.1,10.0.0.0/8,hooks.internal)`,
            });
          }
        })
        .describe(
          'Webhook targets allowed although loopback, private or link-local (comma-separated addresses, CIDR ranges, host names); read by API and worker',
        ),
      HIVE_DEPS_CACHE_MAX_MB: z.coerce
        .number({ error: 'a number of MiB' })
        .int()
        .min(0)
        .default(DEFAULT_DEPS_CACHE_MAX_MB)
        .describe("Size a workspace's dependency cache is pruned to (least recently used entries go first)"),
      HIVE_DEPS_CACHE_MAX_AGE_DAYS: z.coerce
        .number({ error: 'a number of days' })
        .min(0)
        .default(DEFAULT_DEPS_CACHE_MAX_AGE_DAYS)
        .describe('Dependency cache entries unused for longer are pruned'),
      HIVE_LOG_LEVEL: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info')
        .describe('Log level of API and worker'),
      HIVE_TEMPORAL_PORT: port(7233).describe('gRPC port of the embedded Temporal dev server'),
      HIVE_TEMPORAL_UI_PORT: port(8233).describe('Web UI port of the embedded Temporal dev server'),
      TEMPORAL_ADDRESS: z
        .string()
        .regex(/^[^\s:]+:\d{1,5}$/, 'host:port, e.g. 127.0.0.1:7233')
        .optional()
        .describe('An existing Temporal server; when set, no dev server is started'),
      TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('Temporal namespace'),
      TEMPORAL_TASK_QUEUE: z
        .string()
        .min(1)
        .default('hive-cells')
        .describe('Task queue of the provisioning workflows and activities'),
      TEMPORAL_CLI_PATH: z.string().optional().describe('Path of a temporal CLI binary to use'),
      HIVE_WORKFLOW_BUNDLE: z
        .string()
        .optional()
        .transform((p) => p && path.resolve(cwd, p))
        .describe(
          "A prebuilt bundle of src/workflows (bundleWorkflowCode's code) the worker loads instead of bundling at start",
        ),
      DATABASE_URL: z
        .string()
        .regex(
          /^(file:|postgres(ql)?:\/\/)/i,
          'a SQLite URL such as file:/var/lib/hive/hive.db or a PostgreSQL URL such as postgresql://hive@db:5432/hive',
        )
        .optional()
        .describe(
          "Database of Hive's records: file: (SQLite) or postgresql://; default file:<HIVE_DATA_DIR>/hive.db",
        ),
    })
    .transform((env, ctx) => {
      // Without HIVE_WORKSPACES, the repository Hive is started in (from any of its folders).
      const here = env.HIVE_WORKSPACES === undefined ? repositoryOf(cwd) : undefined;
      const workspaces = here
        ? [{ id: defaultWorkspaceId(here), path: here }]
        : parseWorkspaces(env.HIVE_WORKSPACES ?? '', ctx, cwd);
      return {
        host: env.HIVE_HOST,
        port: env.HIVE_PORT,
        /** The cells' reverse proxy (src/proxy); undefined when HIVE_PROXY_PORT=off. */
        proxy:
          env.HIVE_PROXY_PORT === 'off'
            ? undefined
            : {
                host: env.HIVE_PROXY_HOST,
                // Next to the API's by default (0 stays 0: a free port, as the API's).
                port: env.HIVE_PROXY_PORT ?? (env.HIVE_PORT === 0 ? 0 : Math.min(env.HIVE_PORT + 1, 65535)),
                domain: env.HIVE_PROXY_DOMAIN,
                /** Set by HIVE_PROXY_PORT: a busy port stops start-up instead of another being taken. */
                fixed: env.HIVE_PROXY_PORT !== undefined,
              },
        dataDir: env.HIVE_DATA_DIR,
        workspaces,
        /**
         * `workspaces` is the repository Hive was started in, not HIVE_WORKSPACES: it is stored with
         * the workspaces added while running (src/config/workspaces.ts), so it stays registered.
         */
        workspacesFromCwd: here !== undefined,
        logLevel: env.HIVE_LOG_LEVEL,
        hostId: env.HIVE_HOST_ID,
        hosts: {
          cpus: env.HIVE_HOST_CPUS,
          memoryMb: env.HIVE_HOST_MEMORY_MB,
          heartbeatMs: env.HIVE_HOST_HEARTBEAT_MS,
          graceMs: env.HIVE_HOST_GRACE_MS,
        },
        preserveFailedForMs: env.HIVE_PRESERVE_FAILED_MS,
        setupTimeoutMs: env.HIVE_SETUP_TIMEOUT_MS,
        stopGraceMs: env.HIVE_STOP_GRACE_MS,
        notifyRetryMs: env.HIVE_NOTIFY_RETRY_MS,
        logMaxBytes: env.HIVE_LOG_MAX_MB * 1024 * 1024,
        idle:
          env.HIVE_IDLE_AFTER_MS === undefined
            ? undefined
            : IdlePolicy.parse({ afterMs: env.HIVE_IDLE_AFTER_MS, mode: env.HIVE_IDLE_MODE }),
        dependencyCache: {
          maxBytes: env.HIVE_DEPS_CACHE_MAX_MB * 1024 * 1024,
          maxAgeMs: env.HIVE_DEPS_CACHE_MAX_AGE_DAYS * 24 * 60 * 60 * 1000,
        },
        temporal: {
          address: env.TEMPORAL_ADDRESS,
          namespace: env.TEMPORAL_NAMESPACE,
          taskQueue: env.TEMPORAL_TASK_QUEUE,
          cliPath: env.TEMPORAL_CLI_PATH,
          workflowBundlePath: env.HIVE_WORKFLOW_BUNDLE,
          devServerPort: env.HIVE_TEMPORAL_PORT,
          devServerUiPort: env.HIVE_TEMPORAL_UI_PORT,
        },
        databaseUrl: env.DATABASE_URL ?? `file:${path.join(env.HIVE_DATA_DIR, 'hive.db')}`,
      };
    });
}

export type HiveConfig = z.output<ReturnType<typeof envSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Loads and validates configuration; a bad value throws one line per variable, naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): HiveConfig {
  const result = envSchema(cwd, env).safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const variable = issue.path.length > 0 ? String(issue.path[0]) : 'HIVE_WORKSPACES';
    const got = env[variable];
    return `${variable}: expected ${issue.message}${got === undefined ? '' : ` (got "${got}")`}`;
  });
  throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
}
