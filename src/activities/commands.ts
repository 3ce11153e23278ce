import { readFile } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { execa } from 'execa';
import { tail } from './failures.js';

export interface CommandRun {
  command: string;
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  timeoutMs: number;
  /** Called every few seconds while the command runs (heartbeats go here). */
  onTick?: () => void;
}

export interface CommandResult {
  exitCode: number | undefined;
  timedOut: boolean;
  logTail: string;
}

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Kills a whole process group; a group that is already gone is fine. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs one command line from the trusted template config through `sh -c`, in its own process group
 * so a timeout or an activity cancellation kills everything it started, with output appended to a
 * log file. User input never reaches here: requests only pick templates and option values.
 */
export async function runCommand(run: CommandRun): Promise<CommandResult> {
  const ctx = currentContext();
  const child = execa(run.command, {
    shell: true,
    cwd: run.cwd,
    env: run.env,
    extendEnv: true,
    detached: true,
    stdin: 'ignore',
    // Both streams append to one log, in the order the command wrote them.
    stdout: { file: run.logFile, append: true },
    stderr: { file: run.logFile, append: true },
    reject: false,
  });
  let timedOut = false;
  const kill = () => child.pid !== undefined && killGroup(child.pid, 'SIGKILL');
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, run.timeoutMs);
  const ticker = setInterval(() => run.onTick?.(), 2_000);
  const onCancel = () => kill();
  ctx?.cancellationSignal.addEventListener('abort', onCancel);
  try {
    const result = await child;
    return {
      exitCode: result.exitCode,
      timedOut,
      logTail: tail(await readFile(run.logFile, 'utf8').catch(() => '')),
    };
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
    ctx?.cancellationSignal.removeEventListener('abort', onCancel);
  }
}
