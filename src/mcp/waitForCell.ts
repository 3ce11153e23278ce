// The wait_for_cell tool: follows a cell's event stream until it rests (or one of the asked
// statuses), reporting progress as MCP notifications, and answers with the hand-off.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { CellStatus } from '../cells/schema.js';
import type { CellDetail, HiveClient } from '../client/index.js';
import { answer, cellId, describeCell, handOff, progressLine, tool } from './answers.js';

/** How long wait_for_cell waits by default before answering "not yet" (call it again then). */
const DEFAULT_WAIT_SECONDS = 300;
/** A progress notification at least this often while waiting: clients that reset their timeout on progress keep waiting. */
const PROGRESS_EVERY_MS = 10_000;

/** Registers wait_for_cell on `server`, acting through `hive`. */
export function registerWaitForCell(server: McpServer, hive: HiveClient): void {
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
}
