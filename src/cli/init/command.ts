import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { simpleGit } from 'simple-git';
import which from 'which';
import { CliError, out as c, findingLines, print } from '../output.js';
import { detectRepo } from './detect.js';
import { draftConfig, type HostTools, TEMPLATE_ID } from './draft.js';

// `hive init`: look at the repository, write a hive.config.ts that works here, and prove it with the
// same dry run the API runs before every cell (in-process: no running Hive is needed).

async function hostTools(): Promise<HostTools> {
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  const pg = await Promise.all(
    versions.map((v) => stat(path.join('/usr/lib/postgresql', v, 'bin', 'postgres')).catch(() => undefined)),
  );
  return { postgres: pg.some(Boolean), redis: Boolean(await which('redis-server', { nothrow: true })) };
}

async function repoRoot(dir: string): Promise<string> {
  try {
    return (await simpleGit(dir).revparse(['--show-toplevel'])).trim();
  } catch {
    throw new CliError(`${dir} is not in a git repository: cells are git worktrees (git init first)`);
  }
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('Write a hive.config.ts for this git repository from what it finds, and dry-run it')
    .option('-C, --dir <path>', 'the repository (default: the current directory)')
    .option('--force', 'overwrite an existing hive.config.*')
    .option('--print', 'print the config instead of writing it (no dry run)')
    .action(async (options: { dir?: string; force?: boolean; print?: boolean }) => {
      // The config loader and the dry run load much (jiti, git, the host checks): only for init.
      const [{ CONFIG_FILE_NAMES, createConfigLoader }, { validateTemplate }] = await Promise.all([
        import('../../templates/loader.js'),
        import('../../templates/validate.js'),
      ]);
      const root = await repoRoot(path.resolve(options.dir ?? process.cwd()));
      const existing = [];
      for (const name of CONFIG_FILE_NAMES)
        if (await stat(path.join(root, name)).catch(() => undefined)) existing.push(name);
      if (existing.length && !options.force && !options.print) {
        throw new CliError(`${existing.join(', ')} already exists in ${root}; hive init --force replaces it`);
      }
      const facts = await detectRepo(root);
      const draft = draftConfig(facts, await hostTools());
      if (options.print) return void process.stdout.write(draft.source);

      const file = path.join(root, 'hive.config.ts');
      await writeFile(file, draft.source);
      print(`${c.green('✔')} wrote ${file}`);
      for (const line of draft.detected.length
        ? draft.detected
        : ['nothing to run: a worktree-only template']) {
        print(`  ${c.dim('found')} ${line}`);
      }
      const shadowed = existing.filter((n) => n !== 'hive.config.ts');
      if (shadowed.length)
        print(c.yellow(`  note: hive.config.ts takes precedence over ${shadowed.join(', ')}; remove it`));

      // The dry run the API runs before every cell: config, commands on PATH, ports, base ref, disk.
      const loaded = await createConfigLoader().load(root);
      const result = await validateTemplate({
        workspace: { id: path.basename(root), path: root },
        loaded,
        templateId: TEMPLATE_ID,
      });
      print();
      print(result.ok ? `${c.green('✔')} dry run passed` : `${c.red('✖')} dry run found problems`);
      for (const line of findingLines(result.findings)) print(line);
      if (!result.ok) {
        process.exitCode = 1;
        return;
      }
      print();
      print(`Next: run Hive in this repository (${c.cyan('hive up')}), then`);
      print(`  ${c.cyan(`hive cells create -t ${TEMPLATE_ID} -b "<the task>"`)}`);
    });
}
