// Hive's tools for agent runners, over MCP: the same server behind `hive mcp` (stdio) and the API's
// `/mcp` (streamable HTTP). Every tool is a call of Hive's public HTTP API through the typed client
// (src/client), so a tool can do exactly what its caller's token may do, and no more.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { CellRequest, CellStatus } from '../cells/schema.js';
import { type CellDetail, type CellEvent, HiveApiError, type HiveClient } from '../client/index.js';
import { packageRoot } from '../config/paths.js';

const version = (
  JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/** How long wait_for_cell waits by default before answering "not yet" (call it again then). */
const DEFAULT_WAIT_SECONDS = 300;
/** How long an action tool waits for the cell to leave the state it was accepted in. */
const LEAVE_WITHIN_MS = 10_000;
/** A progress notification at least this often while waiting: clients that reset their timeout on progress keep waiting. */
const PROGRESS_EVERY_MS = 10_000;

const cellId = z
  .string()
  .regex(/^c[0-9a-z]{11}$/, 'a cell id such as c0123456789a')
  .describe('The cell id');

/** A tool's answer: a first line for people, then the data as JSON (also as structured content). */
function answer(summary: string, data: Record<string, unknown>): CallToolResult {
  return {
    content: [{ type: 'text', text: `${summary}\n\n${JSON.stringify(data, null, 2)}` }],
    structuredContent: data,
  };
}

/** A refused or failed call, as a tool error the agent can read and act on. */
function failed(error: unknown): CallToolResult {
  let text = error instanceof Error ? error.message : String(error);
  if (error instanceof HiveApiError) {
    const details = [
      ...error.errors.map((e) => `${e.pointer}: ${e.detail}`),
      ...error.findings
        .filter((f) => f.severity === 'error')
        .map((f) => `${f.path}: ${f.message}${f.hint ? ` (${f.hint})` : ''}`),
      error.currentState
        ? `state: ${error.currentState}; allowed: ${error.allowedActions?.join(', ') || 'none'}`
        : '',
    ].filter(Boolean);
    text = [`${error.status} ${text}`, ...details].join('\n');
  }
  return { isError: true, content: [{ type: 'text', text }] };
}

const tool =
  <A>(run: (args: A, extra: ToolExtra) => Promise<CallToolResult>) =>
  async (args: A, extra: ToolExtra): Promise<CallToolResult> => {
    try {
      return await run(args, extra);
    } catch (error) {
      return failed(error);
    }
  };

interface ToolExtra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification: (notification: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; total?: number; message?: string };
  }) => Promise<void>;
}

/** What an agent needs of a cell: where to work, what runs, what to read first, what went wrong. */
async function handOff(hive: HiveClient, cell: CellDetail, withPrompt: boolean) {
  const env = await hive.cellEnv(cell.id).catch(() => undefined);
  const worktree = cell.worktreePath;
  return {
    id: cell.id,
    name: cell.name,
    status: cell.status,
    workspace: cell.workspaceId,
    template: cell.templateId,
    worktree,
    branch: cell.branch,
    envFile: env?.file ?? null,
    env: (env?.variables ?? []).map((v) => v.name),
    services: cell.services.map((s) => ({ name: s.name, status: s.status, port: s.port, url: s.url })),
    promptFile: cell.prompt?.path ?? null,
    ...(withPrompt ? { prompt: cell.prompt?.content ?? null } : {}),
    failure: cell.failure,
    actions: cell.actions,
    progress: { step: cell.progress.currentStep, operation: cell.progress.operation },
    ...(worktree && env?.file && (cell.status === 'ready' || cell.status === 'degraded')
      ? { enter: `cd ${worktree} && set -a && . ./.hive/env && set +a` }
      : {}),
  };
}

const describeCell = (cell: CellDetail) => {
  const urls = cell.services.map((s) => `${s.name} ${s.url ?? s.status}`).join(', ');
  if (cell.status === 'ready') {
    return `Cell ${cell.id} is ready in ${cell.worktreePath} (branch ${cell.branch})${urls ? `; services: ${urls}` : ''}. Read the prompt file first.`;
  }
  if (cell.failure) {
    return `Cell ${cell.id} is ${cell.status}: ${cell.failure.step} failed (${cell.failure.type}): ${cell.failure.message}${cell.failure.hint ? ` — ${cell.failure.hint}` : ''}`;
  }
  return `Cell ${cell.id} is ${cell.status}.`;
};

/** A line of progress for one event of the cell's stream (none for log lines). */
function progressLine(event: CellEvent): string | undefined {
  if (event.event === 'status') return `status: ${event.data.status}`;
  if (event.event === 'step' && event.data.kind === 'forward') {
    return `${event.data.name} ${event.data.status}${event.data.attempt > 1 ? ` (attempt ${event.data.attempt})` : ''}`;
  }
  if (event.event === 'operation') return `${event.data.step}: ${event.data.operation}`;
  return undefined;
}

