import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { tail } from './failures.js';
import { isSameProcess, killGroup, processStartTicks, terminateGroup } from './processes.js';
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
   * Where the running command's process group is noted (pid and start time). Its group outlives a
   * worker killed with -9; the next attempt reads this file and ends that group before it starts.
   */
  pidFile?: string;
}

/** Time a leftover command of a dead worker gets between SIGTERM and SIGKILL. */
const LEFTOVER_GRACE_MS = 2_000;

/** Ends the command a crashed worker left running (noted in `pidFile`), if that process still runs. */
export async function endLeftover(pidFile: string | undefined): Promise<boolean> {
  if (!pidFile) return false;
  const [pid, ticks] = (await readFile(pidFile, 'utf8').catch(() => '')).trim().split(' ');
  const leftover = Number(pid) > 0 && (await isSameProcess(Number(pid), ticks ?? null));
  if (leftover) await terminateGroup(Number(pid), LEFTOVER_GRACE_MS);
  await rm(pidFile, { force: true });
  return leftover;
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
  if (run.pidFile && child.pid !== undefined) {
    const note = `${child.pid} ${(await processStartTicks(child.pid)) ?? ''}\n`;
    await writeFile(run.pidFile, note).catch(() => undefined);
  }
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
    if (run.pidFile) await rm(run.pidFile, { force: true });
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
  if (await endLeftover(run.pidFile)) {
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
