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
}

interface Call {
  resolve: (run: ProgramRun) => void;
  reject: (error: Error) => void;
  direct: () => Promise<ProgramRun>;
}

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
  child.on('message', (reply: Reply) => {
    const call = calls.get(reply.id);
    if (!call) return;
    calls.delete(reply.id);
    idleUnlessBusy(started);
    // Not started at all (no such program, no such folder): no exit code, the reason as its error
    // output — what execa answers with `reject: false` too.
    if (reply.failedToStart) {
      call.resolve({ exitCode: null, stdout: '', stderr: reply.failedToStart });
      return;
    }
    call.resolve({
      exitCode: reply.exitCode,
      stdout: stripFinalNewline(reply.stdout),
      stderr: stripFinalNewline(reply.stderr),
    });
  });
  // Gone (killed, crashed): what it had not answered runs directly; the next call starts a new one.
  const gone = () => {
    if (helper === started) helper = undefined;
    for (const [id, call] of calls) {
      calls.delete(id);
      call.direct().then(call.resolve, call.reject);
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
  if (process.env.HIVE_SPAWN_HELPER === 'off') return direct();
  if (!helper?.child.connected) {
    try {
      helper = startHelper();
    } catch {
      return direct();
    }
  }
  const h = helper;
  const id = nextId++;
  return new Promise<ProgramRun>((resolve, reject) => {
    h.calls.set(id, { resolve, reject, direct });
    idleUnlessBusy(h);
    // (`send` returning false only means a backlog: the message still goes. A message that could
    // not go at all is said by the callback, and only then is the call run directly.)
    h.child.send({ id, file, args, cwd: options.cwd, env, input: options.input }, (error) => {
      if (!error || !h.calls.has(id)) return;
      h.calls.delete(id);
      idleUnlessBusy(h);
      direct().then(resolve, reject);
    });
  });
}