/**
 * After an accepted action, the cell's record still shows the state it was accepted in until its
 * workflow acts (a retried cell shows failed, an archived one ready, for a moment). Waiting for that
 * to change here means a wait_for_cell right after returns when the action is done, not at once.
 */
async function leaving(hive: HiveClient, id: string, from: string): Promise<string> {
  const deadline = Date.now() + LEAVE_WITHIN_MS;
  for (;;) {
    const { status } = await hive.getCell(id);
    if (status !== from || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The MCP server with Hive's tools, acting through `hive` (one client: its URL and its caller's token). */
export function createHiveMcpServer(hive: HiveClient): McpServer {
  const server = new McpServer(
    { name: 'hive-cells', title: 'Hive cells', version },
    {
      instructions:
        'Hive provisions isolated cells for coding agents: a git worktree on its own branch, services on their own ports, an environment file and an assembled task prompt. To get a place to work: list_templates, then create_cell (returns at once), then wait_for_cell (returns when ready or failed). Work in the worktree it names, with the variables of .hive/env, starting from the prompt in .hive/prompt.md. archive_cell when done: the work is saved, never lost.',
    },
  );

  server.registerTool(
    'list_templates',
    {
      title: 'List templates',
      description:
        'The templates cells can be made from, per workspace: what each provides (services, options) and how long it usually takes.',
      inputSchema: z.object({
        workspace: z.string().optional().describe('Only this workspace (default: every workspace)'),
      }),
      annotations: { readOnlyHint: true },
    },
    tool(async ({ workspace }: { workspace?: string }) => {
      const workspaces = workspace ? [workspace] : (await hive.listWorkspaces()).map((w) => w.id);
      const templates = (
        await Promise.all(
          workspaces.map(async (w) => (await hive.listTemplates(w)).map((t) => ({ workspace: w, ...t }))),
        )
      ).flat();
      return answer(`${templates.length} template(s) in ${workspaces.join(', ') || 'no workspace'}.`, {
        templates,
      });
    }),
  );

  server.registerTool(
    'create_cell',
    {
      title: 'Create a cell',
      description:
        'Requests a cell (worktree + services + env + prompt) for a task from a template, and returns its id at once; provisioning goes on in Hive. Follow it with wait_for_cell. A template that cannot work here is refused with the reasons.',
      inputSchema: CellRequest.extend({
        idempotencyKey: z
          .string()
          .regex(/^[\x21-\x7e]{1,200}$/)
          .optional()
          .describe('The same key returns the same cell instead of a second one (safe to retry)'),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    tool(async ({ idempotencyKey, ...request }: CellRequest & { idempotencyKey?: string }) => {
      const accepted = await hive.createCell(request, { idempotencyKey });
      return answer(
        `Cell ${accepted.id} requested (${accepted.status}). Call wait_for_cell with its id next.`,
        {
          ...accepted,
        },
      );
    }),
  );

  server.registerTool(
    'wait_for_cell',
    {
      title: 'Wait for a cell',
      description:
        'Waits until the cell rests (ready, failed, rolled back, cancelled, archived), sending progress notifications on the way, and returns it: worktree, branch, service URLs, env variable names, the prompt, or the failure with its hint. If it has not settled after timeoutSeconds, returns its current state; call again.',
      inputSchema: z.object({
        id: cellId,
        until: z
          .array(CellStatus)
          .min(1)
          .optional()
          .describe(
            'Wait for one of these statuses only, e.g. ["ready"] (default: any resting status: ready, degraded, failed, lost, rolled_back, cancelled, archived, cleanup_failed)',
          ),
        timeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(3_600)
          .default(DEFAULT_WAIT_SECONDS)
          .describe('Answer with the current state after this long'),
      }),
      annotations: { readOnlyHint: true },
    },
    tool(
      async (
        { id, until, timeoutSeconds }: { id: string; until?: string[]; timeoutSeconds: number },
        extra,
      ) => {
        const token = extra._meta?.progressToken;
        let progress = 0;
        let last = '';
        const report = (message: string) => {
          last = message;
          if (token === undefined) return;
          progress++;
          void extra
            .sendNotification({
              method: 'notifications/progress',
              params: { progressToken: token, progress, message },
            })
            .catch(() => undefined);
        };
        const started = Date.now();
        const ticker = setInterval(
          () => report(`${last || 'waiting'} (${Math.round((Date.now() - started) / 1000)} s)`),
          PROGRESS_EVERY_MS,
        );
        const timeout = AbortSignal.timeout(timeoutSeconds * 1000);
        try {
          const cell = await hive.waitForCell(id, {
            signal: AbortSignal.any([timeout, extra.signal]),
            ...(until ? { done: (cell: CellDetail) => until.includes(cell.status) } : {}),
            onEvent: (event) => {
              const line = progressLine(event);
              if (line) report(line);
            },
          });
          return answer(describeCell(cell), await handOff(hive, cell, true));
        } catch (error) {
          if (!timeout.aborted) throw error;
          const cell = await hive.getCell(id);
          return answer(
            `Cell ${id} is still ${cell.status} after ${timeoutSeconds} s${cell.progress.operation ? ` (${cell.progress.operation})` : ''}; call wait_for_cell again.`,
            await handOff(hive, cell, false),
          );
        } finally {
          clearInterval(ticker);
        }
      },
    ),
  );

  server.registerTool(
    'get_cell',
    {
      title: 'Get a cell',
      description:
        "A cell's state: status, worktree, branch, service URLs, env variable names (values are in the worktree's .hive/env), the prompt, any failure, and what it allows now.",
      inputSchema: z.object({
        id: cellId,
        prompt: z.boolean().default(true).describe('Include the prompt text'),
      }),
      annotations: { readOnlyHint: true },
    },
    tool(async ({ id, prompt }: { id: string; prompt: boolean }) => {
      const cell = await hive.getCell(id);
      return answer(describeCell(cell), await handOff(hive, cell, prompt));
    }),
  );

  server.registerTool(
    'list_cells',
    {
      title: 'List cells',
      description: 'Cells, newest first, optionally of one workspace or in one status.',
      inputSchema: z.object({
        workspace: z.string().optional(),
        status: z.string().optional().describe('e.g. ready, failed'),
        limit: z.number().int().min(1).max(200).default(20),
      }),
      annotations: { readOnlyHint: true },
    },
    tool(async (filter: { workspace?: string; status?: string; limit: number }) => {
      const cells = await hive.listCells(filter as Parameters<HiveClient['listCells']>[0]);
      return answer(`${cells.length} cell(s).`, { cells });
    }),
  );

  server.registerTool(
    'service_logs',
    {
      title: 'Service logs',
      description: "The last lines of one service's log in a cell (known secret values masked).",
      inputSchema: z.object({
        id: cellId,
        service: z.string().min(1).describe('The service name, as get_cell lists it'),
        lines: z.number().int().min(1).max(5_000).default(200),
      }),
      annotations: { readOnlyHint: true },
    },
    tool(async ({ id, service, lines }: { id: string; service: string; lines: number }) => {
      const logs = await hive.serviceLogs(id, service, { lines });
      return {
        content: [
          {
            type: 'text',
            text: `${service} (${logs.lines.length} line(s)${logs.logPath ? `, ${logs.logPath}` : ''}):\n${logs.lines.join('\n')}`,
          },
        ],
        structuredContent: { ...logs },
      };
    }),
  );

  server.registerTool(
    'restart_service',
    {
      title: 'Restart a service',
      description: 'Stops and starts one service of a ready cell, then waits for it to be ready again.',
      inputSchema: z.object({ id: cellId, service: z.string().min(1) }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
    },
    tool(async ({ id, service }: { id: string; service: string }) => {
      const accepted = await hive.serviceAction(id, service, 'restart');
      return answer(`Restart of ${service} in cell ${id} requested; get_cell shows when it is ready again.`, {
        ...accepted,
      });
    }),
  );

  server.registerTool(
    'archive_cell',
    {
      title: 'Archive a cell',
      description:
        "Ends a cell: services stopped, the worktree's uncommitted and untracked work saved to refs/hive/archive/<id> (unless discard), worktree removed, ports released. Returns once the archive has begun; wait_for_cell follows it to archived.",
      inputSchema: z.object({
        id: cellId,
        discard: z
          .boolean()
          .default(false)
          .describe("Drop the worktree's uncommitted work instead of saving it"),
      }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
    },
    tool(async ({ id, discard }: { id: string; discard: boolean }) => {
      const before = (await hive.getCell(id)).status;
      const accepted = await hive.archive(id, { discard });
      const status = await leaving(hive, id, before);
      return answer(
        `Cell ${id} is ${status}${discard ? ' (work discarded)' : ''}; wait_for_cell follows it.`,
        {
          ...accepted,
          status,
        },
      );
    }),
  );

  for (const [name, action, text] of [
    [
      'retry_cell',
      'retry',
      'Resumes a failed (preserved) cell at its failed step, after you fixed the cause.',
    ],
    ['cancel_cell', 'cancel', 'Cancels provisioning and rolls the cell back, or rolls back a failed cell.'],
  ] as const) {
    server.registerTool(
      name,
      {
        title: `${action === 'retry' ? 'Retry' : 'Cancel'} a cell`,
        description: `${text} Returns once it has begun; wait_for_cell follows it.`,
        inputSchema: z.object({ id: cellId }),
        annotations: { readOnlyHint: false, destructiveHint: action === 'cancel' },
      },
      tool(async ({ id }: { id: string }) => {
        const before = (await hive.getCell(id)).status;
        const accepted = action === 'retry' ? await hive.retry(id) : await hive.cancel(id);
        const status = await leaving(hive, id, before);
        return answer(`Cell ${id}: ${action} accepted, now ${status}; wait_for_cell follows it.`, {
          ...accepted,
          status,
        });
      }),
    );
  }

  return server;
}
