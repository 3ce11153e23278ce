import { execa } from 'execa';
import { appendCellLog, cellRootOf, openCellLog } from '../cells/containedFiles.js';
import { readLogTail } from '../cells/files.js';
import { tail } from './failures.js';
import { processEnvironment } from './processEnv.js';
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
  // The log is in the cell, where its agent can write: opened without following a link.
  const log = await openCellLog(run.logFile);
  const child = execa(run.command, {
    shell: true,
    cwd: run.cwd,
    // Not Hive's own environment: an allow-list of the host's basics, then the cell's.
    env: { ...processEnvironment(), ...run.env, ...tag },
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    // Both streams append to one log, in the order the command wrote them: the open descriptor is
    // handed to the child as it is (execa's types list only 3…9, its runtime takes any).
    stdout: log.fd as 3,
    stderr: log.fd as 3,
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
      logTail: (run.redact ?? String)(await readLogText(run.logFile)),
    };
  } finally {
    await log.close();
    clearTimeout(timer);
    clearInterval(ticker);
    ctx?.cancellationSignal.removeEventListener('abort', onCancel);
    if (run.spawnNote) await clearSpawnNote(run.spawnNote);
  }
}

/**
 * The last lines of a cell log, for a failure's tail: read from its end only (a log may be huge),
 * and a log replaced by a link is named, never followed.
 */
export async function readLogText(file: string, lines = 20): Promise<string> {
  return readLogTail(cellRootOf(file), file, lines).then(
    (found) => tail(found.join('\n'), lines),
    (error: unknown) => (error instanceof Error ? `(${error.message})` : ''),
  );
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
    await appendCellLog(run.logFile, '(ended the command a stopped worker left running)\n').catch(
      () => undefined,
    );
  }
  for (const [i, command] of commands.entries()) {
    await onCommand?.(command, i);
    await appendCellLog(run.logFile, `$ ${command}\n`).catch(() => undefined);
    const result = await runCommand({ ...run, command });
    if (result.exitCode !== 0) throw failure(command, result);
  }
}
