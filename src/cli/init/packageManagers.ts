import { stat } from 'node:fs/promises';
import path from 'node:path';
import { shellWord } from './blocks.js';

// The package manager of a JavaScript repository and its own spellings of "install", "run a script
// with more arguments" and "run a tool from node_modules/.bin". They differ where it matters:
// npm strips a `--` before script arguments (and needs it), pnpm 10 passes `--` through literally
// (so never write one), yarn and bun pass whatever follows the script name to it.

export type PackageManagerName = 'npm' | 'pnpm' | 'yarn' | 'bun';

export interface PackageManager {
  name: PackageManagerName;
  lockfile?: string;
  /** Yarn 2+ (berry), whose default install is Plug'n'Play, without node_modules. */
  berry: boolean;
  /** The install command for a fresh worktree: reproducible from the lockfile when there is one. */
  install: string;
  /** How a package.json script is run, with extra arguments for it (already shell words). */
  run: (script: string, args?: string[]) => string;
  /** How a program from node_modules/.bin is run, without installing anything. */
  exec: (tool: string, args: string[]) => string;
}

const exists = async (file: string) => Boolean(await stat(file).catch(() => undefined));

const LOCKFILES: Array<[string, PackageManagerName]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lock', 'bun'],
  ['bun.lockb', 'bun'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

/** The package manager: package.json's `packageManager` field, else the lockfile, else npm. */
export async function detectPackageManager(
  root: string,
  declared: string | undefined,
): Promise<PackageManager> {
  let lockfile: string | undefined;
  let name: PackageManagerName | undefined;
  for (const [file, manager] of LOCKFILES) {
    if (await exists(path.join(root, file))) {
      lockfile = file;
      name = manager;
      break;
    }
  }
  const fromField = declared?.split('@')[0];
  if (fromField === 'npm' || fromField === 'pnpm' || fromField === 'yarn' || fromField === 'bun')
    name = fromField;
  name ??= 'npm';
  const locked = lockfile !== undefined;
  // Yarn 2+ (a .yarnrc.yml, or packageManager yarn@2+) spells "frozen lockfile" differently.
  const berry =
    name === 'yarn' && ((await exists(path.join(root, '.yarnrc.yml'))) || /^yarn@[2-9]/.test(declared ?? ''));
  const install = {
    npm: locked ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund',
    pnpm: locked ? 'pnpm install --frozen-lockfile' : 'pnpm install',
    yarn: locked ? (berry ? 'yarn install --immutable' : 'yarn install --frozen-lockfile') : 'yarn install',
    bun: locked ? 'bun install --frozen-lockfile' : 'bun install',
  }[name];
  const manager = name;
  const run = (script: string, args: string[] = []) => {
    const base = `${manager} run ${shellWord(script)}`;
    if (args.length === 0) return base;
    // npm needs `--` and strips it; pnpm (10+) would pass it on to the tool; yarn and bun forward
    // everything after the script name.
    return manager === 'npm' ? `${base} -- ${args.join(' ')}` : `${base} ${args.join(' ')}`;
  };
  const exec = (tool: string, args: string[]) => {
    const rest = args.length ? ` ${args.join(' ')}` : '';
    switch (manager) {
      case 'pnpm':
        return `pnpm exec ${shellWord(tool)}${rest}`;
      case 'yarn':
        // Yarn 1 and 2+ both run a package binary by name with `yarn run`.
        return `yarn run ${shellWord(tool)}${rest}`;
      case 'bun':
        return `bun x ${shellWord(tool)}${rest}`;
      default:
        // --no-install: only what the lockfile installed, never a download at start.
        return `npx --no-install ${shellWord(tool)}${rest}`;
    }
  };
  return { name, lockfile, berry, install, run, exec };
}
