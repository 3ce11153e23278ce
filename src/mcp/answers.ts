// What Hive's MCP tools share: the cell id argument, the shape of an answer or a failure, the hand-off
// an agent reads of a cell, and the wait after an accepted action.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { cellIdPattern } from '../cells/ids.js';
import { liveStatuses, statusIn } from '../cells/status.js';
import { type CellDetail, type CellEvent, HiveApiError, type HiveClient } from '../client/index.js';

/** How long an action tool waits for the cell to leave the state it was accepted in. */
const LEAVE_WITHIN_MS = 10_000;

export const cellId = z
  .string()
  .regex(cellIdPattern, 'a cell id such as c0123456789a')
  .describe('The cell id');

/** A tool's answer: a first line for people, then the data as JSON (also as structured content). */
export function answer(summary: string, data: Record<string, unknown>): CallToolResult {
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

export const tool =
  <A>(run: (args: A, extra: ToolExtra) => Promise<CallToolResult>) =>
  async (args: A, extra: ToolExtra): Promise<CallToolResult> => {
    try {
      return await run(args, extra);
    } catch (error) {
      return failed(error);
    }
  };

export interface ToolExtra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification: (notification: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; total?: number; message?: string };
  }) => Promise<void>;
}

/** What an agent needs of a cell: where to work, what runs, what to read first, what went wrong. */
export async function handOff(hive: HiveClient, cell: CellDetail, withPrompt: boolean) {
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
    url: cell.url,
    services: cell.services.map((s) => ({
      name: s.name,
      status: s.status,
      port: s.port,
      url: s.url,
      publicUrl: s.publicUrl,
    })),
    promptFile: cell.prompt?.path ?? null,
    ...(withPrompt ? { prompt: cell.prompt?.content ?? null } : {}),
    failure: cell.failure,
    actions: cell.actions,
    progress: { step: cell.progress.currentStep, operation: cell.progress.operation },
    ...(worktree && env?.file && statusIn(liveStatuses, cell.status)
      ? { enter: `cd ${worktree} && set -a && . ./.hive/env && set +a` }
      : {}),
  };
}

export const describeCell = (cell: CellDetail) => {
  const urls = cell.services
    .map((s) => `${s.name} ${s.url ?? s.status}${s.publicUrl ? ` (stable: ${s.publicUrl})` : ''}`)
    .join(', ');
  if (cell.status === 'ready') {
    return `Cell ${cell.id} is ready in ${cell.worktreePath} (branch ${cell.branch})${urls ? `; services: ${urls}` : ''}. Read the prompt file first.`;
  }
  if (cell.failure) {
    return `Cell ${cell.id} is ${cell.status}: ${cell.failure.step} failed (${cell.failure.type}): ${cell.failure.message}${cell.failure.hint ? ` — ${cell.failure.hint}` : ''}`;
  }
  return `Cell ${cell.id} is ${cell.status}.`;
};

/** A line of progress for one event of the cell's stream (none for log lines). */
export function progressLine(event: CellEvent): string | undefined {
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
export async function leaving(hive: HiveClient, id: string, from: string): Promise<string> {
  const deadline = Date.now() + LEAVE_WITHIN_MS;
  for (;;) {
    const { status } = await hive.getCell(id);
    if (status !== from || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
