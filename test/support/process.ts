import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { inject } from 'vitest';
import { packageRoot } from '../../src/config/paths.js';
import { createGitRepo } from './gitRepo.js';
import type { Harness } from './harness.js';

/** True when a process with this pid exists (signal 0 checks without touching it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of processes whose command line contains `needle` (from the real process table). */
export async function pidsMatching(needle: string): Promise<number[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  return stdout
    .split('\n')
    .filter((line) => line.includes(needle))
    .map((line) => Number.parseInt(line.trim(), 10))
    .filter((pid) => pid !== process.pid);
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export interface HiveProcess {
  child: ResultPromise;
  output(): string;
  /** Resolves once the process printed its start-up summary. */
  ready: Promise<void>;
}

/** Runs `hive <command>` as a real separate process (so a test can kill -9 it). */
export function spawnHive(
  command: 'up' | 'worker' | 'api',
  env: Record<string, string | undefined>,
  args: string[] = [],
  /** Where it runs, and the `hive` it runs (e.g. a symlink to bin/hive.js, as `npm link` makes). */
  where: { cwd?: string; bin?: string } = {},
): HiveProcess {
  let out = '';
  const child = execa('node', [where.bin ?? path.join(packageRoot, 'bin', 'hive.js'), command, ...args], {
    cwd: where.cwd ?? packageRoot,
    env: { HIVE_LOG_LEVEL: 'warn', ...env },
    extendEnv: true,
    all: true,
    reject: false,
    forceKillAfterDelay: 30_000,
  });
  child.all?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  // Up, or the reason it is not (it exited first, or was not up in time), with its output.
  const up = eventually(
    async () => (out.includes('Hive cells is up') ? true : undefined),
    `hive ${command}`,
    120_000,
  );
  const exited = child.then((result) => {
    throw new Error(`hive ${command} exited (${result.signal ?? result.exitCode}) before it was up`);
  });
  const ready = Promise.race([up, exited]).then(
    () => undefined,
    (error: unknown) => {
      throw new Error(`${String(error)}\n${out.slice(-3_000)}`);
    },
  );
  // A test may wait for the exit instead (a start meant to be refused): unawaited, neither is an error.
  exited.catch(() => undefined);
  ready.catch(() => undefined);
  return { child, output: () => out, ready };
}

/** Node processes running `script` with their working directory inside `dir` (from /proc). */
export async function nodeProcessesIn(dir: string, script: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (!cwd.startsWith(dir)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (path.basename(argv[0] ?? '') === 'node' && argv[1] === script) found.push(Number(pid));
  }
  return found;
}

/**
 * `hive worker` as a separate process (a test can kill -9 it) against a harness's dev server, task
 * queue, database and workspace; `env` adds or overrides variables.
 */
export function spawnWorker(
  h: Pick<Harness, 'taskQueue' | 'dbUrl' | 'workspace'>,
  env: Record<string, string> = {},
  args: string[] = [],
): HiveProcess {
  return spawnHive(
    'worker',
    {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: h.taskQueue,
      DATABASE_URL: h.dbUrl,
      HIVE_WORKSPACES: `demo=${h.workspace.path}`,
      HIVE_HOST_ID: 'test-host',
      ...env,
    },
    args,
  );
}

/** What a `hive up` run as a separate process needs: a data folder, a workspace `app` of `files`, free ports. */
export async function embeddedStack(prefix: string, files: Record<string, string>) {
  const dataDir = await mkdtemp(path.join(tmpdir(), prefix));
  const repo = await createGitRepo(files);
  const env: Record<string, string> = {
    HIVE_DATA_DIR: dataDir,
    HIVE_PORT: String(await getPort()),
    HIVE_TEMPORAL_PORT: String(await getPort()),
    HIVE_TEMPORAL_UI_PORT: String(await getPort()),
    HIVE_WORKSPACES: `app=${repo}`,
  };
  return { dataDir, repo, env };
}

/**
 * Kills a `hive up` and its dev server (found by its port), then `beforeRemoval` (what else the test
 * owns), then removes the data folder and the workspace.
 */
export async function removeEmbeddedStack(
  stack: { dataDir: string; repo: string; env: Record<string, string> },
  up: HiveProcess | undefined,
  beforeRemoval: () => Promise<void> = async () => {},
): Promise<void> {
  up?.child.kill('SIGKILL');
  for (const pid of await pidsMatching(`--port ${stack.env.HIVE_TEMPORAL_PORT} `))
    process.kill(pid, 'SIGKILL');
  await beforeRemoval();
  await rm(stack.dataDir, { recursive: true, force: true });
  await rm(stack.repo, { recursive: true, force: true });
}
