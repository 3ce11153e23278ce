import { liveStatuses, statusIn } from '../cells/status.js';
import type { CellDetail, HiveClient, WaitOptions } from '../client/index.js';
import { followCell } from './follow.js';
import { out as c, print, printJson } from './output.js';
import { printOutcome } from './summary.js';

/** Exit status of a command that waited for a cell: 0 when it is usable, 1 otherwise. */
export const exitStatusOf = (cell: CellDetail) => (statusIn(liveStatuses, cell.status) ? 0 : 1);

/**
 * The end of every command that starts provisioning (create, retry, restore, watch): follow the cell
 * live (or silently with --json) and finish with its summary and exit status.
 */
export async function followToOutcome(
  client: HiveClient,
  id: string,
  options: { json?: boolean; done?: WaitOptions['done'] },
): Promise<void> {
  const result = await followCell(client, id, { quiet: options.json, done: options.done });
  if (result.kind === 'detached') {
    print(`Detached; cell ${id} goes on. Follow it again with ${c.cyan(`hive cells watch ${id}`)}.`);
    return;
  }
  if (options.json) printJson(result.cell);
  else printOutcome(result.cell);
  process.exitCode = exitStatusOf(result.cell);
}
