import { expect } from 'vitest';
import type { DatabaseOutcome, DependencyOutcome } from '../../src/cells/plan.js';
import type { CellDetail } from '../../src/cells/schema.js';
import type { Harness } from './harness.js';

/** POST /cells for a template of the harness's workspace; the request must be accepted. */
export async function requestCell(
  h: Pick<Harness, 'app'>,
  template: string,
  {
    brief = 'a test cell',
    onFailure = 'preserve',
  }: { brief?: string; onFailure?: 'preserve' | 'rollback' } = {},
): Promise<string> {
  const response = await h.app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'demo', template, brief, onFailure },
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json().id as string;
}

/** What the environment step recorded: where each dependency set and database came from. */
export function environmentOutcome(cell: CellDetail): {
  dependencies?: DependencyOutcome[];
  databases?: DatabaseOutcome[];
} {
  const step = cell.steps.find((s) => s.name === 'environment' && s.kind === 'forward');
  return (step?.detail ?? {}) as { dependencies?: DependencyOutcome[]; databases?: DatabaseOutcome[] };
}
