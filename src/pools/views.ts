// What the catalog shows of a template's warm pool.
import { z } from 'zod';
import { finalStatuses, provisioningStatuses, statusIn } from '../cells/status.js';
import type { Workspace } from '../config/env.js';
import type { Db } from '../db/client.js';
import { resolveCommit } from '../templates/hostChecks.js';
import type { Template } from '../templates/schema.js';
import { poolKey, poolSize } from './key.js';

export const PoolView = z
  .object({
    size: z.number().int().describe('Cells the pool keeps ready (0: off, or an option has no default)'),
    ready: z.number().int().describe('Ready at the current base commit and template: a request gets one now'),
    warming: z.number().int().describe('Being provisioned for the pool'),
    claimed: z.number().int().describe("Cells that served a request (their records are the requests')"),
    recycling: z
      .number()
      .int()
      .describe('Stale (the base commit or template changed), broken or surplus: being let go'),
  })
  .nullable()
  .describe('Warm pool (`pool: { size }` in the template); null when it has none');
export type PoolView = z.infer<typeof PoolView>;

export async function poolView(db: Db, workspace: Workspace, template: Template): Promise<PoolView> {
  if (!template.pool) return null;
  const head = await resolveCommit(workspace.path, 'HEAD');
  const key = head ? poolKey(template, head) : undefined;
  const cells = await db.cell.findMany({
    where: { workspaceId: workspace.id, templateId: template.id, poolState: { not: null } },
    select: { status: true, poolState: true, poolKey: true },
  });
  const view = { size: poolSize(template), ready: 0, warming: 0, claimed: 0, recycling: 0 };
  for (const cell of cells) {
    if (cell.poolState === 'claimed') view.claimed++;
    else if (cell.poolState === 'recycled') {
      if (!(finalStatuses as readonly string[]).includes(cell.status)) view.recycling++;
    } else if (cell.poolKey !== key) view.recycling++;
    else if (cell.status === 'ready') view.ready++;
    else if (statusIn(provisioningStatuses, cell.status)) view.warming++;
    else view.recycling++;
  }
  return view;
}
