import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { execa, type ResultPromise } from 'execa';
import getPort, { portNumbers } from 'get-port';
import { findTemporalCli } from '../../src/temporal/cli.js';
import { waitForTemporal } from '../../src/temporal/devServer.js';
import {
  ensureTemporalServer,
  type ServerBinaries,
  temporalDeployDir,
} from '../../src/temporal/productionServer.js';
import { dropDatabase } from './postgres.js';

const run = promisify(execFile);

/**
 * The production Temporal server (go.temporal.io/server, built by `hive setup --temporal-server`)
 * with persistence and visibility on the run's PostgreSQL, set up and started exactly as
 * docker-compose.yml does: deploy/temporal/setup.sh (schemas, then namespace and search attributes)
 * and `temporal-server --env hive start` from deploy/temporal with its config/hive.yaml. Only the
 * environment differs: free ports on 127.0.0.1, the test server's Unix socket, a temp database pair.
 */
export interface ProductionTemporal {
  address: string;
  namespace: string;
  binaries: ServerBinaries;
  /** The environment the config and setup script were given (the databases' names among it). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** A database URL of the test PostgreSQL → the config's variables (it listens on a Unix socket). */
function postgresEnv(databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  const socketDir = url.searchParams.get('host');
  return {
    POSTGRES_SEEDS: url.hostname || '127.0.0.1',
    DB_PORT: url.port || '5432',
    POSTGRES_USER: decodeURIComponent(url.username),
    POSTGRES_PWD: decodeURIComponent(url.password),
    ...(socketDir ? { POSTGRES_SOCKET_DIR: socketDir } : {}),
  };
}

async function freePorts(): Promise<Record<string, string>> {
  const names = [
    'FRONTEND_GRPC_PORT',
    'FRONTEND_HTTP_PORT',
    'FRONTEND_MEMBERSHIP_PORT',
    'HISTORY_GRPC_PORT',
    'HISTORY_MEMBERSHIP_PORT',
    'MATCHING_GRPC_PORT',
    'MATCHING_MEMBERSHIP_PORT',
    'WORKER_GRPC_PORT',
    'WORKER_MEMBERSHIP_PORT',
  ];
  // Below 32768: Temporal's cluster_membership table keeps a service's port in a SMALLINT (the
  // kernel's ephemeral range, where a plain free port comes from, starts above it). A random start
  // keeps two runs at once from trying the same ports first.
  const from = 20_000 + Math.floor(Math.random() * 12_000);
  const ports: Record<string, string> = {};
  const taken = new Set<number>();
  for (const name of names) {
    const port = await getPort({
      host: '127.0.0.1',
      port: portNumbers(from, 32_767),
      exclude: [...taken],
    });
    taken.add(port);
    ports[name] = String(port);
  }
  return ports;
}

/** deploy/temporal/setup.sh with the pinned binaries first on PATH. */
async function setupStep(step: 'schema' | 'namespace', env: Record<string, string>, bins: string[]) {
  const PATH = [...new Set(bins.map((b) => path.dirname(b))), process.env.PATH].join(path.delimiter);
  try {
    await run('sh', [path.join(temporalDeployDir, 'setup.sh'), step], {
      env: { ...process.env, ...env, PATH },
      timeout: 120_000,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`setup.sh ${step} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

export async function startProductionTemporal(
  postgresUrl: string,
  options: { namespace?: string; log?: (line: string) => void } = {},
): Promise<ProductionTemporal> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const namespace = options.namespace ?? 'default';
  const binaries = await ensureTemporalServer(log);
  const cli = await findTemporalCli(process.env.TEMPORAL_CLI_PATH);
  if (!cli) throw new Error('no temporal CLI for setup.sh namespace: run `hive setup`');
  const suffix = `${process.pid}_${Date.now() % 1e8}`;
  const ports = await freePorts();
  const env: Record<string, string> = {
    ...postgresEnv(postgresUrl),
    DBNAME: `temporal_${suffix}`,
    VISIBILITY_DBNAME: `temporal_visibility_${suffix}`,
    ...ports,
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // The run's PostgreSQL also serves Hive's records and the other test files: 4 services × (6 + 2)
    // connections at most, not the 4 × (20 + 5) a server of its own may take.
    SQL_MAX_CONNS: '6',
    SQL_VISIBILITY_MAX_CONNS: '2',
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`,
    TEMPORAL_NAMESPACE: namespace,
  };
  const databaseUrl = (name: string) => {
    const url = new URL(postgresUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const dropDatabases = async () => {
    for (const name of [env.DBNAME, env.VISIBILITY_DBNAME] as string[]) {
      await dropDatabase(databaseUrl(name)).catch(() => undefined);
    }
  };
  const bins = [binaries.sqlTool, cli.path];
  await setupStep('schema', env, bins);
  // The server writes nothing of its own but logs; a temp dir as HOME keeps anything stray out of
  // the repository (its config's paths are relative to deploy/temporal, where it runs).
  const home = await mkdtemp(path.join(tmpdir(), 'hive-temporal-server-'));
  // cleanup: true kills the server if the test process exits without calling stop()
  const child: ResultPromise = execa(binaries.server, ['--env', 'hive', 'start'], {
    cwd: temporalDeployDir,
    env: { ...env, HOME: home },
    extendEnv: true,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    cleanup: true,
    reject: false,
    // Read below as it comes (a tail for errors); nothing piles up over a long run.
    buffer: false,
    forceKillAfterDelay: 10_000,
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitedWith: string | undefined;
  void child.then((result) => {
    exitedWith = `exit code ${result.exitCode ?? result.signal}: ${tail.trim()}`;
  });
  const stop = async () => {
    if (!exitedWith) {
      child.kill('SIGTERM');
      await child;
    }
    await dropDatabases();
    await rm(home, { recursive: true, force: true });
  };
  try {
    // The services join their ring before the frontend answers GetSystemInfo.
    await waitForTemporal(
      env.TEMPORAL_ADDRESS as string,
      (connection) => connection.workflowService.getSystemInfo({}),
      { label: 'temporal-server', timeoutMs: 90_000, exited: () => exitedWith },
    );
    await setupStep('namespace', env, bins);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address: env.TEMPORAL_ADDRESS as string, namespace, binaries, env, stop };
}
