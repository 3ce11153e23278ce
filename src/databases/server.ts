import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import pg from 'pg';
import { initCluster } from './cluster.js';
import { DatabaseServerError } from './errors.js';
import { ownByServer, reachableByServer, serverCommand, UnreachableFolder } from './serverUser.js';

// Callers of the server know its error from here.
export { DatabaseServerError };

// One PostgreSQL server per workspace and host, run by Hive from Debian's binaries. Data under the
// data dir; it listens on a Unix socket only, in a folder only Hive's user (and the server's) can
// enter, with trust authentication: a cell's processes (Hive's user) reach it, other local users do
// not, and no password has to travel through the environment or Temporal history.

export interface ServerPaths {
  /** `<dataDir>/postgres/<workspace>`: the server's own folder (data, log, lock). */
  root: string;
  data: string;
  log: string;
  /** Socket folder: short, since a Unix socket path holds at most 107 bytes. */
  socketDir: string;
}

/** The database user cells connect as (the superuser initdb creates). */
export const DATABASE_USER = 'postgres';
/** The socket's port number (it only names the socket file; nothing listens on TCP). */
export const SOCKET_PORT = 5432;

/** The server of a workspace under a data dir. */
export const serverPaths = (dataDir: string, workspaceId: string): ServerPaths =>
  serverPathsAt(path.resolve(dataDir, 'postgres', workspaceId));

/** The paths of the server whose folder is `root` (as a cell's plan records it). */
export function serverPathsAt(root: string): ServerPaths {
  const id = createHash('sha256').update(root).digest('hex').slice(0, 12);
  return {
    root,
    data: path.join(root, 'data'),
    log: path.join(root, 'server.log'),
    socketDir: path.join(os.tmpdir(), `hive-pg-${id}`),
  };
}

/** Debian's PostgreSQL binaries (the newest installed), else whatever `postgres` PATH has. */
export async function postgresBinDir(): Promise<string | undefined> {
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  if (newest) return path.join('/usr/lib/postgresql', newest, 'bin');
  const which = await execa('sh', ['-c', 'command -v postgres'], { reject: false });
  return which.exitCode === 0 ? path.dirname(which.stdout.trim()) : undefined;
}

/** A client of one database of the server (`postgres` for administration). */
export function client(paths: ServerPaths, database = 'postgres'): pg.Client {
  return new pg.Client({ host: paths.socketDir, port: SOCKET_PORT, user: DATABASE_USER, database });
}

