import type { Command } from 'commander';
import { dotenvLine } from '../cells/envFile.js';
import { cellProcessContext, execInCell, shellInCell } from './cellProcess.js';
import { act } from './connection.js';
import { CliError, out as c, print, printJson } from './output.js';

// `hive cells logs|env|exec|shell`: what a cell has on its host, read or entered.

export function registerCellHostCommands(cells: Command): void {
  logsCommand(cells);
  envCommand(cells);
  execCommand(cells);
  shellCommand(cells);
}

/** `hive cells logs <id> [service]`: log tails, or followed with -f. */
function logsCommand(cells: Command): void {
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
}

/** `hive cells env <id>`: `.hive/env`'s lines, secrets not shown. */
function envCommand(cells: Command): void {
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
              : dotenvLine(v.name, v.value),
          );
        }
      }),
    );
}

/** `hive cells exec <id> -- <cmd…>`. */
function execCommand(cells: Command): void {
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
}

/** `hive cells shell <id>`. */
function shellCommand(cells: Command): void {
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
}
