import type { Db } from '../db/client.js';
import { cellPublicUrl, type ProxyAddress, servicePublicUrl } from '../proxy/names.js';
import {
  ArchiveColumn,
  FailureColumn,
  OptionsColumn,
  readColumn,
  readNotifyColumn,
  readStepDetail,
  SuspendedColumn,
} from './columns.js';
import { estimateEta } from './eta.js';
import { displayUrl } from './notifications.js';
import { type CellAccepted, type CellDetail, type CellRecord, CellStatus } from './schema.js';
import { allowedActions } from './status.js';

type CellRow = NonNullable<Awaited<ReturnType<Db['cell']['findUnique']>>>;

const poolStateOf = (state: string | null) =>
  state === 'pooled' || state === 'claimed' || state === 'recycled' ? state : null;

/** The answer to an accepted request or action: the cell and its state when it was accepted. */
export const toAccepted = (cell: { id: string; status: string; workflowId: string }): CellAccepted => ({
  id: cell.id,
  status: CellStatus.parse(cell.status),
  workflowId: cell.workflowId,
});

/** `url`: the cell's main service through the proxy, when there is one (src/proxy). */
export function toRecord(cell: CellRow, url: string | null = null): CellRecord {
  return {
    id: cell.id,
    name: cell.name,
    workspaceId: cell.workspaceId,
    templateId: cell.templateId,
    status: CellStatus.parse(cell.status),
    workflowId: cell.workflowId,
    brief: cell.brief,
    pool: poolStateOf(cell.poolState),
    createdAt: cell.createdAt.toISOString(),
    updatedAt: cell.updatedAt.toISOString(),
    url,
  };
}

/** Where the cell's events go, as the API shows it: never the secret, only whether there is one. */
function notifyView(notify: string | null, signed: boolean): CellDetail['notify'] {
  const target = readNotifyColumn(notify);
  if (!target) return null;
  return 'url' in target ? { url: displayUrl(target.url), signed } : target;
}

/** A cell with everything a person needs to follow or debug it. */
export async function cellDetail(
  db: Db,
  id: string,
  declaredSeconds?: (workspaceId: string, templateId: string) => Promise<number | undefined>,
  proxy?: ProxyAddress,
): Promise<CellDetail | undefined> {
  const cell = await db.cell.findUnique({
    where: { id },
    include: {
      steps: { orderBy: { startedAt: 'asc' } },
      ports: { orderBy: { createdAt: 'asc' } },
      services: { orderBy: { name: 'asc' } },
      prompt: true,
      notifications: { orderBy: { createdAt: 'asc' } },
    },
  });
  if (!cell) return undefined;
  const status = CellStatus.parse(cell.status);
  const running = cell.steps.filter((s) => s.status === 'running' && s.kind === 'forward').at(-1);
  const provisioning = status === 'pending' || status === 'provisioning';
  const eta = provisioning
    ? await estimateEta(db, cell, cell.steps, await declaredSeconds?.(cell.workspaceId, cell.templateId))
    : null;
  return {
    ...toRecord(
      cell,
      proxy && cell.services.some((s) => s.port !== null) ? cellPublicUrl(proxy, cell.id) : null,
    ),
    worktreePath: cell.worktreePath,
    branch: cell.branch,
    host: cell.host,
    baseRef: cell.baseRef,
    options: readColumn('Cell.options', OptionsColumn, cell.options),
    steps: cell.steps.map((s) => ({
      name: s.name,
      kind: s.kind === 'compensation' ? 'compensation' : 'forward',
      status: s.status,
      attempt: s.attempt,
      operation: s.operation,
      detail: readStepDetail(s.detail),
      startedAt: s.startedAt.toISOString(),
      endedAt: s.endedAt?.toISOString() ?? null,
    })),
    ports: cell.ports.map((p) => ({
      service: p.service,
      name: p.name,
      port: p.port,
      active: p.activeKey !== null,
    })),
    services: cell.services.map((s) => ({
      name: s.name,
      status: s.status,
      pid: s.pid,
      port: s.port,
      url: s.url,
      publicUrl: proxy && s.port !== null ? servicePublicUrl(proxy, cell.id, s.name) : null,
      logPath: s.logPath,
      exitCode: s.exitCode,
    })),
    prompt: cell.prompt ? { path: cell.prompt.path, content: cell.prompt.content } : null,
    failure: cell.failure ? readColumn('Cell.failure', FailureColumn, cell.failure) : null,
    suspended: cell.suspended ? readColumn('Cell.suspended', SuspendedColumn, cell.suspended) : null,
    archive: cell.archive ? readColumn('Cell.archive', ArchiveColumn, cell.archive) : null,
    notify: notifyView(cell.notify, cell.notifySecret !== null),
    notifications: cell.notifications.map((n) => ({
      id: n.id,
      event: n.event,
      target: n.target,
      state: n.deliveredAt ? 'delivered' : n.failedAt ? 'failed' : 'pending',
      attempts: n.attempts,
      lastError: n.lastError,
      lastAttemptAt: n.lastAttemptAt?.toISOString() ?? null,
      deliveredAt: n.deliveredAt?.toISOString() ?? null,
      failedAt: n.failedAt?.toISOString() ?? null,
      createdAt: n.createdAt.toISOString(),
    })),
    actions: allowedActions[status],
    progress: { currentStep: running?.name ?? null, operation: running?.operation ?? null, eta },
  };
}
