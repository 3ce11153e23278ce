import path from 'node:path';
import type { Command } from 'commander';
import { clientOf, withConnection } from './connection.js';
import { out as c, findingLines, print, printJson, table } from './output.js';

// `hive workspaces [ls|add|remove]`: the repositories Hive provisions cells in, changed while it runs.

export function registerWorkspaceCommands(program: Command): void {
  const workspaces = withConnection(
    program
      .command('workspaces')
      .description('Registered workspaces: list, add and remove them while Hive runs'),
  );

  // The default subcommand: `hive workspaces` alone lists them, as it always did.
  workspaces
    .command('ls', { isDefault: true })
    .description('Registered workspaces and whether their config loads')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }, command: Command) => {
      const list = await clientOf(command).listWorkspaces();
      if (options.json) return printJson(list);
      const rows = list.map((w) => [
        w.id,
        w.configLoads ? String(w.templates) : c.red('config broken'),
        w.path,
      ]);
      for (const line of table(['ID', 'TEMPLATES', 'PATH'], rows)) print(line);
      for (const w of list.filter((x) => !x.configLoads)) {
        print(`\n${w.id}: ${w.configFile ?? 'no hive.config.*'} (hive init writes one)`);
        for (const line of findingLines(w.problems)) print(line);
      }
    });

  workspaces
    .command('add')
    .description('Register a git repository as a workspace (stored: it survives a restart)')
    .argument('<id>', 'its id: letters, digits, - or _')
    .argument('<path>', "the repository's folder (relative paths resolve against this directory)")
    .option('--json', 'machine-readable output')
    .action(async (id: string, dir: string, options: { json?: boolean }, command: Command) => {
      // The API wants an absolute path (it may run elsewhere); one typed here means this directory.
      const added = await clientOf(command).addWorkspace(id, path.resolve(dir));
      if (options.json) return printJson(added);
      print(`Workspace ${c.bold(added.id)} added: ${added.path}`);
      if (added.configLoads) {
        print(`${added.templates} template(s) in ${added.configFile}: hive templates ls -w ${added.id}`);
      } else {
        print(`${added.configFile ?? 'No hive.config.*'} yet: run hive init in ${added.path}`);
        for (const line of findingLines(added.problems)) print(line);
      }
    });

  workspaces
    .command('remove')
    .alias('rm')
    .description(
      'Unregister a workspace (refused while it has cells that are not ended; the repository is left as it is)',
    )
    .argument('<id>', 'the workspace')
    .action(async (id: string, _options: unknown, command: Command) => {
      await clientOf(command).removeWorkspace(id);
      print(`Workspace ${id} removed (its repository and files are untouched).`);
    });
}
