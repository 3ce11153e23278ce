import { appendFile, readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { tail } from './failures.js';
import { killGroup } from './processes.js';
import { inActivity } from './steps.js';

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

/**
 * Runs one command line from the trusted template config through `sh -c`, in its own process group
 * so a timeout or an activity cancellation kills everything it started, with output appended to a
 * log file. User input never reaches here: requests only pick templates and option values.
 */
export async function runCommand(run: CommandRun): Promise<CommandResult> {
  const ctx = inActivity();
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

export interface CommandSequence extends Omit<CommandRun, 'command'> {
  commands: string[];
  /** Called before each command (progress reports). */
  onCommand?: (command: string, index: number) => Promise<void>;
  /** The failure to throw when a command fails. */
  failure: (command: string, result: CommandResult) => Error;
}

/** Runs commands one after another, each echoed into the log as `$ command`; stops at the first failure. */
export async function runCommands(sequence: CommandSequence): Promise<void> {
  const { commands, onCommand, failure, ...run } = sequence;
  for (const [i, command] of commands.entries()) {
    await onCommand?.(command, i);
    await appendFile(run.logFile, `$ ${command}\n`).catch(() => undefined);
    const result = await runCommand({ ...run, command });
    if (result.exitCode !== 0) throw failure(command, result);
  }
}
