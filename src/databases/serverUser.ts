import { chmod, chown, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

// The OS user a workspace's PostgreSQL server runs as. PostgreSQL refuses to run as root, so when
// Hive runs as root the server runs as the `postgres` system user, which must own its cluster and be
// able to pass through every folder above it.

/** The system user the server runs as when Hive runs as root. */
export const SERVER_OS_USER = 'postgres';

export const asRoot = () => process.getuid?.() === 0;

/** How to run one of PostgreSQL's programs as the server's user. */
export const serverCommand = (bin: string, args: string[]) =>
  asRoot() ? { file: 'runuser', args: ['-u', SERVER_OS_USER, '--', bin, ...args] } : { file: bin, args };

export async function ownByServer(dir: string) {
  if (!asRoot()) return;
  const { stdout } = await execa('id', ['-u', SERVER_OS_USER]);
  const { stdout: gid } = await execa('id', ['-g', SERVER_OS_USER]);
  await chown(dir, Number(stdout), Number(gid));
}

/** Whether the server's user can pass through `dir` (and every folder above it). */
const serverCanEnter = async (dir: string) =>
  (await execa('runuser', ['-u', SERVER_OS_USER, '--', 'test', '-x', dir], { reject: false, cwd: '/' }))
    .exitCode === 0;

/** Why the server cannot reach its cluster, with the fix: a folder above Hive's data dir it cannot enter. */
export class UnreachableFolder extends Error {
  override name = 'UnreachableFolder';
  constructor(
    readonly folder: string,
    readonly hint: string,
  ) {
    super(
      `${folder} is not searchable by user ${SERVER_OS_USER}, so the workspace's PostgreSQL server (run as ${SERVER_OS_USER}, since Hive runs as root) cannot reach its data under it`,
    );
  }
}

/**
 * As root, makes the server's folder `root` (`<dataDir>/postgres/<workspace>`) reachable by the
 * server's user. The folders Hive owns — the data dir, `postgres/` and the server's folder — get the
 * search (x) bit for others (not read: nothing in them can be listed). A folder above the data dir
 * is the user's: it is never changed; one the server's user cannot enter is named, with the fix.
 */
export async function reachableByServer(root: string): Promise<void> {
  if (!asRoot()) return;
  const dataDir = path.dirname(path.dirname(root));
  if (!(await serverCanEnter(dataDir))) {
    const above: string[] = [];
    for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
      above.unshift(dir);
      if (dir === path.dirname(dir)) break;
    }
    for (const dir of above) {
      if (await serverCanEnter(dir)) continue;
      throw new UnreachableFolder(
        dir,
        `Set HIVE_DATA_DIR to a folder user ${SERVER_OS_USER} can enter (e.g. /var/lib/hive), or let it pass through this one: chmod o+x ${dir}`,
      );
    }
  }
  for (const dir of [dataDir, path.dirname(root), root]) {
    const mode = (await stat(dir)).mode & 0o777;
    if ((mode & 0o001) === 0) await chmod(dir, mode | 0o001);
  }
}
