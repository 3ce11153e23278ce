import { readFile, stat, statfs } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import getPort, { portNumbers } from 'get-port';
import semver from 'semver';
import which from 'which';
import { git, gitSays } from '../activities/git.js';

// Read-only probes of the real host, used by the dry run. None of them changes anything.

export interface ExecutableCheck {
  path?: string;
  version?: string;
}

/** Finds an executable on PATH and reads its version from `--version` (or `-V`, `version`). */
export async function probeExecutable(name: string): Promise<ExecutableCheck> {
  const found = await which(name, { nothrow: true });
  if (!found) return {};
  for (const args of [['--version'], ['-V'], ['version']]) {
    const result = await execa(found, args, { reject: false, timeout: 5_000, all: true, stdin: 'ignore' });
    const version = semver.coerce(result.all ?? '')?.version;
    if (result.exitCode === 0 && version) return { path: found, version };
  }
  return { path: found };
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) =>
      // No IPv6 on this host is not "in use".
      resolve(error.code === 'EAFNOSUPPORT' || error.code === 'EADDRNOTAVAIL'),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

let probeQueue: Promise<unknown> = Promise.resolve();

/**
 * Whether a TCP port can be bound right now, on IPv4 and IPv6. Not get-port: it locks every port it
 * returns for 15 s in this process, so checking the same fixed port twice (dry run in the API, run
 * time validation in the worker of the same process) would report our own check as a holder. Probes
 * are serialized so two concurrent checks of one port cannot collide with each other either.
 */
export function isPortFree(port: number): Promise<boolean> {
  const result = probeQueue.then(async () => (await canBind(port, '0.0.0.0')) && (await canBind(port, '::')));
  probeQueue = result.catch(() => undefined);
  return result;
}

/** Who listens on a port, from `ss` (iproute2); undefined when it cannot tell. */
export async function portHolder(port: number): Promise<string | undefined> {
  const result = await execa('ss', ['-ltnpH', `sport = :${port}`], { reject: false, timeout: 3_000 });
  if (result.exitCode !== 0 || !result.stdout.trim()) return undefined;
  const users = result.stdout.match(/users:\(\("([^"]+)",pid=(\d+)/);
  return users ? `${users[1]} (pid ${users[2]})` : 'another process';
}

/** Up to `wanted` free ports within [from, to]. */
export async function freePortsInRange(from: number, to: number, wanted: number): Promise<number[]> {
  const found: number[] = [];
  while (found.length < wanted) {
    const port = await getPort({ port: portNumbers(from, to), exclude: found });
    // get-port falls back to a random port when the whole range is taken.
    if (port < from || port > to) break;
    found.push(port);
  }
  return found;
}

export async function freeDiskMb(dir: string): Promise<number> {
  const info = await statfs(dir);
  return Math.floor((info.bavail * info.bsize) / (1024 * 1024));
}

/** MemAvailable (what can be had without swapping), falling back to os.freemem(). */
export async function availableMemoryMb(): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kb = meminfo.match(/^MemAvailable:\s+(\d+) kB/m)?.[1];
  return Math.floor(kb ? Number(kb) / 1024 : os.freemem() / (1024 * 1024));
}

/** The commit a ref names in a repository, or undefined when it does not resolve. */
export async function resolveCommit(repo: string, ref: string): Promise<string | undefined> {
  // On every request's path (the dry run, the plan, a pool's claim): HEAD, the usual base, is read
  // from the repository's files when it can be (a git process costs 10–17 ms on a busy host);
  // anything else, or a HEAD those files do not settle, is git's to answer.
  const head = ref === 'HEAD' ? await readHeadCommit(repo) : undefined;
  return (
    head ??
    ((await git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => '')).trim() ||
      undefined)
  );
}

/**
 * The commit HEAD names, read from the repository's files as git would: a detached HEAD, a loose
 * ref, or packed-refs. Undefined when they do not settle it (an unborn branch, a reftable
 * repository, a symbolic ref chain): resolveCommit then asks git.
 */
export async function readHeadCommit(repo: string): Promise<string | undefined> {
  try {
    let gitDir = path.join(repo, '.git');
    if (!(await stat(gitDir)).isDirectory()) {
      const pointer = (await readFile(gitDir, 'utf8')).match(/^gitdir: (.+)$/m)?.[1];
      if (!pointer) return undefined;
      gitDir = path.resolve(repo, pointer.trim());
    }
    const head = (await readFile(path.join(gitDir, 'HEAD'), 'utf8')).trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = head.match(/^ref: (refs\/\S+)$/)?.[1];
    if (!ref) return undefined;
    // A linked worktree keeps its HEAD in its own folder and the refs in the repository's.
    const common = (await readFile(path.join(gitDir, 'commondir'), 'utf8').catch(() => '')).trim();
    const refsDir = common ? path.resolve(gitDir, common) : gitDir;
    const loose = await readFile(path.join(refsDir, ref), 'utf8').catch(() => undefined);
    if (loose && /^[0-9a-f]{40}\s*$/.test(loose)) return loose.trim();
    const packed = await readFile(path.join(refsDir, 'packed-refs'), 'utf8').catch(() => '');
    return packed
      .split('\n')
      .find((line) => line.endsWith(` ${ref}`))
      ?.slice(0, 40);
  } catch {
    return undefined;
  }
}

export async function isGitRepo(dir: string): Promise<boolean> {
  return gitSays(dir, ['rev-parse', '--is-inside-work-tree']);
}
