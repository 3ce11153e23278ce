import {
  closeSync,
  constants,
  fchmodSync,
  openSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { type FileHandle, open, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';

// A cell's own files (`.hive/env`, `.hive/logs/*`) live where its agent can write. An agent may
// replace one, or a folder on its way, with a symlink to anything on the host (`/etc/shadow`,
// `/proc/<hive>/environ`, another cell's env). Hive runs as the host's user, often root: it must
// neither read such a link for a viewer nor append through it. So every read or append of a cell
// file opens it without following a final link (O_NOFOLLOW) and then asks the kernel where the
// open descriptor really is (/proc/self/fd): anything but the expected place inside the cell is
// refused, whatever was swapped in between.

/** A cell file that is no longer the file Hive made: a link, or under a linked folder. */
export class FileReplacedError extends Error {
  constructor(
    readonly file: string,
    readonly resolved: string | undefined,
  ) {
    super(
      `${file} was replaced${resolved ? ` (it leads to ${resolved})` : ' by a symbolic link'}: Hive does not follow it`,
    );
    this.name = 'FileReplacedError';
  }
}

const READ = constants.O_RDONLY | constants.O_NOFOLLOW;
const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/** Where `file` must really be: the same path under the real path of `root` (`root` is Hive's). */
function expectedPath(rootReal: string, root: string, file: string): string {
  const relative = path.relative(root, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new FileReplacedError(file, undefined);
  return path.join(rootReal, relative);
}

const isLinkError = (error: unknown) =>
  (error as NodeJS.ErrnoException).code === 'ELOOP' || (error as NodeJS.ErrnoException).code === 'ENOTDIR';

/**
 * Opens `file` (which must lie under `root`, the cell's worktree) for reading or appending, refusing
 * a link. Resolves to undefined when a file to read does not exist.
 */
export async function openContained(
  root: string,
  file: string,
  mode: 'read' | 'append',
): Promise<FileHandle | undefined> {
  const rootReal = await realpath(root).catch(() => root);
  const expected = expectedPath(rootReal, root, file);
  // A linked folder on the way: refuse before O_CREAT could make a file wherever it leads.
  const parentReal = await realpath(path.dirname(file)).catch(() => undefined);
  if (parentReal !== undefined && parentReal !== path.dirname(expected))
    throw new FileReplacedError(file, path.join(parentReal, path.basename(file)));
  let handle: FileHandle;
  try {
    handle = await open(file, mode === 'read' ? READ : APPEND, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && mode === 'read') return undefined;
    if (isLinkError(error)) throw new FileReplacedError(file, undefined);
    throw error;
  }
  const actual = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => expected);
  if (actual !== expected) {
    await handle.close();
    throw new FileReplacedError(file, actual);
  }
  return handle;
}

/**
 * The synchronous form (a spawned service's log descriptor is opened synchronously; a stream's log
 * tail reads without a thread-pool round trip per call): a descriptor, or undefined when a file to
 * read does not exist. The same checks as `openContained`.
 */
export function openContainedSync(root: string, file: string, mode?: 'append'): number;
export function openContainedSync(root: string, file: string, mode: 'read'): number | undefined;
export function openContainedSync(
  root: string,
  file: string,
  mode: 'read' | 'append' = 'append',
): number | undefined {
  let rootReal = root;
  try {
    rootReal = realpathSync(root);
  } catch {}
  const expected = expectedPath(rootReal, root, file);
  // A linked folder on the way: refuse before O_CREAT could make a file wherever it leads.
  let parentReal: string | undefined;
  try {
    parentReal = realpathSync(path.dirname(file));
  } catch {}
  if (parentReal !== undefined && parentReal !== path.dirname(expected))
    throw new FileReplacedError(file, path.join(parentReal, path.basename(file)));
  let fd: number;
  try {
    fd = openSync(file, mode === 'read' ? READ : APPEND, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && mode === 'read') return undefined;
    if (isLinkError(error)) throw new FileReplacedError(file, undefined);
    throw error;
  }
  let actual = expected;
  try {
    actual = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {}
  if (actual !== expected) {
    closeSync(fd);
    throw new FileReplacedError(file, actual);
  }
  return fd;
}

/** The whole text of a cell file, or undefined when it does not exist; throws FileReplacedError. */
export async function readContained(root: string, file: string): Promise<string | undefined> {
  const handle = await openContained(root, file, 'read');
  if (!handle) return undefined;
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Appends to a cell file; throws FileReplacedError rather than write through a link. */
export async function appendContained(root: string, file: string, text: string): Promise<void> {
  const handle = await openContained(root, file, 'append');
  try {
    await handle?.appendFile(text);
  } finally {
    await handle?.close();
  }
}

/**
 * The worktree a cell log belongs to: cell logs are `<worktree>/.hive/logs/<name>` (and the cell's
 * other files `<worktree>/.hive/<name>`), so the place a log must really be follows from its path.
 */
export function cellRootOf(file: string): string {
  let dir = path.dirname(file);
  if (path.basename(dir) === 'logs') dir = path.dirname(dir);
  if (path.basename(dir) !== '.hive') throw new FileReplacedError(file, undefined);
  return path.dirname(dir);
}

/** Opens a cell log (or other `.hive/` file) for appending, refusing a link. */
export const openCellLog = async (file: string) =>
  (await openContained(cellRootOf(file), file, 'append')) as FileHandle;

/** Reads a cell log (or other `.hive/` file) whole; undefined when absent; refuses a link. */
export const readCellLog = (file: string) => readContained(cellRootOf(file), file);

/** Appends to a cell log (or other `.hive/` file), refusing a link. */
export const appendCellLog = (file: string, text: string) => appendContained(cellRootOf(file), file, text);

/**
 * Writes a cell's `.hive/` file whole without writing through a link: into a fresh file beside it
 * (O_EXCL, so never an existing link), then renamed over the old name, which replaces a link
 * instead of following it. A `.hive/` folder that is itself a link is refused. Small files (env,
 * prompt, notes) on the way to a cell's next step: synchronous syscalls, not one thread-pool round
 * trip each behind the event loop (issue #23).
 */
export async function writeCellFile(file: string, content: string, mode = 0o644): Promise<void> {
  const root = cellRootOf(file);
  let rootReal = root;
  try {
    rootReal = realpathSync(root);
  } catch {}
  const expected = expectedPath(rootReal, root, file);
  const parentReal = realpathSync(path.dirname(file));
  if (parentReal !== path.dirname(expected))
    throw new FileReplacedError(file, path.join(parentReal, path.basename(file)));
  const fresh = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(fresh, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    writeFileSync(fd, content);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(fresh, file);
  } catch (error) {
    rmSync(fresh, { force: true });
    throw error;
  }
}
