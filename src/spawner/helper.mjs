// The spawn helper's own process (see ./index.ts): plain JavaScript with Node's built-ins only, so
// it stays small, which is the whole point — forking a process costs time in proportion to the
// memory of the process that forks. It runs each requested program (argv, never a shell) and
// answers with its exit and output. It ends with its parent: when the IPC channel closes.
import { execFile } from 'node:child_process';

const MAX_OUTPUT = 1024 * 1024 * 1024;

process.on('message', (request) => {
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