export async function isRunning(paths: ServerPaths): Promise<boolean> {
  const c = client(paths);
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * Runs `fn` holding the server folder's lock (a directory made atomically). A lock left by a killed
 * process is taken over after `staleMs`.
 */
async function withLock<T>(root: string, fn: () => Promise<T>, staleMs = 60_000): Promise<T> {
  const lock = path.join(root, '.lock');
  await mkdir(root, { recursive: true });
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (since > staleMs) await rm(lock, { recursive: true, force: true });
      else await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

const tailOf = async (file: string) =>
  (await readFile(file, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-15).join('\n');

/** The socket file the server listens on. */
export const socketFile = (paths: ServerPaths) => path.join(paths.socketDir, `.s.PGSQL.${SOCKET_PORT}`);

/**
 * The pid of the server that holds the data dir (its `postmaster.pid`), when that process is alive
 * and is PostgreSQL's (not a later process that got the same pid); undefined otherwise. Reads two
 * small files: cheap enough to look every few seconds.
 */
export async function postmasterPid(paths: ServerPaths): Promise<number | undefined> {
  const text = await readFile(path.join(paths.data, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (!(pid > 0)) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  // `<pid> (<comm>) <state> …`; without /proc (not Linux) the signal's answer is all there is. A
  // zombie (killed, not yet reaped) is gone.
  const procStat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => `${pid} (postgres) S`);
  const comm = procStat.slice(procStat.indexOf('(') + 1, procStat.lastIndexOf(')'));
  const state = procStat.slice(procStat.lastIndexOf(')') + 2, procStat.lastIndexOf(')') + 3);
  return comm.startsWith('postgres') && state !== 'Z' ? pid : undefined;
}

/** Whether the server looks alive without connecting: its postmaster runs and its socket exists. */
export async function looksAlive(paths: ServerPaths): Promise<boolean> {
  return (
    (await postmasterPid(paths)) !== undefined && (await stat(socketFile(paths)).catch(() => null)) !== null
  );
}

/** Waits for the server to answer; `exited` says the process we started is gone. */
async function answers(paths: ServerPaths, exited: () => boolean) {
  const deadline = Date.now() + 30_000;
  while (!(await isRunning(paths))) {
    if (exited() || Date.now() > deadline) {
      throw new DatabaseServerError(
        'failed',
        `the workspace's PostgreSQL server did not start (${exited() ? 'it exited' : 'no answer in 30 s'})`,
        `See its log: ${paths.log}`,
        await tailOf(paths.log),
      );
    }
    await sleep(50);
  }
}

/**
 * A postmaster that still holds the data dir (starting up, recovering, shutting down) is waited for:
 * true once it answers, false once it is gone (a new one may start). Never a second one beside it.
 */
async function answersOnceUp(paths: ServerPaths): Promise<boolean> {
  const holder = await postmasterPid(paths);
  if (holder === undefined) return false;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await isRunning(paths)) return true;
    if ((await postmasterPid(paths)) !== holder) return false;
    if (Date.now() > deadline) {
      throw new DatabaseServerError(
        'failed',
        `PostgreSQL (pid ${holder}) holds ${paths.data} but does not answer on ${socketFile(paths)}`,
        `See its log: ${paths.log}; stop it (kill ${holder}) and Hive starts the server again.`,
        await tailOf(paths.log),
      );
    }
    await sleep(100);
  }
}

/**
 * The workspace's server, running: created with initdb the first time (into a temporary folder,
 * renamed into place, so a kill leaves no half-made cluster), started when it is not running (also
 * after a crash or a host restart). Safe to call from many cells and processes at once: one holds
 * the lock, and a postmaster still holding the data dir (starting, recovering) is waited for, never
 * joined by a second one.
 */
export async function ensureServer(paths: ServerPaths): Promise<void> {
  if (await isRunning(paths)) return;
  await withLock(paths.root, async () => {
    if (await isRunning(paths)) return;
    const bin = await postgresBinDir();
    if (!bin) {
      throw new DatabaseServerError(
        'not-installed',
        'PostgreSQL is not installed on this host',
        'Install it (Debian: apt-get install postgresql), or use a process service that runs your own database.',
      );
    }
    try {
      await reachableByServer(paths.root);
    } catch (error) {
      if (error instanceof UnreachableFolder)
        throw new DatabaseServerError('failed', error.message, error.hint);
      throw error;
    }
    if (await answersOnceUp(paths)) return;
    await initCluster(paths.data, bin, DATABASE_USER);
    await mkdir(paths.socketDir, { recursive: true, mode: 0o700 });
    await ownByServer(paths.socketDir);
    const start = serverCommand(path.join(bin, 'postgres'), [
      '-D',
      paths.data,
      '-k',
      paths.socketDir,
      '-p',
      String(SOCKET_PORT),
      '-c',
      'listen_addresses=',
      '-c',
      'max_connections=200',
    ]);
    // Its own session, detached: the server outlives the activity (and the worker) that started it.
    const child = execa(start.file, start.args, {
      cwd: '/',
      detached: true,
      stdin: 'ignore',
      stdout: { file: paths.log, append: true },
      stderr: { file: paths.log, append: true },
      reject: false,
      cleanup: false,
    });
    child.unref();
    let exited = false;
    void child.then(() => {
      exited = true;
    });
    await answers(paths, () => exited);
  });
}

/** Stops the server (fast shutdown: open sessions are ended); nothing when it does not run. */
export async function stopServer(paths: ServerPaths): Promise<void> {
  const bin = await postgresBinDir();
  if (!bin || !(await stat(path.join(paths.data, 'postmaster.pid')).catch(() => undefined))) return;
  const stop = serverCommand(path.join(bin, 'pg_ctl'), ['-D', paths.data, 'stop', '-m', 'fast', '-w']);
  await execa(stop.file, stop.args, { reject: false, cwd: '/' });
  await rm(paths.socketDir, { recursive: true, force: true });
}

/** Stops every workspace server under a data dir (when Hive stops). */
export async function stopDatabaseServers(dataDir: string): Promise<void> {
  const workspaces = await readdir(path.join(dataDir, 'postgres')).catch(() => [] as string[]);
  await Promise.all(workspaces.map((id) => stopServer(serverPaths(dataDir, id))));
}
