import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Workspace } from '../config/env.js';
import { type BaseCommit, baseCommit, worktreePath } from './baseCommit.js';
import { commandsOf } from './commandPrograms.js';
import { error, type Finding, warning } from './findings.js';
import { resolveCommit } from './hostChecks.js';
import { type ScriptRun, scriptRunOf } from './packageScripts.js';
import type { ServiceSpec, Template } from './schema.js';
import { nearestWord } from './strictKeys.js';

// Dry-run findings read from the base commit, the worktree's source: a service's `cwd` is there,
// and every package.json script a command runs exists. Without them, a typo passes the dry run and
// fails the cell (PlanInvalid at service start, "Missing script" in a log).

type Services = Array<[string, ServiceSpec]>;

/** A command line of the template, where it is in the config and the folder it runs in. */
interface CommandAt {
  where: string;
  line: string;
  dir: string;
}

function commandsAt(base: string, template: Template, enabled: Services): CommandAt[] {
  const root = (where: string, line: string): CommandAt => ({ where, line, dir: '' });
  const commands = [
    ...template.setup.map((line, i) => root(`${base}.setup.${i}`, line)),
    ...template.teardown.map((line, i) => root(`${base}.teardown.${i}`, line)),
    ...template.dependencies.map((set, i) => root(`${base}.dependencies.${i}.install`, set.install)),
    ...Object.entries(template.databases).flatMap(([name, database]) =>
      database.seed.map((line, i) => root(`${base}.services.${name}.seed.${i}`, line)),
    ),
  ];
  for (const [name, service] of enabled) {
    const dir = worktreePath(service.cwd ?? '.');
    if (dir === undefined) continue; // leaves the worktree: checkServiceDirs says so
    const at = `${base}.services.${name}`;
    commands.push({ where: `${at}.run`, line: service.run, dir });
    service.setup.forEach((line, i) => {
      commands.push({ where: `${at}.setup.${i}`, line, dir });
    });
    if (service.stop !== undefined) commands.push({ where: `${at}.stop`, line: service.stop, dir });
    if (service.readiness?.type === 'exec')
      commands.push({ where: `${at}.readiness.command`, line: service.readiness.command, dir });
  }
  return commands;
}

/** The scripts a command line runs, each with the folder it runs in (following `cd <folder>`). */
function scriptRunsOf(command: CommandAt): Array<ScriptRun & { dir: string }> {
  const runs: Array<ScriptRun & { dir: string }> = [];
  let dir: string | undefined = command.dir;
  for (const words of commandsOf(command.line)) {
    if (words[0] === 'cd') {
      const to = words[1];
      // Where `cd $X`, `cd -` or `cd /abs` goes is not known here: the rest of the line is left alone.
      dir = to && !/[$`]/.test(to) && to !== '-' ? worktreePath(path.posix.join(dir, to)) : undefined;
      if (dir === undefined) break;
      continue;
    }
    const run = scriptRunOf(words);
    if (run) runs.push({ ...run, dir });
  }
  return runs;
}

/** The folder and its parents, nearest first, up to the worktree's root (""). */
function upwards(dir: string): string[] {
  const dirs = [dir];
  for (let d = dir; d !== ''; ) {
    d = path.posix.dirname(d) === '.' ? '' : path.posix.dirname(d);
    dirs.push(d);
  }
  return dirs;
}

const inDir = (dir: string, file: string) => (dir ? `${dir}/${file}` : file);

async function openBase(workspace: Workspace, baseRef: string): Promise<BaseCommit | undefined> {
  const commit = await resolveCommit(workspace.path, baseRef);
  // An unresolvable base is checkRepository's finding.
  return commit ? baseCommit(workspace.path, baseRef, commit) : undefined;
}

/**
 * Each enabled service's `cwd` is a folder of the base commit. A folder only in the working copy
 * (uncommitted, gitignored) or one a setup command names may still appear in time: a warning.
 */
export async function checkServiceCwds(
  base: string,
  template: Template,
  enabled: Services,
  workspace: Workspace,
  baseRef: string,
): Promise<Finding[]> {
  const dirs = enabled.flatMap(([name, service]) => {
    const dir = worktreePath(service.cwd ?? '.');
    return dir ? [{ name, cwd: service.cwd as string, dir }] : [];
  });
  if (dirs.length === 0) return [];
  const commit = await openBase(workspace, baseRef);
  if (!commit) return [];
  // A repository git cannot read is checkRepository's finding, not a failed dry run.
  const types = await commit.types(dirs.map((d) => d.dir)).catch(() => undefined);
  if (!types) return [];
  const findings: Finding[] = [];
  for (const { name, cwd, dir } of dirs) {
    if (types.has(dir)) continue;
    const where = `${base}.services.${name}.cwd`;
    const local = await stat(path.join(workspace.path, dir)).catch(() => undefined);
    const named = template.setup.some((line) => line.includes(dir));
    if (local?.isDirectory() || named) {
      findings.push(
        warning(
          where,
          `${cwd} is not in the base commit ${commit.label}${local ? ' (only in the workspace: uncommitted or gitignored)' : ''}; the cell's worktree has it only if includePatterns copy it or setup creates it`,
          'Commit the folder, or make sure a setup command creates it before the service starts.',
        ),
      );
      continue;
    }
    findings.push(
      error(
        where,
        `${cwd} does not exist in the base commit ${commit.label}: the service would start in a missing folder`,
        'Fix the path (a folder of the repository, relative to its root), or create the folder and commit it.',
      ),
    );
  }
  return findings;
}

