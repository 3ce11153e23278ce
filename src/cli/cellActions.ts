import type { Command } from 'commander';
import { liveStatuses, statusIn } from '../cells/status.js';
import type { CellDetail, HiveClient } from '../client/index.js';
import { followToOutcome } from './cellFollow.js';
import { act } from './connection.js';
import { out as c, print, printJson } from './output.js';
import { printDetail } from './summary.js';

// `hive cells cancel|retry|restore|cleanup|resume|archive` and the service commands (restart, stop,
// start): lifecycle actions through the API, followed to their outcome where that is the point.

export function registerCellActionCommands(cells: Command): void {
  lifecycleCommands(cells);
  archiveCommand(cells);
  serviceCommands(cells);
}

/** Waits for the state a lifecycle action leads to: one recorded after the action was accepted. */
const changedSince = (before: CellDetail) => (cell: CellDetail) => cell.updatedAt !== before.updatedAt;

/** Cancel, retry, restore, cleanup and resume: one request each, followed (retry, restore, resume) or not. */
function lifecycleCommands(cells: Command): void {
  const lifecycle = (
    name: string,
    description: string,
    run: (client: HiveClient, id: string) => Promise<unknown>,
    follows: boolean,
  ) =>
    cells
      .command(`${name} <id>`)
      .description(description)
      .option('--detach', follows ? 'return once the request is accepted' : 'return at once (the default)')
      .option('--wait', 'follow the cell until it rests')
      .option('--json', 'machine-readable output only')
      .action(
        act(async (client, id: string, options: { detach?: boolean; wait?: boolean; json?: boolean }) => {
          const before = await client.getCell(id);
          const accepted = await run(client, id);
          if (options.detach || !(follows || options.wait)) {
            if (options.json) printJson(accepted);
            else print(`${name}: cell ${id} accepted`);
            return;
          }
          await followToOutcome(client, id, { json: options.json, done: changedSince(before) });
        }),
      );

  lifecycle(
    'cancel',
    'Cancel provisioning and roll back, or roll back a failed cell',
    (k, id) => k.cancel(id),
    false,
  );
  lifecycle('retry', 'Resume a failed cell at its failed step, and follow it', (k, id) => k.retry(id), true);
  lifecycle(
    'restore',
    'Bring an archived, rolled back or cancelled cell back, and follow it',
    (k, id) => k.restore(id),
    true,
  );
  lifecycle('cleanup', 'Run a failed clean-up again', (k, id) => k.cleanup(id), false);
  lifecycle('resume', 'Wake a suspended cell, and follow it until it serves', (k, id) => k.resume(id), true);
}

/** `hive cells archive <id>`: followed until the work is saved and the cell archived. */
function archiveCommand(cells: Command): void {
  cells
    .command('archive <id>')
    .description('Archive: save the work in the worktree, stop services, remove the worktree, free ports')
    .option('--discard', "drop the worktree's uncommitted work instead of saving it")
    .option('--json', 'machine-readable output only')
    .action(
      act(async (client, id: string, options: { discard?: boolean; json?: boolean }) => {
        const accepted = await client.archive(id, { discard: options.discard });
        if (options.json) return printJson(accepted);
        print(`Archiving cell ${id}${options.discard ? ' (discarding uncommitted work)' : ''}…`);
        const cell = await client.waitForCell(id, {
          done: (x) => !statusIn(liveStatuses, x.status),
        });
        if (cell.status !== 'archived') {
          printDetail(cell);
          process.exitCode = 1;
          return;
        }
        print(
          `${c.green('✔')} Cell ${id} archived${cell.archive?.ref ? `; its work is saved at ${cell.archive.ref}` : ''}.`,
        );
        print(`  Bring it back: ${c.cyan(`hive cells restore ${id}`)}`);
      }),
    );
}

/** `hive cells restart|stop|start <id> <service>`. */
function serviceCommands(cells: Command): void {
  for (const action of ['restart', 'stop', 'start'] as const) {
    cells
      .command(`${action} <id> <service>`)
      .description(`${action[0]?.toUpperCase()}${action.slice(1)} one service of a ready cell`)
      .option('--json', 'machine-readable output only')
      .action(
        act(async (client, id: string, service: string, options: { json?: boolean }) => {
          const accepted = await client.serviceAction(id, service, action);
          if (options.json) printJson(accepted);
          else print(`${action}: ${service} of cell ${id} requested; see hive cells show ${id}`);
        }),
      );
  }
}
