import type { Command } from 'commander';
import { Option } from 'commander';
import { cellStatuses } from '../cells/status.js';
import type { CellDetail } from '../client/index.js';
import { registerCellActionCommands } from './cellActions.js';
import { followToOutcome } from './cellFollow.js';
import { registerCellHostCommands } from './cellHost.js';
import { act, withConnection } from './connection.js';
import { collectPair, resolveWorkspace, templateOptions } from './options.js';
import { out as c, print, printJson, table } from './output.js';
import { printDetail } from './summary.js';

// `hive cells …`: every command goes through Hive's HTTP API (so they work against a remote Hive),
// except exec and shell, which run a process in the worktree on the cell's own host. One function
// per subcommand: requests and reads here, what runs on the cell's host in cellHost.ts, the
// lifecycle actions in cellActions.ts.

export function registerCellCommands(program: Command): void {
  const cells = withConnection(
    program.command('cells').description('Create, follow, enter and control cells'),
  );
  createCommand(cells);
  watchCommand(cells);
  lsCommand(cells);
  showCommand(cells);
  registerCellHostCommands(cells);
  registerCellActionCommands(cells);
}

interface CreateOptions {
  template: string;
  brief: string;
  workspace?: string;
  option: string[];
  base?: string;
  name?: string;
  onFailure?: 'preserve' | 'rollback';
  host?: string;
  constraint: string[];
  success: string[];
  idempotencyKey?: string;
  detach?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `hive cells create`: request a cell, then follow it (or not: --detach). */
function createCommand(cells: Command): void {
  cells
    .command('create')
    .description('Request a cell and follow its provisioning live (Ctrl-C: cancel it or detach)')
    .requiredOption('-t, --template <id>', 'template of the workspace (hive templates ls)')
    .requiredOption('-b, --brief <text>', 'the task for the agent')
    .option('-w, --workspace <id>', 'workspace (default: the only one)')
    .option('-o, --option <key=value>', 'template option, repeatable', collectPair, [])
    .option('--base <ref>', "branch, tag or commit the cell's branch starts from (default HEAD)")
    .option('--name <name>', 'a human-friendly name')
    .addOption(
      new Option('--on-failure <what>', 'on a failure: keep the cell for retry, or roll back at once')
        .choices(['preserve', 'rollback'])
        .default('preserve'),
    )
    .option('--host <id>', 'provision on this host (hive hosts ls); default: the one with the most room')
    .option('--constraint <text>', 'a rule the agent must follow, repeatable', collect, [])
    .option('--success <text>', 'how the agent knows it is done, repeatable', collect, [])
    .option('--idempotency-key <key>', 'the same key returns the same cell instead of a second one')
    .option('--detach', 'return once the cell is requested')
    .option('--json', 'machine-readable output only: the cell as GET /cells/:id shows it')
    .action(
      act(async (client, options: CreateOptions) => {
        const workspace = await resolveWorkspace(client, options.workspace);
        const accepted = await client.createCell(
          {
            workspace,
            template: options.template,
            brief: options.brief,
            name: options.name,
            baseRef: options.base,
            onFailure: options.onFailure,
            host: options.host,
            constraints: options.constraint,
            successCriteria: options.success,
            options: await templateOptions(client, workspace, options.template, options.option),
          },
          { idempotencyKey: options.idempotencyKey },
        );
        if (options.detach) {
          if (options.json) printJson(accepted);
          else
            print(
              `Cell ${c.bold(accepted.id)} requested (${accepted.status}); follow it: hive cells watch ${accepted.id}`,
            );
          return;
        }
        await followToOutcome(client, accepted.id, { json: options.json });
      }),
    );
}

/** `hive cells watch <id>`. */
function watchCommand(cells: Command): void {
  cells
    .command('watch <id>')
    .description('Follow a cell live until it rests, then show its summary')
    .option('--json', 'machine-readable output only')
    .action(
      act(async (client, id: string, options: { json?: boolean }) => followToOutcome(client, id, options)),
    );
}

/** `hive cells ls`: a table of cells, newest first. */
function lsCommand(cells: Command): void {
  cells
    .command('ls')
    .description('Cells, newest first')
    .option('-w, --workspace <id>', 'only this workspace')
    .addOption(new Option('--status <status>', 'only cells in this state').choices(cellStatuses))
    .option('-n, --limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 100)
    .option('--json', 'machine-readable output')
    .action(
      act(
        async (
          client,
          options: { workspace?: string; status?: CellDetail['status']; limit: number; json?: boolean },
        ) => {
          const list = await client.listCells({
            workspace: options.workspace,
            status: options.status,
            limit: options.limit,
          });
          if (options.json) return printJson(list);
          if (list.length === 0)
            return print('No cells. Create one: hive cells create -t <template> -b "<brief>"');
          const rows = list.map((cell) => [
            cell.id,
            cell.status,
            `${cell.workspaceId}/${cell.templateId}`,
            cell.createdAt.replace(/\.\d{3}Z$/, 'Z'),
            (cell.brief.split('\n')[0] ?? '').slice(0, 50),
          ]);
          for (const line of table(['ID', 'STATUS', 'TEMPLATE', 'CREATED', 'BRIEF'], rows)) print(line);
        },
      ),
    );
}

/** `hive cells show <id>`. */
function showCommand(cells: Command): void {
  cells
    .command('show <id>')
    .description('One cell: state, worktree, services, steps, failure')
    .option('--json', 'machine-readable output: GET /cells/:id')
    .action(
      act(async (client, id: string, options: { json?: boolean }) => {
        const cell = await client.getCell(id);
        if (options.json) printJson(cell);
        else printDetail(cell);
      }),
    );
}
