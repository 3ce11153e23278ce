import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

// What the API reads of a cell's own files on this host: a service's log tail and `.hive/env`.

/** The bytes read from the end of a log for a tail: enough for a few thousand lines. */
const TAIL_BYTES = 512 * 1024;

/**
 * The last `lines` complete lines of a log file (a partial first line of the window is dropped);
 * an absent file has no lines yet.
 */
export async function readLogTail(file: string, lines: number): Promise<string[]> {
  const size = (await stat(file).catch(() => undefined))?.size;
  if (!size) return [];
  const start = Math.max(0, size - TAIL_BYTES);
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    let text = buffer.subarray(0, bytesRead).toString('utf8');
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    const all = text.replace(/\n$/, '').split('\n');
    return text.length === 0 ? [] : all.slice(-lines);
  } finally {
    await handle.close();
  }
}

/**
 * Parses `.hive/env` as the environment step writes it (see `dotenvLine`): `KEY=value`, or
 * `KEY='value'` with a `'` inside written as `'\''`. Values are taken literally: nothing expands.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    const [, key, raw] = match as unknown as [string, string, string];
    env[key] = raw.startsWith("'") && raw.endsWith("'") ? raw.slice(1, -1).replaceAll("'\\''", "'") : raw;
  }
  return env;
}

/** Where a cell's environment file is, relative to its worktree. */
export const ENV_FILE = path.join('.hive', 'env');

/** The cell's environment as its processes get it, or undefined while the file does not exist. */
export async function readCellEnv(worktreePath: string): Promise<Record<string, string> | undefined> {
  const text = await readFile(path.join(worktreePath, ENV_FILE), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseEnvFile(text);
}
