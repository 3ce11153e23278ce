// The spawn helper's own process (see ./index.ts): plain JavaScript with Node's built-ins only, so
// it stays small, which is the whole point — forking a process costs time in proportion to the
// memory of the process that forks. It runs each requested program (argv, never a shell) and
// answers with its exit and output; a detached one (a service) it only starts, answers with its pid
// and reports its exit later. It ends with its parent: when the IPC channel closes.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

const MAX_OUTPUT = 1024 * 1024 * 1024;

/**
 * A detached program: its own session, no stdin, output appended to `log` — the parent's open file
 * as /proc/<parent>/fd/<n>, so this opens the very file the parent opened, not a path in the cell.
 */
function startDetached({ id, file, args, cwd, env, log }) {
  let fd;
  try {
    fd = openSync(log, 'a');
    const child = spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    const pid = child.pid;
    if (pid === undefined) {
      // No pid: not started (no such program or folder); the reason comes as an 'error' event.
      child.on('error', (error) => process.send?.({ id, failedToStart: String(error.message) }));
      return;
    }
    child.on('error', () => {});
    child.on('exit', (code, signal) => process.send?.({ exited: pid, code, signal }));
    process.send?.({ id, pid });
  } catch (error) {
    process.send?.({ id, failedToStart: String(error?.message ?? error) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

process.on('message', (request) => {
  if (request.detached) {
    startDetached(request);
    return;
  }
  const { id, file, args, cwd, env, input } = request;
  const child = execFile(
    file,
    args,
    { cwd, env, maxBuffer: MAX_OUTPUT, encoding: 'utf8', windowsHide: true },
    (error, stdout, stderr) => {
      // A program that could not be started at all (no such program or folder) or run to its end
      // (output past the limit) is said by an error code that is a name, not an exit status.
      const failedToStart = error && typeof error.code === 'string' ? String(error.message) : undefined;
      const exitCode = !failedToStart && typeof child.exitCode === 'number' ? child.exitCode : null;
      process.send?.({ id, exitCode, signal: child.signalCode ?? null, stdout, stderr, failedToStart });
    },
  );
  if (input !== undefined) child.stdin?.end(input);
  else child.stdin?.end();
});

process.on('disconnect', () => process.exit(0));
