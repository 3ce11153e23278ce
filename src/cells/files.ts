import path from 'node:path';
import { openContained, readContained } from './containedFiles.js';
import { parseEnvFile } from './envFile.js';

// What the API reads of a cell's own files on this host: a service's log tail and `.hive/env`.

/** The bytes read from the end of a log for a tail: enough for a few thousand lines. */
const TAIL_BYTES = 512 * 1024;

/**
 * The last `lines` complete lines of a log file of the cell whose worktree is `root` (a partial
 * first line of the window is dropped); an absent file has no lines yet. A log replaced by a link
 * is refused (FileReplacedError), never followed.
 */
export async function readLogTail(root: string, file: string, lines: number): Promise<string[]> {
  const handle = await openContained(root, file, 'read');
  if (!handle) return [];
  try {
    const { size } = await handle.stat();
    if (!size) return [];
    const start = Math.max(0, size - TAIL_BYTES);
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

/** Where a cell's environment file is, relative to its worktree. */
export const ENV_FILE = path.join('.hive', 'env');

/**
 * The cell's environment as its processes get it, or undefined while the file does not exist. A
 * `.hive/env` replaced by a link is refused (FileReplacedError), never followed.
 */
export async function readCellEnv(worktreePath: string): Promise<Record<string, string> | undefined> {
  const text = await readContained(worktreePath, path.join(worktreePath, ENV_FILE));
  return text === undefined ? undefined : parseEnvFile(text);
}
