import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { codePort } from './codePort.js';
import { type ComposeFacts, detectCompose } from './compose.js';
import { type ConductorScripts, detectConductor } from './conductor.js';
import { ENV_EXAMPLES } from './envFiles.js';
import { detectGo, type GoFacts } from './goapp.js';
import { detectWorkspaces, type Workspaces } from './monorepo.js';
import { detectPackageManager, type PackageManager } from './packageManagers.js';
import { detectProcfile, type ProcfileEntry } from './procfile.js';
import type { NodePackage } from './servers.js';

// What `hive init` learns from a repository, read only from its files: the package manager and its
// lockfile, package.json scripts and dependencies (of every workspace package in a monorepo),
// docker-compose services, a Procfile, a Go module, conductor.json, `.env*` files.

export type { PackageManager, PackageManagerName } from './packageManagers.js';

export interface RepoFacts {
  root: string;
  /** The root package.json, when there is one. */
  packageJson?: NodePackage & { dependencyCount: number };
  packageManager?: PackageManager;
  /** A workspace monorepo's packages (their package.json read). */
  workspaces?: Workspaces & { packages: NodePackage[] };
  compose?: ComposeFacts;
  procfile?: ProcfileEntry[];
  go?: GoFacts;
  conductor?: ConductorScripts;
  /** A `.worktreeinclude` (gitignored files to copy, as Claude Code's worktrees read it). */
  worktreeInclude: boolean;
  envFiles: string[];
}

const exists = async (file: string) => Boolean(await stat(file).catch(() => undefined));

interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
  engines?: { node?: string };
  packageManager?: string;
  dependencies?: object;
  devDependencies?: object;
  workspaces?: unknown;
}

async function readPackage(
  root: string,
  dir: string,
): Promise<{ pkg: NodePackage; raw: PackageJson } | undefined> {
  const text = await readFile(path.join(root, dir, 'package.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let raw: PackageJson;
  try {
    raw = JSON.parse(text) as PackageJson;
  } catch {
    return undefined;
  }
  const scripts = Object.fromEntries(
    Object.entries(raw.scripts ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  let envExample: string | undefined;
  for (const name of ENV_EXAMPLES) {
    if (await exists(path.join(root, dir, name))) {
      envExample = name;
      break;
    }
  }
  return {
    raw,
    pkg: {
      dir,
      name: raw.name,
      scripts,
      deps: new Set([...Object.keys(raw.dependencies ?? {}), ...Object.keys(raw.devDependencies ?? {})]),
      nodeEngine: raw.engines?.node,
      indexHtml: await exists(path.join(root, dir, 'index.html')),
      envExample,
      dotEnv: await exists(path.join(root, dir, '.env')),
      codePort: await codePort(root, dir),
    },
  };
}

/** Everything init needs to know about the repository at `root`. */
export async function detectRepo(root: string): Promise<RepoFacts> {
  const facts: RepoFacts = {
    root,
    envFiles: [],
    worktreeInclude: await exists(path.join(root, '.worktreeinclude')),
  };
  const rootPackage = await readPackage(root, '.');
  if (rootPackage) {
    const { pkg, raw } = rootPackage;
    facts.packageJson = { ...pkg, dependencyCount: pkg.deps.size };
    facts.packageManager = await detectPackageManager(root, raw.packageManager);
    const workspaces = await detectWorkspaces(root, raw.workspaces);
    if (workspaces) {
      const packages = (await Promise.all(workspaces.dirs.map((d) => readPackage(root, d))))
        .filter((p) => p !== undefined)
        .map((p) => p.pkg);
      facts.workspaces = { ...workspaces, packages };
    }
  }
  facts.compose = await detectCompose(root);
  facts.procfile = await detectProcfile(root);
  facts.go = await detectGo(root);
  facts.conductor = await detectConductor(root);
  facts.envFiles = (await readdir(root, { withFileTypes: true }))
    .filter((e) => e.isFile() && /^\.env(\..+)?$/.test(e.name))
    .map((e) => e.name)
    .sort();
  return facts;
}
