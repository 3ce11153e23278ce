import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { packageRoot } from '../../src/config/paths.js';
import type { Harness } from './harness.js';

// Runs the real `hive` command as a child process against a real API, piped or under a real
// pseudo-terminal (util-linux `script`), and returns what a person would have read.

export const hiveBin = path.join(packageRoot, 'bin', 'hive.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Starts the harness's API on a free loopback port; returns its URL. */
export async function listen(h: Harness): Promise<string> {
  return h.app.listen({ host: '127.0.0.1', port: 0 });
}

/** `hive <args>` with stdout and stderr piped (not a terminal). */
export async function hive(
  url: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const result = await execa('node', [hiveBin, ...args], {
    cwd: options.cwd ?? packageRoot,
    env: { HIVE_URL: url, ...options.env },
    extendEnv: true,
    reject: false,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * `hive <args>` on a real pseudo-terminal (`script -qfec`), so it sees a TTY as in a person's
 * terminal. Returns the whole screen output with terminal control sequences removed.
 */
export async function hiveOnTerminal(url: string, args: string[], env: Record<string, string> = {}) {
  // A terminal of a person's size: the pty `script` makes has none while its stdin is no terminal.
  const command = `stty rows 50 cols 160; ${['node', hiveBin, ...args].map(shellQuote).join(' ')}`;
  const result = await execa('script', ['-qfec', command, '/dev/null'], {
    cwd: packageRoot,
    env: { HIVE_URL: url, TERM: 'xterm-256color', COLUMNS: '160', ...env },
    extendEnv: true,
    reject: false,
    stdin: 'ignore',
  });
  const raw = String(result.stdout);
  return { exitCode: result.exitCode ?? -1, raw, text: stripVTControlCharacters(raw).replaceAll('\r', '') };
}
