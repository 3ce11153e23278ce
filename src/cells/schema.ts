import '../config/zodMessages.js';
import { z } from 'zod';
import { HostId } from '../hosts/schema.js';
import { Failure } from './failure.js';
import { cellIdPattern } from './ids.js';
import { NotifyTarget } from './notifyTargetSchema.js';
import { cellActions, cellStatuses, notifiedStatuses } from './status.js';

/** Names that end up in paths, branch names and shells elsewhere: a conservative slug. */
const slug = z
  .string()
  .regex(
    /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/,
    'letters, digits, ".", "_" or "-" (1-63 characters, starting with a letter or digit)',
  );

// The notify target (its shape and its checks) is in notifyTargetSchema.ts; re-exported with the rest.
export { NotifyTarget, StoredNotifyTarget } from './notifyTargetSchema.js';

export const CellRequest = z
  .object({
    workspace: slug.describe('Id of a registered workspace (see GET /workspaces)'),
    template: slug.describe('Id of a template defined in the workspace'),
    brief: z.string().trim().min(1, 'must not be empty').max(20_000).describe('The task for the agent'),
    name: slug.optional().describe('A human-friendly name; defaults to the cell id'),
    onFailure: z
      .enum(['preserve', 'rollback'])
      .default('preserve')
      .describe(
        'On a provisioning failure: keep the cell for inspection, retry or cancel; or roll back at once',
      ),
    constraints: z
      .array(z.string().min(1).max(2_000))
      .max(50)
      .default([])
      .describe('Rules the agent must follow'),
    successCriteria: z
      .array(z.string().min(1).max(2_000))
      .max(50)
      .default([])
      .describe('How the agent knows it is done'),
    options: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Template options (GET /templates/:id shows their schema)'),
    baseRef: z
      .string()
      .regex(
        /^(?!-)(?!.*\.\.)[A-Za-z0-9._/@^~-]{1,200}$/,
        'a branch, tag or commit: letters, digits and . _ / @ ^ ~ - (no "..", no leading "-")',
      )
      .optional()
      .describe("Where the cell's branch starts; default the workspace's HEAD"),
    notify: NotifyTarget.optional().describe(
      'Tell an agent runner when the cell is ready, failed, cancelled or archived: a webhook or a Temporal signal',
    ),
    host: HostId.optional().describe(
      'Provision on this host (GET /hosts); default: the live host with the workspace and the most headroom',
    ),
  })
  .strict();
export type CellRequest = z.infer<typeof CellRequest>;

export const CellStatus = z.enum(cellStatuses);

export const CellRecord = z.object({
  id: z.string(),
  name: z.string(),
  workspaceId: z.string(),
  templateId: z.string(),
  status: CellStatus,
  workflowId: z.string(),
  brief: z.string(),
  pool: z
    .enum(['pooled', 'claimed', 'recycled'])
    .nullable()
    .describe(
      "Warm pools: `pooled` while the cell waits in its template's pool (no brief yet), `claimed` once a request was served with it, `recycled` when the pool let it go; null for a cell provisioned for its request",
    ),
  createdAt: z.string().describe('ISO 8601'),
  updatedAt: z.string().describe('ISO 8601'),
  url: z
    .string()
    .nullable()
    .describe(
      "The cell's main service through Hive's proxy, http://<cell>.localhost:<port> (docs/proxy.md); null when no proxy runs or no service has a port",
    ),
});
export type CellRecord = z.infer<typeof CellRecord>;

export const StepView = z.object({
  name: z.string(),
  kind: z.enum(['forward', 'compensation']),
  status: z.string(),
  attempt: z.number().int(),
  operation: z.string().nullable().describe('What the step is doing right now'),
  detail: z.unknown().describe('Result summary, or the error of a failed step'),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
});

export { Failure, type FailureDetails, Residue } from './failure.js';

/** Files of a worktree that are a person's work (not what the template's setup produced). */
export const WorkFiles = z.object({
  modified: z.array(z.string()).describe('Tracked files changed since the last commit'),
  deleted: z.array(z.string()).describe('Tracked files removed since the last commit'),
  untracked: z.array(z.string()),
  ignored: z.array(z.string()).describe('Gitignored files and folders created after the cell was ready'),
  staged: z
    .array(z.string())
    .optional()
    .describe('Paths whose staged content (the index) differs from HEAD; saved as the index was'),
});
export type WorkFiles = z.infer<typeof WorkFiles>;

/** What removing a worktree kept (or, with discard, dropped) of the work in it. */
export const ArchiveRecord = z.object({
  ref: z
    .string()
    .nullable()
    .describe('Where the work was saved, e.g. refs/hive/archive/<cell-id>; null when nothing needed saving'),
  commit: z.string().nullable().describe('The commit at ref: HEAD plus every saved file'),
  branch: z.string(),
  baseCommit: z.string(),
  headCommit: z.string().describe('HEAD of the worktree when it was removed'),
  detached: z.boolean().describe('HEAD was detached; its commits are kept through the saved commit'),
  headBranch: z
    .string()
    .nullable()
    .optional()
    .describe('The branch HEAD was on (the agent may have made its own); restore checks it out again'),
  index: z
    .string()
    .nullable()
    .optional()
    .describe('A commit of the staged index (second parent of commit), when something was staged'),
  commits: z
    .number()
    .int()
    .describe("Commits beyond the base on the cell's branch and on the branch HEAD was on (both are kept)"),
  saved: WorkFiles.nullable(),
  discarded: WorkFiles.nullable().describe('Set only when archived with discard=true: what was dropped'),
  at: z.string(),
});
export type ArchiveRecord = z.infer<typeof ArchiveRecord>;