/**
 * Every package.json script a command runs (`npm run x`, `pnpm x`, `yarn run x`, `npm start`, …)
 * is in the nearest package.json above the folder it runs in, at the base commit.
 */
export async function checkPackageScripts(
  base: string,
  template: Template,
  enabled: Services,
  workspace: Workspace,
  baseRef: string,
): Promise<Finding[]> {
  const runs = commandsAt(base, template, enabled).flatMap((command) =>
    scriptRunsOf(command).map((run) => ({ ...run, where: command.where })),
  );
  if (runs.length === 0) return [];
  const commit = await openBase(workspace, baseRef);
  if (!commit) return [];
  const types = await commit
    .types(
      runs.flatMap((run) =>
        upwards(run.dir).flatMap((dir) => [
          inDir(dir, 'package.json'),
          ...(run.fallbackFile ? [inDir(dir, run.fallbackFile)] : []),
        ]),
      ),
    )
    .catch(() => undefined);
  if (!types) return [];
  const findings: Finding[] = [];
  for (const run of runs) {
    const dir = upwards(run.dir).find((d) => types.get(inDir(d, 'package.json')) === 'blob');
    if (dir === undefined) {
      findings.push(
        error(
          run.where,
          `runs ${run.tool} script "${run.script}", and there is no package.json in ${run.dir || 'the worktree root'} or above it in the base commit ${commit.label}`,
          'Commit the package.json that defines the script, or fix the folder the command runs in (cwd, cd).',
        ),
      );
      continue;
    }
    const file = inDir(dir, 'package.json');
    const scripts = parseScripts(await commit.read(file));
    if (scripts === undefined || Object.hasOwn(scripts, run.script)) continue; // unreadable: npm will say why
    if (run.fallbackFile && types.get(inDir(dir, run.fallbackFile)) === 'blob') continue;
    const near = nearestWord(run.script, Object.keys(scripts));
    const message = `runs script "${run.script}", which ${file} in the base commit ${commit.label} does not have${near ? `: did you mean "${near}"?` : ''}`;
    const existing = `Scripts in ${file}: ${Object.keys(scripts).join(', ') || '(none)'}.`;
    // `yarn x` and the like run a binary of node_modules/.bin when there is no script x: only a near
    // script name makes a typo likely enough to refuse.
    findings.push(
      run.scriptOnly || near
        ? error(run.where, message, `${existing} Fix the name, or add the script and commit it.`)
        : warning(
            run.where,
            message,
            `${existing} ${run.tool} runs ${run.script} from node_modules/.bin if a dependency provides it; otherwise add the script.`,
          ),
    );
  }
  return findings;
}

/** The `scripts` of a package.json's text; undefined when it cannot be read as one. */
function parseScripts(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const json = JSON.parse(text) as { scripts?: unknown };
    const scripts = json?.scripts ?? {};
    return typeof scripts === 'object' && scripts !== null ? (scripts as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
