import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { ensureTemporalCli } from './cli.js';
import { searchAttributeKeys } from './searchAttributes.js';

export interface DevServerOptions {
  /** gRPC port; 0 picks a free one. */
  port: number;
  /** Web UI port; undefined runs headless, 0 picks a free one. */
  uiPort?: number;
  /** SQLite file for history; undefined keeps everything in memory. */
  dbFilename?: string;
  /**
   * With a history file: its SQLite in WAL mode with `synchronous=normal` (the default, true), or
   * SQLite's own rollback journal with a full sync on every commit (false). See sqliteArgs.
   */
  walJournal?: boolean;
  namespace: string;
  /** Port of the server's Prometheus `/metrics` (its RPCs counted there); 0 picks a free one. */
  metricsPort?: number;
  cliPath?: string;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

/** A Temporal server this process uses: started by us (stop it) or found at TEMPORAL_ADDRESS. */
export interface TemporalServer {
  address: string;
  uiUrl?: string;
  /** Its Prometheus metrics, when asked for (`metricsPort`). */
  metricsUrl?: string;
  /** What runs it: an address given by the user, a CLI path, or the SDK download. */
  origin: string;
  stop(): Promise<void>;
}

async function freeOrFail(port: number, what: string, variable: string): Promise<number> {
  if (port === 0) return getPort({ host: '127.0.0.1' });
  const got = await getPort({ host: '127.0.0.1', port });
  if (got !== port) {
    throw new Error(
      `${what} port ${port} is already in use; set ${variable} to a free port, or TEMPORAL_ADDRESS to use a running server`,
    );
  }
  return port;
}

/**
 * Polls a Temporal frontend until `probe` answers on a fresh connection, or the server process
 * exits (`exited` says how), or `timeoutMs` passes; `label` names the server in the errors.
 */
export async function waitForTemporal(
  address: string,
  probe: (connection: Connection) => Promise<unknown>,
  options: { label: string; timeoutMs: number; exited: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const exit = options.exited();
    if (exit) throw new Error(`${options.label} exited before it was ready: ${exit}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await probe(connection);
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await sleep(200);
    }
  }
  throw new Error(
    `${options.label} at ${address} not ready after ${options.timeoutMs} ms: ${String(lastError)}`,
  );
}

function searchAttributeArgs(): string[] {
  return searchAttributeKeys.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}

/**
 * Eager activity dispatch: a workflow task completion that schedules an activity on the workflow's
 * own task queue gets the activity task back in its response, when the worker has a free slot — no
 * trip through matching (each was 15–40 ms of a cell's provisioning). Off by default in the server.
 */
const dynamicConfigArgs = ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];

/**
 * Temporal's SQLite commits every workflow transition (two or more per workflow turn); in its default
 * rollback-journal mode each commit syncs the journal and the file. WAL with `synchronous=normal`
 * syncs only at checkpoints: a crash of the process loses nothing, a power cut may lose the last
 * transactions, and the file stays consistent (docs/lifecycle.md). Issue 23 measured P1 −15 to −20 %.
 */
const sqliteArgs = (wal: boolean) =>
  wal ? ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'] : [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A dev server whose `hive up` was killed (-9) lives on, holding its ports and history file. Its pid
 * file says who started it: with that owner dead, the orphan is stopped so this start can take over
 * the same history; with the owner alive, another `hive up` uses this data dir and we refuse.
 */
async function reapOrphan(pidFile: string): Promise<void> {
  const recorded = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (!recorded) return;
  const { server, owner } = JSON.parse(recorded) as { server: number; owner: number };
  if (owner !== process.pid && alive(owner) && alive(server)) {
    throw new Error(
      `another hive process (pid ${owner}) runs a dev server on this data dir; stop it or set HIVE_DATA_DIR`,
    );
  }
  const cmdline = await readFile(`/proc/${server}/cmdline`, 'utf8').catch(() => '');
  if (alive(server) && cmdline.includes('start-dev')) {
    process.kill(server, 'SIGTERM');
    for (let i = 0; i < 100 && alive(server); i++) await sleep(100);
    if (alive(server)) process.kill(server, 'SIGKILL');
  }
  await rm(pidFile, { force: true });
}

/** Runs `temporal server start-dev` from a CLI binary and waits until it serves the namespace. */
async function startFromCli(cli: string, options: DevServerOptions): Promise<TemporalServer> {
  const pidFile = options.dbFilename ? `${options.dbFilename}.pid` : undefined;
  if (pidFile) await reapOrphan(pidFile);
  const port = await freeOrFail(options.port, 'Temporal gRPC', 'HIVE_TEMPORAL_PORT');
  const uiPort =
    options.uiPort === undefined
      ? undefined
      : await freeOrFail(options.uiPort, 'Temporal UI', 'HIVE_TEMPORAL_UI_PORT');
  const metricsPort =
    options.metricsPort === undefined
      ? undefined
      : await getPort({ host: '127.0.0.1', port: options.metricsPort || undefined });
  if (options.dbFilename) await mkdir(path.dirname(options.dbFilename), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...searchAttributeArgs(),
    ...dynamicConfigArgs,
    ...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(metricsPort === undefined ? [] : ['--metrics-port', String(metricsPort)]),
    ...(options.dbFilename
      ? ['--db-filename', options.dbFilename, ...sqliteArgs(options.walJournal ?? true)]
      : []),
  ];
  // cleanup: true kills the server if this process exits without calling stop()
  const child: ResultPromise = execa(cli, args, {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    cleanup: true,
    reject: false,
    forceKillAfterDelay: 10_000,
  });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2_000);
  });
  let exitedWith: string | undefined;
  void child.then((result) => {
    exitedWith = `exit code ${result.exitCode ?? result.signal}: ${stderrTail.trim()}`;
  });
  const address = `127.0.0.1:${port}`;
  if (pidFile && child.pid)
    await writeFile(pidFile, JSON.stringify({ server: child.pid, owner: process.pid }));
  try {
    // The namespace exists only some time after the frontend answers: wait for both.
    await waitForTemporal(
      address,
      (connection) => connection.workflowService.describeNamespace({ namespace: options.namespace }),
      { label: 'Temporal dev server', timeoutMs: options.readyTimeoutMs ?? 60_000, exited: () => exitedWith },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    metricsUrl: metricsPort === undefined ? undefined : `http://127.0.0.1:${metricsPort}/metrics`,
    origin: cli,
    async stop() {
      if (!exitedWith) {
        child.kill('SIGTERM');
        await child;
      }
      if (pidFile) await rm(pidFile, { force: true });
    },
  };
}

/** Fallback for machines without Go: the SDK downloads a CLI (needs the vendor CDN). */
async function startFromSdkDownload(options: DevServerOptions): Promise<TemporalServer> {
  const port = await freeOrFail(options.port, 'Temporal gRPC', 'HIVE_TEMPORAL_PORT');
  const ui = options.uiPort !== undefined;
  const uiPort = ui
    ? await freeOrFail(options.uiPort ?? 0, 'Temporal UI', 'HIVE_TEMPORAL_UI_PORT')
    : undefined;
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port,
      ui,
      uiPort,
      namespace: options.namespace,
      dbFilename: options.dbFilename,
      searchAttributes: searchAttributeKeys,
      extraArgs: [
        ...dynamicConfigArgs,
        ...(options.dbFilename ? sqliteArgs(options.walJournal ?? true) : []),
      ],
    },
  });
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    origin: 'SDK download',
    stop: () => env.teardown(),
  };
}

/**
 * The one place that decides which Temporal server to use:
 * TEMPORAL_ADDRESS → connect, start nothing; else a CLI (TEMPORAL_CLI_PATH, PATH, tools folder, or
 * built with Go); else the SDK's own download.
 */
export async function useTemporalServer(
  options: DevServerOptions & { address?: string },
): Promise<TemporalServer> {
  const log = options.log ?? (() => {});
  if (options.address) {
    return { address: options.address, origin: 'TEMPORAL_ADDRESS', stop: async () => {} };
  }
  const cli = await ensureTemporalCli(options.cliPath, log);
  if (cli) return startFromCli(cli.path, options);
  log('No temporal CLI and no Go toolchain found; falling back to the SDK download.');
  return startFromSdkDownload(options);
}
