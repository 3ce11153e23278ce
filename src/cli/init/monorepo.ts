import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';

// A workspace monorepo: the package folders its package manager links (pnpm-workspace.yaml's
// `packages`, package.json's `workspaces` for npm, yarn and bun), and the task runners on top
// (turbo.json, nx.json), whose root tasks fan out to every package (and want a terminal), so init
// runs each app package on its own instead.

export interface Workspaces {
  /** Where the package globs came from. */
  source: string;
  /** Task runners found at the root (turbo, nx). */
  runners: string[];
  /** Package folders, relative to the root, in order. */
  dirs: string[];
}

const SKIP = new Set(['node_modules', '.git', '.cells', '.hive', 'dist', 'build', '.next', '.turbo']);

/** Folders under `root` (relative, posix), `depth` levels down, that hold a package.json. */
async function packageDirs(root: string, dir = '', depth = 4): Promise<string[]> {
  if (depth === 0) return [];
  const entries = await readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isDirectory() || SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (await readFile(path.join(root, rel, 'package.json')).catch(() => undefined)) found.push(rel);
    found.push(...(await packageDirs(root, rel, depth - 1)));
  }
  return found;
}

const exists = async (file: string) => Boolean(await readFile(file).catch(() => undefined));

/** The workspace packages of the repository at `root`, or undefined when it is not a monorepo. */
export async function detectWorkspaces(
  root: string,
  workspacesField: unknown,
): Promise<Workspaces | undefined> {
  const runners = [];
  if (await exists(path.join(root, 'turbo.json'))) runners.push('turbo');
  if (await exists(path.join(root, 'nx.json'))) runners.push('nx');
  let globs: string[] = [];
  let source = '';
  const pnpm = await readFile(path.join(root, 'pnpm-workspace.yaml'), 'utf8').catch(() => undefined);
  if (pnpm !== undefined) {
    const doc = (parseYaml(pnpm) ?? {}) as { packages?: unknown };
    globs = Array.isArray(doc.packages) ? doc.packages.map(String) : [];
    source = 'pnpm-workspace.yaml';
  } else if (Array.isArray(workspacesField)) {
    globs = workspacesField.map(String);
    source = 'package.json workspaces';
  } else if (workspacesField && typeof workspacesField === 'object') {
    const list = (workspacesField as { packages?: unknown }).packages;
    globs = Array.isArray(list) ? list.map(String) : [];
    source = 'package.json workspaces';
  } else if (runners.length) {
    // Turborepo and Nx lean on the package manager's workspaces; their own starters use these.
    globs = ['apps/*', 'packages/*'];
    source = `${runners.join(', ')} (apps/*, packages/*)`;
  }
  if (!source) return undefined;
  const clean = (g: string) => g.replace(/^\.\//, '').replace(/\/+$/, '');
  const include = globs.filter((g) => !g.startsWith('!')).map(clean);
  const exclude = globs.filter((g) => g.startsWith('!')).map((g) => clean(g.slice(1)));
  if (include.length === 0) return { source, runners, dirs: [] };
  const isIncluded = picomatch(include);
  const isExcluded = exclude.length ? picomatch(exclude) : () => false;
  const dirs = (await packageDirs(root)).filter((d) => isIncluded(d) && !isExcluded(d));
  return { source, runners, dirs };
}

/** A root script that runs a task across packages (a task runner, a recursive or filtered run). */
export const FAN_OUT =
  /\b(turbo|nx|lerna|concurrently|npm-run-all2?|run-p|run-s|wireit|ultra)\b|\s(-r|--recursive|--filter|-F|--workspaces?|-ws?|--parallel)(\s|=|$)/;
