import { shellWord } from './blocks.js';

// A `.env` for a worktree, made from the repository's `.env.example` (or .sample, .template…) when
// there is no `.env`: the example's lines without the variables Hive gives the processes itself
// (PORT, DATABASE_URL…), which a dotenv loader that overrides (env-cmd does) would otherwise set
// back to the example's values. The command holds only names init chose, never repository text.

/** Example files, in the order they are looked for. */
export const ENV_EXAMPLES = ['.env.example', '.env.sample', '.env.template', '.env.dist', '.env.defaults'];

const NAME_PATTERN = /^[A-Z_][A-Z0-9_[\]*-]*$/;

/**
 * `test -e .env || sed … .env.example > .env`: keeps a `.env` already there (copied by
 * includePatterns, say), else writes the example without the lines setting `names` (POSIX ERE
 * patterns of variable names, e.g. `DATABASE_[A-Z0-9_]*`).
 */
export function envFromExample(example: string, names: string[]): string {
  if (!ENV_EXAMPLES.includes(example)) throw new Error(`not an example file init chooses: ${example}`);
  const safe = [...new Set(names)].filter((n) => NAME_PATTERN.test(n));
  if (safe.length === 0) return `test -e .env || cp ${shellWord(example)} .env`;
  const pattern = `/^[[:space:]]*(export[[:space:]]+)?(${safe.join('|')})[[:space:]]*=/d`;
  return `test -e .env || sed -E ${shellWord(pattern)} ${shellWord(example)} > .env`;
}
