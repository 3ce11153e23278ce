import type { CellDetail } from '../../src/cells/schema.js';
import type { CellStatus } from '../../src/cells/status.js';
import { cellDetail } from '../../src/cells/views.js';
import type { Db } from '../../src/db/client.js';

/** Polls the cell's record until its status is one of `wanted` (the API's view, not the workflow's). */
export async function waitForStatus(
  h: { db: Db },
  id: string,
  wanted: CellStatus[],
  timeoutMs = 90_000,
): Promise<CellDetail> {
  const deadline = Date.now() + timeoutMs;
  let cell: CellDetail | undefined;
  while (Date.now() < deadline) {
    cell = await cellDetail(h.db, id);
    if (cell && wanted.includes(cell.status)) return cell;
    await new Promise((r) => setTimeout(r, 100));
  }
  const why = cell?.failure ? `: ${JSON.stringify(cell.failure)}` : '';
  throw new Error(`cell ${id} is ${cell?.status}, not ${wanted.join('|')}, after ${timeoutMs} ms${why}`);
}
