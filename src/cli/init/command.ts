import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { simpleGit } from 'simple-git';
import which from 'which';
import { CliError, out as c, findingLines, print } from '../output.js';
import { commentText } from './blocks.js';
import { detectRepo } from './detect.js';
import { draftConfig, type HostTools, TEMPLATE_ID } from './draft.js';

// `hive init`: look at the repository, write a hive.config.jsonc that works here, and prove it with
// the same dry run the API runs before every cell (in-process: no running Hive is needed). JSONC, not
// TypeScript: a root hive.config.ts would join a TypeScript project's own compile (tsc, nest start).

const CONFIG_FILE = 'hive.config.jsonc';

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
    .description('Write a hive.config.jsonc for this git repository from what it finds, and dry-run it')
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
      if (options.print) {
        for (const problem of draft.problems) process.stderr.write(`not done: ${problem}\n`);
        return void process.stdout.write(draft.source);
      }

      const file = path.join(root, CONFIG_FILE);
      await writeFile(file, draft.source);
      print(`${c.green('✔')} wrote ${file}`);
      // --force replaces the config: another hive.config.* would be read before this one.
      for (const name of existing.filter((n) => n !== CONFIG_FILE)) {
        await rm(path.join(root, name), { force: true });
        print(`  ${c.dim('removed')} ${name} (replaced by ${CONFIG_FILE})`);
      }
      for (const line of draft.detected.length
        ? draft.detected
        : ['nothing to run: a worktree-only template']) {
        print(`  ${c.dim('found')} ${line}`);
      }

      // The dry run the API runs before every cell: config, commands on PATH, ports, base ref, disk.
      const loaded = await createConfigLoader().load(root);
      const result = await validateTemplate({
        workspace: { id: path.basename(root), path: root },
        loaded,
        templateId: TEMPLATE_ID,
      });
      // The config is kept either way, for the person to finish; it only "works" when the dry run
      // passes and, where the repository has a server, a service of the config starts one.
      print();
      if (draft.problems.length || !result.ok) {
        print(`${c.red('✖')} ${file} does not work yet (it was written so you can finish it):`);
        for (const problem of draft.problems) print(`  ${c.red('-')} ${problem}`);
        if (!result.ok) {
          // The file says so too, for whoever opens it later.
          const failed = result.findings
            .filter((f) => f.severity === 'error')
            .map((f) => `- ${commentText(`${f.path}: ${f.message}`, 200)}`);
          await writeFile(
            file,
            `// hive init's dry run failed on this config:\n${failed.map((l) => `// ${l}`).join('\n')}\n${draft.source}`,
          );
          print(`  ${c.red('-')} the dry run found problems:`);
          for (const line of findingLines(result.findings)) print(line);
        }
        print();
        print(`Edit ${file}, then check it with ${c.cyan(`hive templates validate ${TEMPLATE_ID}`)}.`);
        process.exitCode = 1;
        return;
      }
      print(`${c.green('✔')} dry run passed`);
      for (const line of findingLines(result.findings)) print(line);
      print();
      print(`Next: run Hive in this repository (${c.cyan('hive up')}), then`);
      print(`  ${c.cyan(`hive cells create -t ${TEMPLATE_ID} -b "<the task>"`)}`);
    });
}
