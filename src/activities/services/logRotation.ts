import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { cellRootOf, openContained } from '../../cells/containedFiles.js';

// Service logs grow for as long as a cell lives. A service writes its log through a descriptor it
// inherited (it keeps logging when Hive restarts), so the log cannot be reopened under it: it is
// rotated by copy and truncate, as logrotate's copytruncate does — the old content becomes
// `<log>.1` (one previous file is kept), and the service goes on writing at the start of its now
// empty log (it appends). What it writes between the copy and the truncate is lost: a few lines at
// most, once per `maxBytes`.

/** Default bound on a service log before it is rotated (HIVE_LOG_MAX_MB). */
export const DEFAULT_LOG_MAX_BYTES = 64 * 1024 * 1024;

/** Rotates a cell's log when it is over `maxBytes`; true when it did. Never follows a link. */
export async function rotateLog(file: string, maxBytes: number): Promise<boolean> {
  const root = cellRootOf(file);
  const source = await openContained(root, file, 'read').catch(() => undefined);
  if (!source) return false;
  const previous = `${file}.1`;
  const fresh = `${previous}.${process.pid}-${Date.now()}.tmp`;
  try {
    if ((await source.stat()).size <= maxBytes) return false;
    // A fresh file (wx: never an existing one, so never a link), renamed over the previous one.
    await pipeline(source.createReadStream({ autoClose: false }), createWriteStream(fresh, { flags: 'wx' }));
    await rename(fresh, previous);
  } catch (error) {
    await rm(fresh, { force: true });
    throw error;
  } finally {
    await source.close();
  }
  const target = await openContained(root, file, 'append');
  try {
    await target?.truncate(0);
  } finally {
    await target?.close();
  }
  return true;
}
