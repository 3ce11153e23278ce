// Hive's tools for agent runners, over MCP: the same server behind `hive mcp` (stdio) and the API's
// `/mcp` (streamable HTTP). Every tool is a call of Hive's public HTTP API through the typed client
// (src/client), so a tool can do exactly what its caller's token may do, and no more.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { CellRequest, IdempotencyKey } from '../cells/schema.js';
import type { HiveClient } from '../client/index.js';
import { packageRoot } from '../config/paths.js';
import { answer, cellId, describeCell, handOff, leaving, tool } from './answers.js';
import { registerWaitForCell } from './waitForCell.js';

const version = (
  JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }
).version;

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
        idempotencyKey: IdempotencyKey.optional().describe(
          'The same key returns the same cell instead of a second one (safe to retry)',
        ),
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

  registerWaitForCell(server, hive);

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
    [
      'resume_cell',
      'resume',
      'Wakes a suspended (idle) cell: its processes thawed, or its services started again.',
    ],
  ] as const) {
    server.registerTool(
      name,
      {
        title: `${{ retry: 'Retry', cancel: 'Cancel', resume: 'Wake' }[action]} a cell`,
        description: `${text} Returns once it has begun; wait_for_cell follows it.`,
        inputSchema: z.object({ id: cellId }),
        annotations: { readOnlyHint: false, destructiveHint: action === 'cancel' },
      },
      tool(async ({ id }: { id: string }) => {
        const before = (await hive.getCell(id)).status;
        const accepted = await hive[action](id);
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
