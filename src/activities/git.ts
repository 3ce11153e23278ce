import path from 'node:path';
import { runProgram } from '../spawner/index.js';

// Git, run directly. simple-git waits 50 ms after every command that prints nothing (its completion
// detection), and the provisioning path runs several such commands (worktree prune, branch lookups,
// rev-parse of a missing ref): measured, that was most of the worktree step. The hot path calls git
// here; simple-git stays where its parsing helps and time does not matter.

/** Runs git in `cwd` and returns its stdout; a non-zero exit throws with git's own message. */
export async function git(
  cwd: string,
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<string> {
  // From the small helper process (src/spawner): a fork of Hive's own process costs 3–5× as much.
  const result = await runProgram('git', args, {
    cwd,
    input: options.input,
    env: { GIT_LITERAL_PATHSPECS: '1', GIT_TERMINAL_PROMPT: '0', ...options.env },
  });
  if (result.exitCode !== 0) {
    throw new Error(`git ${args[0]} failed (${result.exitCode}): ${result.stderr.trim().slice(0, 500)}`);
  }
  return result.stdout;
}

/** Exit status only: for questions git answers with 0 or 1. */
export async function gitSays(cwd: string, args: string[]): Promise<boolean> {
  return (await runProgram('git', args, { cwd, env: { GIT_TERMINAL_PROMPT: '0' } })).exitCode === 0;
}

const commonDirs = new Map<string, Promise<string>>();
/**
 * The repository's common git dir (where refs, `info/exclude` and worktree admin folders live),
 * asked of git once per repository and process: a git process costs 10–20 ms here, and the
 * provisioning path would otherwise ask on every cell.
 */
export function gitCommonDir(repo: string): Promise<string> {
  let dir = commonDirs.get(repo);
  if (!dir) {
    dir = git(repo, ['rev-parse', '--git-common-dir']).then((out) => path.resolve(repo, out.trim()));
    // A failure (not a repository yet) is not kept: the next call asks again.
    dir.catch(() => commonDirs.delete(repo));
    commonDirs.set(repo, dir);
  }
  return dir;
}
