import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of this package (where package.json, prisma/ and scripts/ live). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Gitignored folder for tools this project builds for itself (the Temporal CLI). */
export const toolsBinDir = process.env.HIVE_TOOLS_DIR
  ? path.resolve(process.env.HIVE_TOOLS_DIR)
  : path.join(packageRoot, '.tools', 'bin');

/**
 * HIVE_DATA_DIR's default: one per user, outside every repository, so `hive up` never leaves
 * untracked files in the repository it runs in (XDG Base Directory: $XDG_DATA_HOME, else
 * ~/.local/share). A `.hive-data` folder already in the working directory — where Hive kept its data
 * before — is still used, so an upgrade finds its cells and Temporal history again.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv, cwd: string): string {
  const legacy = path.join(cwd, '.hive-data');
  if (existsSync(legacy)) return legacy;
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.local', 'share');
  return path.join(base, 'hive-cells');
}
