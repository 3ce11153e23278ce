// A full disk, said as such: a write that fails for lack of space answers 503 naming the data
// directory (not an opaque 500), and /healthz reports the space left there.
import { statfs } from 'node:fs/promises';
import { problemType } from './problem.js';

/** Below this much free space in the data directory, /healthz reports the disk as not ok. */
export const LOW_DISK_BYTES = 32 * 1024 * 1024;

const FULL = /ENOSPC|SQLITE_FULL|database or disk is full|no space left on device/i;

/** Whether an error (or any error it wraps) is a write that failed for lack of space. */
export function isDiskFull(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = error; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && FULL.test(code)) return true;
    if (typeof message === 'string' && FULL.test(message)) return true;
  }
  return false;
}

/** The 503 for a write that found the disk full. */
export function diskFullProblem(dataDir: string | undefined) {
  const where = dataDir ? `Hive's data directory (${dataDir})` : "Hive's data directory (HIVE_DATA_DIR)";
  return {
    type: problemType('disk-full'),
    title: 'Disk full',
    status: 503,
    detail: `The request could not be stored: the disk holding ${where} is full. Free space on that disk and send the request again; GET /healthz shows the space left.`,
  };
}

/** Free space in the data directory, as a /healthz check. */
export async function diskCheck(dataDir: string): Promise<{ ok: boolean; detail?: string }> {
  try {
    const fs = await statfs(dataDir);
    const free = fs.bavail * fs.bsize;
    const mib = (free / 1024 / 1024).toFixed(free < 10 * 1024 * 1024 ? 1 : 0);
    if (free < LOW_DISK_BYTES) {
      return { ok: false, detail: `${mib} MiB free in ${dataDir}: writes will fail; free space there` };
    }
    return { ok: true, detail: `${mib} MiB free in ${dataDir}` };
  } catch (error) {
    return { ok: false, detail: `${dataDir}: ${error instanceof Error ? error.message : String(error)}` };
  }
}
