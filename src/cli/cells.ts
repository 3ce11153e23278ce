import type { Command } from 'commander';
import { Option } from 'commander';
import { cellStatuses } from '../cells/status.js';
import type { CellDetail, HiveClient } from '../client/index.js';
import { followToOutcome } from './cellFollow.js';
import { cellProcessContext, execInCell, shellInCell } from './cellProcess.js';
import { clientOf, withConnection } from './connection.js';
import { collectPair, resolveWorkspace, templateOptions } from './options.js';
import { CliError, out as c, print, printJson, table } from './output.js';
import { printDetail } from './summary.js';

// `hive cells …`: every command goes through Hive's HTTP API (so they work against a remote Hive),
// except exec and shell, which run a process in the worktree on the cell's own host.

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

/** Runs an action with the client of its command; errors reach main's reporter. */
const act =
  <A extends unknown[]>(fn: (client: HiveClient, ...args: A) => Promise<void>) =>
  async (...args: A) => {
    const command = args.at(-1) as Command;
    await fn(clientOf(command), ...args);
  };

/** Waits for the state a lifecycle action leads to: one recorded after the action was accepted. */
const changedSince = (before: CellDetail) => (cell: CellDetail) => cell.updatedAt !== before.updatedAt;

export function registerCellCommands(program: Command): void {
  const cells = withConnection(
    program.command('cells').description('Create, follow, enter and control cells'),
  );

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

  cells
    .command('watch <id>')
    .description('Follow a cell live until it rests, then show its summary')
    .option('--json', 'machine-readable output only')
    .action(
      act(async (client, id: string, options: { json?: boolean }) => followToOutcome(client, id, options)),
    );

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

  cells
    .command('logs <id> [service]')
    .description("A service's log (every service's when none is named), secrets masked")
    .option('-n, --lines <n>', 'lines from the end', (v) => Number.parseInt(v, 10), 100)
    .option('-f, --follow', 'keep printing new lines (Ctrl-C stops)')
    .action(
      act(
        async (
          client,
          id: string,
          service: string | undefined,
          options: { lines: number; follow?: boolean },
        ) => {
          const names = service ? [service] : (await client.getCell(id)).services.map((s) => s.name);
          if (names.length === 0) throw new CliError(`cell ${id} has no services (yet)`);
          const prefix = (name: string) => (names.length > 1 ? `${c.cyan(`[${name}]`)} ` : '');
          if (!options.follow) {
            for (const name of names) {
              const { lines } = await client.serviceLogs(id, name, { lines: options.lines });
              for (const line of lines) print(`${prefix(name)}${line}`);
            }
            return;
          }
          const abort = new AbortController();
          process.once('SIGINT', () => abort.abort());
          await Promise.all(
            names.map(async (name) => {
              for await (const line of client.followServiceLogs(id, name, {
                lines: options.lines,
                signal: abort.signal,
              }))
                print(`${prefix(name)}${line}`);
            }),
          );
        },
      ),
    );

  cells
    .command('env <id>')
    .description("The cell's environment as dotenv lines (secret values are not shown)")
    .option('--json', 'machine-readable output: GET /cells/:id/env')
    .action(
      act(async (client, id: string, options: { json?: boolean }) => {
        const env = await client.cellEnv(id);
        if (options.json) return printJson(env);
        if (!env.file) throw new CliError(`cell ${id} has no environment yet`);
        print(`# ${env.file}`);
        for (const v of env.variables) {
          print(
            v.secret || v.value === null
              ? `# ${v.name}: secret, not shown (it is in the file)`
              : dotenv(v.name, v.value),
          );
        }
      }),
    );

  cells
    .command('exec <id> [command...]')
    .description("Run a command in the worktree with the cell's environment: hive cells exec <id> -- <cmd…>")
    .option('-s, --service <name>', "give it this service's PORT (default: the only service's)")
    .action(
      act(async (client, id: string, command: string[], options: { service?: string }) => {
        const context = await cellProcessContext(client, id, options.service);
        process.exitCode = await execInCell(context, command);
      }),
    );

  cells
    .command('shell <id>')
    .description("An interactive shell ($SHELL) in the worktree with the cell's environment")
    .option('-s, --service <name>', "give it this service's PORT (default: the only service's)")
    .action(
      act(async (client, id: string, options: { service?: string }) => {
        const context = await cellProcessContext(client, id, options.service);
        process.stderr.write(c.dim(`Entering cell ${id} in ${context.cwd} (exit to leave)\n`));
        process.exitCode = await shellInCell(context);
      }),
    );

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
          done: (x) => x.status !== 'ready' && x.status !== 'degraded',
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

/** A dotenv line a shell or a dotenv parser reads literally (the format of .hive/env). */
function dotenv(key: string, value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? `${key}=${value}` : `${key}='${value.replaceAll("'", "'\\''")}'`;
}