/** The event a cell's notify target receives (the webhook's body, the signal's argument). */
export const CellNotification = z.object({
  id: z.string().describe('The delivery id: the same on every retry of one event (deduplicate on it)'),
  event: z.enum(notifiedStatuses).describe('The status the cell came to rest in'),
  occurredAt: z.string().describe('ISO 8601'),
  cell: z.object({
    id: z.string(),
    name: z.string(),
    status: CellStatus.describe('The same as event'),
    workspace: z.string(),
    template: z.string(),
    worktree: z.string().nullable().describe('Absolute path of the worktree'),
    branch: z.string().nullable(),
    envFile: z
      .string()
      .nullable()
      .describe('Absolute path of <worktree>/.hive/env when it exists (docs/handoff.md has its format)'),
    promptFile: z.string().nullable().describe('Absolute path of <worktree>/.hive/prompt.md when it exists'),
    services: z.array(
      z.object({
        name: z.string(),
        status: z.string(),
        port: z.number().int().nullable(),
        url: z.string().nullable(),
      }),
    ),
    href: z.string().describe("The cell's resource in the API, e.g. /cells/c0123456789a"),
  }),
  failure: Failure.nullable().describe('Why, for failed, rolled_back and cleanup_failed'),
});
export type CellNotification = z.infer<typeof CellNotification>;

/** One event for a cell's notify target and how its delivery went. */
export const NotificationView = z.object({
  id: z.string().describe('Delivery id; also the id of the Temporal workflow that delivers it'),
  event: z.string(),
  target: z.string().describe('The URL (without credentials), or workflow:<id>#<signal>'),
  state: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable().describe('Why the last attempt failed, e.g. "HTTP 503"'),
  lastAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  failedAt: z.string().nullable().describe('When Hive gave up (refused by the receiver, or retries ran out)'),
  createdAt: z.string(),
});
export type NotificationView = z.infer<typeof NotificationView>;

/** Why and since when a cell is suspended, and how (docs/lifecycle.md#idle-cells); `Cell.suspended`. */
export const Suspension = z.object({
  since: z.string().describe('When it was suspended (ISO 8601)'),
  why: z.string().describe('What the supervisor saw: how long nothing went on'),
  mode: z.enum(['freeze', 'stop']).describe('Its processes frozen (memory kept), or its services stopped'),
  fallback: z.string().optional().describe('Why it was stopped when its policy said freeze'),
});
export type Suspension = z.infer<typeof Suspension>;

export const CellDetail = CellRecord.extend({
  worktreePath: z.string().nullable(),
  branch: z.string().nullable(),
  host: z.string().nullable(),
  baseRef: z.string(),
  options: z.record(z.string(), z.unknown()),
  steps: z.array(StepView),
  ports: z.array(
    z.object({ service: z.string(), name: z.string(), port: z.number().int(), active: z.boolean() }),
  ),
  services: z.array(
    z.object({
      name: z.string(),
      status: z.string(),
      pid: z.number().int().nullable(),
      port: z.number().int().nullable(),
      url: z.string().nullable(),
      publicUrl: z
        .string()
        .nullable()
        .describe(
          "Through Hive's proxy, stable across restarts: http://<service>.<cell>.localhost:<port> (docs/proxy.md)",
        ),
      logPath: z.string().nullable(),
      exitCode: z.number().int().nullable(),
    }),
  ),
  prompt: z.object({ path: z.string(), content: z.string() }).nullable(),
  failure: Failure.nullable(),
  suspended: Suspension.nullable().describe(
    'Set while the cell is suspended for being idle; a request through its URLs or POST /cells/:id/resume wakes it',
  ),
  archive: ArchiveRecord.nullable().describe(
    'What the last removal of the worktree saved and where (POST /cells/:id/restore brings it back)',
  ),
  notify: z
    .union([
      z.object({ url: z.string(), signed: z.boolean() }),
      z.object({ workflowId: z.string(), signal: z.string() }),
    ])
    .nullable()
    .describe("Where the cell's events go (never the secret)"),
  notifications: z.array(NotificationView).describe('Events sent to notify, oldest first'),
  actions: z.array(z.enum(cellActions)).describe('What the current state allows'),
  progress: z.object({
    currentStep: z.string().nullable(),
    operation: z
      .string()
      .nullable()
      .describe('e.g. "waiting for api readiness: http GET /health → 503, try 4"'),
    eta: z
      .object({
        basis: z.enum(['measured', 'declared', 'none']),
        samples: z.number().int(),
        steps: z.array(
          z.object({ name: z.string(), expectedSeconds: z.number(), remainingSeconds: z.number() }),
        ),
        totalSeconds: z.number().nullable(),
        remainingSeconds: z.number().nullable(),
      })
      .nullable()
      .describe('While provisioning: from past cells of the template (median), else its declared estimate'),
  }),
});
export type CellDetail = z.infer<typeof CellDetail>;

/** The answer to a request or an action: the cell, and its state when the request was accepted. */
export const CellAccepted = z.object({
  id: z.string(),
  status: CellStatus.describe('The state when the request was accepted; follow GET /cells/:id'),
  workflowId: z.string(),
});
export type CellAccepted = z.infer<typeof CellAccepted>;

export const CellIdParams = z.object({
  id: z.string().regex(cellIdPattern, 'a cell id such as c0123456789a'),
});

/** An Idempotency-Key (header of POST /cells, argument of MCP's create_cell): one key, one cell. */
export const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, '1-200 visible ASCII characters');
