import type { Db } from '../db/client.js';

export interface StepEstimate {
  name: string;
  expectedSeconds: number;
  remainingSeconds: number;
}

export interface Eta {
  basis: 'measured' | 'declared' | 'none';
  samples: number;
  steps: StepEstimate[];
  totalSeconds: number | null;
  remainingSeconds: number | null;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const round = (n: number) => Math.round(n * 10) / 10;

interface CurrentStep {
  name: string;
  kind: string;
  status: string;
  startedAt: Date;
}

/**
 * How long provisioning should still take: per step and in total, from the median durations of the
 * last ready cells of the same template; without history, from the template's declared estimate.
 */
export async function estimateEta(
  db: Db,
  cell: { id: string; workspaceId: string; templateId: string; createdAt: Date },
  steps: CurrentStep[],
  declaredSeconds: number | undefined,
  now = new Date(),
): Promise<Eta> {
  const past = await db.cell.findMany({
    where: {
      workspaceId: cell.workspaceId,
      templateId: cell.templateId,
      readyAt: { not: null },
      id: { not: cell.id },
    },
    orderBy: { readyAt: 'desc' },
    take: 20,
    select: {
      createdAt: true,
      readyAt: true,
      steps: { where: { kind: 'forward', status: 'succeeded' }, orderBy: { startedAt: 'asc' } },
    },
  });
  const elapsed = (now.getTime() - cell.createdAt.getTime()) / 1000;
  if (past.length === 0) {
    if (declaredSeconds === undefined) {
      return { basis: 'none', samples: 0, steps: [], totalSeconds: null, remainingSeconds: null };
    }
    return {
      basis: 'declared',
      samples: 0,
      steps: [],
      totalSeconds: declaredSeconds,
      remainingSeconds: round(Math.max(0, declaredSeconds - elapsed)),
    };
  }
  const durations = new Map<string, number[]>();
  for (const p of past) {
    for (const s of p.steps) {
      if (!s.endedAt) continue;
      const list = durations.get(s.name) ?? [];
      list.push((s.endedAt.getTime() - s.startedAt.getTime()) / 1000);
      durations.set(s.name, list);
    }
  }
  const estimates = [...durations].map(([name, list]): StepEstimate => {
    const expected = median(list);
    const mine = steps.find((s) => s.name === name && s.kind === 'forward');
    const remaining =
      mine?.status === 'succeeded'
        ? 0
        : mine?.status === 'running'
          ? Math.max(0, expected - (now.getTime() - mine.startedAt.getTime()) / 1000)
          : expected;
    return { name, expectedSeconds: round(expected), remainingSeconds: round(remaining) };
  });
  const total = median(past.map((p) => ((p.readyAt?.getTime() ?? 0) - p.createdAt.getTime()) / 1000));
  return {
    basis: 'measured',
    samples: past.length,
    steps: estimates,
    totalSeconds: round(total),
    // Steps run partly in parallel (services): the remaining total is bounded by the cell's median.
    remainingSeconds: round(
      Math.min(
        estimates.reduce((sum, s) => sum + s.remainingSeconds, 0),
        Math.max(0, total - elapsed),
      ),
    ),
  };
}
