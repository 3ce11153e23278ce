// Short programs (git, above all) run from a small helper process instead of from Hive's own.
//
// Why: starting a process forks the one that starts it, and a fork costs in proportion to that
// process's memory. Measured on this project's 2-core VM (`/bin/true` through execFile, 30 runs):
// 7 ms from a 45 MiB Node process, 14 ms at 145 MiB, 28 ms at 345 MiB, 44 ms at 645 MiB; forks also
// queue behind each other. Hive's worker holds 400–600 MiB, and a cell's provisioning runs a dozen
// git commands, so each paid ~35 ms where the helper (~45 MiB, plain JavaScript) pays ~7.
//
// The helper is started on first use, shared by every caller of this process, and ends with it (it
// exits when the IPC channel closes). Programs get argv, never a shell, and the caller's environment
// as it is at the call. If the helper is unavailable or dies, the call runs directly (execa): slower,
// never wrong. `HIVE_SPAWN_HELPER=off` runs everything directly.
//
// Services start from it too (`spawnDetached`): a fork of the worker blocks its event loop for the
// whole copy of its page tables (~22 ms measured in startService, issue #23). The helper is their
// parent, so it relays each one's exit (code, signal) back, which the host's supervisor reads.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export interface ProgramRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

interface Reply extends ProgramRun {
  id: number;
  signal: string | null;
  failedToStart?: string;
  /** A detached program's pid (a `spawnDetached` call). */
  pid?: number;
}

/** A detached program the helper started has exited. */
interface ExitReport {
  exited: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Call {
  /** The helper's answer. */
  answer: (reply: Reply) => void;
  /** The helper is gone before answering. */
  gone: () => void;
}

/** Who hears of each detached program's exit, by pid. */
const exitListeners = new Map<
  number,
  (pid: number, code: number | null, signal: NodeJS.Signals | null) => void
>();

const HELPER = fileURLToPath(new URL('./helper.mjs', import.meta.url));

let helper: { child: ChildProcess; calls: Map<number, Call> } | undefined;
let nextId = 1;

/** As execa does: one final newline is not part of the output. */
const stripFinalNewline = (text: string) => text.replace(/\r?\n$/, '');

function startHelper() {
  // No execArgv: the parent's loader flags (tsx) would make the helper as big as the parent.
  const child = fork(HELPER, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const calls = new Map<number, Call>();
  const started = { child, calls };
  child.on('message', (message: Reply | ExitReport) => {
    if ('exited' in message) {
      exitListeners.get(message.exited)?.(message.exited, message.code, message.signal);
      exitListeners.delete(message.exited);
      return;
    }
    const call = calls.get(message.id);
    if (!call) return;
    calls.delete(message.id);
    idleUnlessBusy(started);
    call.answer(message);
  });
  // Gone (killed, crashed): what it had not answered runs directly; the next call starts a new one.
  // The exits of the detached programs it started can no longer be heard (as after a restart).
  const gone = () => {
    if (helper === started) helper = undefined;
    for (const [id, call] of calls) {
      calls.delete(id);
      call.gone();
    }
  };
  child.on('exit', gone);
  child.on('error', gone);
  // The helper never keeps this process alive on its own (see idleUnlessBusy).
  child.unref();
  child.channel?.unref();
  return started;
}

/** The channel holds this process open only while a call waits on it. */
function idleUnlessBusy(h: { child: ChildProcess; calls: Map<number, Call> }) {
  if (h.calls.size === 0) h.child.channel?.unref();
  else h.child.channel?.ref();
}

async function runDirect(
  file: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; input?: string },
): Promise<ProgramRun> {
  const result = await execa(file, args, { ...options, reject: false });
  return { exitCode: result.exitCode ?? null, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs `file` with `args` in `cwd` (this process's environment plus `env`), feeding it `input`, and
 * returns its exit code and output. A non-zero exit is an answer, not an error; so is a program
 * that cannot be started at all (exit code null, the reason in `stderr`).
 */
export function runProgram(
  file: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<ProgramRun> {
  const env = { ...(process.env as Record<string, string>), ...options.env };
  const direct = () => runDirect(file, args, { cwd: options.cwd, env, input: options.input });
  return new Promise<ProgramRun>((resolve, reject) => {
    const viaHelper = ask(
      { file, args, cwd: options.cwd, env, input: options.input },
      {
        answer: (reply) =>
          // Not started at all (no such program, no such folder): no exit code, the reason as its
          // error output — what execa answers with `reject: false` too.
          resolve(
            reply.failedToStart
              ? { exitCode: null, stdout: '', stderr: reply.failedToStart }
              : {
                  exitCode: reply.exitCode,
                  stdout: stripFinalNewline(reply.stdout),
                  stderr: stripFinalNewline(reply.stderr),
                },
          ),
        gone: () => direct().then(resolve, reject),
      },
    );
    if (!viaHelper) direct().then(resolve, reject);
  });
}

/**
 * What `spawnDetached` could not do: `not-started` — the program could not start (no such program
 * or folder); `no-helper` — there is no helper to ask (off, or it cannot start), nothing started;
 * `helper-died` — it ended before answering, so the program may or may not run.
 */
export class DetachedSpawnError extends Error {
  constructor(
    message: string,
    readonly reason: 'not-started' | 'no-helper' | 'helper-died',
  ) {
    super(message);
  }
}

/**
 * Starts `file` with `args` from the helper as a detached process (its own session and process
 * group) with no stdin and its output appended to `logFd` — a file descriptor of this process,
 * which the helper opens again through /proc (the same open file, never a path looked up again).
 * Returns the pid; `onExit` hears its pid, exit code and signal. Throws a `DetachedSpawnError` saying
 * why not (with `no-helper` the caller may start it itself). `env` is the whole environment, not
 * added to this process's.
 */
export function spawnDetached(
  file: string,
  args: string[],
  options: {
    cwd: string;
    env: Record<string, string>;
    logFd: number;
    onExit: (pid: number, code: number | null, signal: NodeJS.Signals | null) => void;
  },
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const log = `/proc/${process.pid}/fd/${options.logFd}`;
    const viaHelper = ask(
      { detached: true, file, args, cwd: options.cwd, env: options.env, log },
      {
        answer: (reply) => {
          if (reply.pid === undefined) {
            reject(new DetachedSpawnError(reply.failedToStart ?? 'not started', 'not-started'));
            return;
          }
          exitListeners.set(reply.pid, options.onExit);
          resolve(reply.pid);
        },
        // Gone before answering: it may have started the program, which its run note names.
        gone: () => reject(new DetachedSpawnError('the spawn helper ended before answering', 'helper-died')),
      },
    );
    if (!viaHelper) reject(new DetachedSpawnError('the spawn helper is off or cannot start', 'no-helper'));
  });
}

/** Sends a request to the helper (started if need be); false when there is no helper to ask. */
function ask(request: Record<string, unknown>, call: Call): boolean {
  if (process.env.HIVE_SPAWN_HELPER === 'off') return false;
  if (!helper?.child.connected) {
    try {
      helper = startHelper();
    } catch {
      return false;
    }
  }
  const h = helper;
  const id = nextId++;
  h.calls.set(id, call);
  idleUnlessBusy(h);
  // (`send` returning false only means a backlog: the message still goes. A message that could
  // not go at all is said by the callback, and only then is the call given up on.)
  h.child.send({ id, ...request }, (error) => {
    if (!error || !h.calls.has(id)) return;
    h.calls.delete(id);
    idleUnlessBusy(h);
    call.gone();
  });
  return true;
}
