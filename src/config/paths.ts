import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of this package (where package.json, prisma/ and scripts/ live). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Gitignored folder for tools this project builds for itself (the Temporal CLI). */
export const toolsBinDir = process.env.HIVE_TOOLS_DIR
  ? path.resolve(process.env.HIVE_TOOLS_DIR)
  : path.join(packageRoot, '.tools', 'bin');
