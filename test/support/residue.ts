import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { simpleGit } from 'simple-git';
import { expect } from 'vitest';
import { groupAlive } from '../../src/activities/processes.js';
import { cellDatabasesOn } from '../../src/databases/cellDatabases.js';
import { isRunning, serverPaths } from '../../src/databases/server.js';
import type { Db } from '../../src/db/client.js';

export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Zero residue of a cell on the real host: no worktree folder, no branch, no live process in any
 * recorded process group, no listener on any port it held, no active allocation row.
 */
export async function expectZeroResidue(
  db: Db,
  workspacePath: string,
  cellId: string,
  /** Where the workspace's PostgreSQL server is, for cells with databases. */
  databases?: { dataDir: string; workspaceId: string },
) {
  const worktree = `${workspacePath}/.cells/${cellId}`;
  expect(await stat(worktree).catch(() => undefined), `worktree ${worktree} still exists`).toBeUndefined();
  // An overlay worktree (src/worktree/overlay.ts): no mount left, no upper layer left.
  const mounts = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  expect(mounts.includes(` ${worktree} `), `${worktree} is still mounted`).toBe(false);
  const upper = `${workspacePath}/.cells/.overlay/${cellId}`;
  expect(await stat(upper).catch(() => undefined), `overlay layer ${upper} still exists`).toBeUndefined();
  const branches = await simpleGit(workspacePath).branchLocal();
  expect(branches.all, 'cell branch still exists').not.toContain(`cell/${cellId}`);
  const worktrees = await simpleGit(workspacePath).raw(['worktree', 'list', '--porcelain']);
  expect(worktrees).not.toContain(cellId);
  // Nothing was saved either: a cell nobody worked in leaves no archive ref.
  const saved = await simpleGit(workspacePath).raw(['for-each-ref', `refs/hive/archive/${cellId}`]);
  expect(saved.trim(), 'an archive ref was left').toBe('');
  for (const service of await db.serviceInstance.findMany({ where: { cellId } })) {
    if (service.pgid)
      expect(await groupAlive(service.pgid), `process group of ${service.name} alive`).toBe(false);
  }
  // Nothing the cell started (setup commands included) still runs inside its worktree.
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    expect(cwd.startsWith(worktree), `process ${pid} still runs in ${cwd}`).toBe(false);
  }
  // No database of the cell on its workspace's server (its dependency copies went with the worktree).
  if (databases) {
    const server = serverPaths(databases.dataDir, databases.workspaceId);
    if (await isRunning(server))
      expect(await cellDatabasesOn(server, cellId), 'a database is left').toEqual([]);
  }
  const ports = await db.portAllocation.findMany({ where: { cellId } });
  for (const port of ports) {
    expect(port.activeKey, `allocation of ${port.service}.${port.name} still active`).toBeNull();
    expect(await listening(port.port), `something still listens on ${port.port}`).toBe(false);
  }
}
