import { execa } from 'execa';

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
  const result = await execa('git', args, {
    cwd,
    input: options.input,
    env: { GIT_LITERAL_PATHSPECS: '1', GIT_TERMINAL_PROMPT: '0', ...options.env },
    reject: false,
  });
  if (result.exitCode !== 0) {
    throw new Error(`git ${args[0]} failed (${result.exitCode}): ${result.stderr.trim().slice(0, 500)}`);
  }
  return result.stdout;
}

/** Exit status only: for questions git answers with 0 or 1. */
export async function gitSays(cwd: string, args: string[]): Promise<boolean> {
  return (await execa('git', args, { cwd, reject: false, env: { GIT_TERMINAL_PROMPT: '0' } })).exitCode === 0;
}
