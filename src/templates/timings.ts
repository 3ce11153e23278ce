import type { Db } from '../db/client.js';

export interface MeasuredTiming {
  samples: number;
  p50Seconds: number;
  p95Seconds: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** How long provisioning took for the last `window` ready cells of a template (null when none). */
export async function measuredProvisioning(
  db: Db,
  workspaceId: string,
  templateId: string,
  window = 200,
): Promise<MeasuredTiming | null> {
  const cells = await db.cell.findMany({
    // Cold provisioning only: a cell claimed from a warm pool was ready in a moment.
    where: {
      workspaceId,
      templateId,
      readyAt: { not: null },
      OR: [{ poolState: null }, { poolState: { not: 'claimed' } }],
    },
    select: { createdAt: true, readyAt: true },
    orderBy: { readyAt: 'desc' },
    take: window,
  });
  if (cells.length === 0) return null;
  const seconds = cells
    .map((c) => ((c.readyAt?.getTime() ?? 0) - c.createdAt.getTime()) / 1000)
    .sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    samples: seconds.length,
    p50Seconds: round(percentile(seconds, 50)),
    p95Seconds: round(percentile(seconds, 95)),
  };
}
