import { readFile, statfs } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
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
  // One git process, run directly: this is on every request's path (the dry run and the plan).
  return (
    (await git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => '')).trim() ||
    undefined
  );
}

export async function isGitRepo(dir: string): Promise<boolean> {
  return gitSays(dir, ['rev-parse', '--is-inside-work-tree']);
}
