import { appendFile, readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { tail } from './failures.js';
import { killGroup } from './processes.js';
import { clearSpawnNote, endLeftovers, noteSpawn } from './spawnNotes.js';
import { inActivity } from './steps.js';

export interface CommandRun {
  command: string;
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  timeoutMs: number;
  /** Called every few seconds while the command runs (heartbeats go here). */
  onTick?: () => void;
  /** Masks secret values in the log tail a failure carries (the log file itself is the command's). */
  redact?: (text: string) => string;
  /**
   * The spawn note of the running command (see spawnNotes.ts). Its process group outlives a worker
   * killed with -9; the next attempt finds the note and ends that group before it starts.
   */
  spawnNote?: string;
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
  // A cancellation that arrived earlier in the step (before this command) has already fired its
  // 'abort' event: nothing would hear it below, and the command would run to its end.
  ctx?.cancellationSignal.throwIfAborted();
  const tag = run.spawnNote ? await noteSpawn(run.spawnNote) : {};
  const child = execa(run.command, {
    shell: true,
    cwd: run.cwd,
    env: { ...run.env, ...tag },
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
  // Cancelled while the command was being spawned and noted: no event comes for that either.
  if (ctx?.cancellationSignal.aborted) onCancel();
  try {
    const result = await child;
    return {
      exitCode: result.exitCode,
      timedOut,
      logTail: (run.redact ?? String)(tail(await readFile(run.logFile, 'utf8').catch(() => ''))),
    };
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
    ctx?.cancellationSignal.removeEventListener('abort', onCancel);
    if (run.spawnNote) await clearSpawnNote(run.spawnNote);
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
  if (await endLeftovers(run.spawnNote)) {
    await appendFile(run.logFile, '(ended the command a stopped worker left running)\n').catch(
      () => undefined,
    );
  }
  for (const [i, command] of commands.entries()) {
    await onCommand?.(command, i);
    await appendFile(run.logFile, `$ ${command}\n`).catch(() => undefined);
    const result = await runCommand({ ...run, command });
    if (result.exitCode !== 0) throw failure(command, result);
  }
}
