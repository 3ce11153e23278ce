import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createFirstPlacement } from '../activities/hosts.js';
import { createStepRecorder } from '../activities/steps.js';
import { createFirstPlanner } from '../activities/validate.js';
import { buildApp, type HiveApp } from '../api/app.js';
import { refuseUnsafeBinding } from '../auth/binding.js';
import { finalStatuses } from '../cells/status.js';
import { ConfigError, type HiveConfig, type Workspace } from '../config/env.js';
import { openWorkspaceRegistry } from '../config/workspaces.js';
import { stopDatabaseServers } from '../databases/server.js';
import { createDb, type Db } from '../db/client.js';
import { applyMigrations } from '../db/migrate.js';
import { createHandOverHere } from '../pools/activities.js';
import { ensurePools } from '../pools/index.js';
import {
  declaredServicesFrom,
  type HiveProxy,
  refuseUnsafeProxyBinding,
  startProxy,
} from '../proxy/index.js';
import { createWaker } from '../proxy/wake.js';
import { createConfigLoader } from '../templates/loader.js';
import { useTemporalServer } from '../temporal/devServer.js';
import { createHiveWorker, type HiveWorker, installWorkerRuntime } from '../worker/index.js';

export interface StackParts {
  api: boolean;
  worker: boolean;
  /** Start an embedded dev server when TEMPORAL_ADDRESS is unset (hive up). */
  embeddedTemporal: boolean;
}

export interface RunningStack {
  apiUrl?: string;
  /** The cells' reverse proxy (with the API, unless HIVE_PROXY_PORT=off): src/proxy. */
  proxy?: HiveProxy;
  /** `http://<cell>.<domain>:<port>` with placeholders, for the start-up lines. */
  proxyUrl?: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  /** The task queue of this host's activities (the shared one when `hive up` runs alone). */
  hostTaskQueue?: string;
  /** The registered workspaces, live (HIVE_WORKSPACES, then those stored). */
  workspaces: Workspace[];
  /**
   * This host's cells whose services still run (they outlive Hive on purpose: a restart adopts them)
   * — what `hive up` names when it stops. Empty without a worker.
   */
  liveCells(): Promise<Array<{ id: string; services: number }>>;
  stop(): Promise<void>;
}

type Log = (line: string) => void;

/**
 * Starts the parts of the service a command asks for, in dependency order, and returns one stop()
 * that takes them down in reverse. Used by `hive up`, `hive api` and `hive worker`.
 */
export async function startStack(config: HiveConfig, parts: StackParts, log: Log): Promise<RunningStack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) {
      await fn().catch((error: unknown) => log(`shutdown step failed: ${String(error)}`));
    }
  };
  try {
    // We own process signals (graceful shutdown of API, worker and dev server together).
    installWorkerRuntime(config.logLevel === 'debug' || config.logLevel === 'trace' ? 'DEBUG' : 'WARN');
    // The database first: an API that must not start (no token, not loopback) refuses before anything
    // else is started.
    await applyMigrations(config.databaseUrl);
    const db: Db = createDb(config.databaseUrl);
    stops.push(() => db.$disconnect());
    if (parts.api) await refuseUnsafeBinding(db, config.host);
    if (parts.api && config.proxy) await refuseUnsafeProxyBinding(db, config.proxy.host);

    const server = parts.embeddedTemporal
      ? await useTemporalServer({
          address: config.temporal.address,
          port: config.temporal.devServerPort,
          uiPort: config.temporal.devServerUiPort,
          dbFilename: path.join(config.dataDir, 'temporal.db'),
          namespace: config.temporal.namespace,
          cliPath: config.temporal.cliPath,
          log,
        })
      : {
          address: config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}`,
          stop: async () => {},
        };
    stops.push(() => server.stop());

    const configs = createConfigLoader();
    // One live list of workspaces for the API and the worker: one added while running reaches both.
    const workspaces = await openWorkspaceRegistry(db, config.workspacesFromCwd ? [] : config.workspaces, {
      remember: config.workspacesFromCwd ? config.workspaces[0] : undefined,
    });

    // The cells' proxy runs with the API (a cell's URLs need a running Hive anyway), before the
    // worker, whose activities write its URLs into .hive/env and the prompt.
    let proxy: HiveProxy | undefined;
    let apiPort: number | undefined;
    if (parts.api && config.proxy) {
      const options = {
        db,
        hostId: config.hostId,
        ...config.proxy,
        declaredServices: declaredServicesFrom(configs, () => workspaces.list),
        forbiddenPorts: () => [config.port, ...(apiPort ? [apiPort] : [])],
      };
      const p = await startProxy(options).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRINUSE') throw error;
        const why = `port ${options.port} of the cells' proxy is in use`;
        if (config.proxy?.fixed) throw new ConfigError(`${why} (HIVE_PROXY_PORT): choose another, or off`);
        // The default next to the API's is only a default: take a free one, and say so.
        log(`${why}; it takes a free port (set HIVE_PROXY_PORT to keep one)`);
        return startProxy({ ...options, port: 0 });
      });
      proxy = p;
      stops.push(() => p.close());
    }

    let worker: HiveWorker | undefined;
    if (parts.worker) {
      worker = await createHiveWorker({
        address: server.address,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        workflowBundlePath: config.temporal.workflowBundlePath,
        workspaceRegistry: workspaces,
        deps: {
          db,
          workspaces: workspaces.list,
          configs,
          host: config.hostId,
          setupTimeoutMs: config.setupTimeoutMs,
          stopGraceMs: config.stopGraceMs,
          notifyRetryMs: config.notifyRetryMs,
          logMaxBytes: config.logMaxBytes,
          idle: config.idle,
          dependencyCache: config.dependencyCache,
          dataDir: config.dataDir,
          // Only the proxy of this process reaches this host's cells (docs/proxy.md).
          publicUrls: proxy?.address,
        },
        // `hive up` is one host, `hive worker --host <id>` one of several (docs/hosts.md).
        host: { id: config.hostId, ...config.hosts, alone: parts.embeddedTemporal },
      });
      // The workspaces' database servers were started by this worker's activities: they stop with it.
      stops.push(() => stopDatabaseServers(config.dataDir));
      const running = worker.run();
      running.catch((error: unknown) => log(`worker stopped: ${String(error)}`));
      const w = worker;
      stops.push(() => w.shutdown());
    }

    let app: HiveApp | undefined;
    let apiUrl: string | undefined;
    if (parts.api) {
      // With a worker in this process, the API's client shares its connection, so the server can
      // hand a new cell's first workflow task straight to that worker (eager start: no task-queue
      // round trip before provisioning begins).
      const connection = worker?.connection ?? (await Connection.connect({ address: server.address }));
      if (!worker) stops.push(() => (connection as Connection).close());
      const client = new Client({ connection, namespace: config.temporal.namespace });
      if (proxy) {
        // The first request to a suspended cell wakes it; every request counts as activity.
        const waker = createWaker({ db, client, proxy });
        proxy.setBeforeForward(waker.beforeForward);
        stops.push(async () => waker.stop());
      }
      app = await buildApp(
        {
          db,
          temporal: {
            client,
            namespace: config.temporal.namespace,
            taskQueue: config.temporal.taskQueue,
            eagerStart: worker !== undefined,
          },
          workspaces: workspaces.list,
          workspaceRegistry: workspaces,
          configs,
          preserveFailedForMs: config.preserveFailedForMs,
          host: config.host,
          hostGraceMs: config.hosts.graceMs,
          temporalUiUrl: 'uiUrl' in server ? server.uiUrl : undefined,
          dataDir: config.dataDir,
          proxy: proxy?.address,
          // This process is the host's worker too: a request is planned here, for this host.
          ...(worker && {
            planFirst: createFirstPlanner({
              steps: createStepRecorder(db),
              host: config.hostId,
              dataDir: config.dataDir,
              idle: config.idle,
            }),
            handOverHere: createHandOverHere({ db, host: config.hostId }),
            placeFirst: createFirstPlacement({ db, hostGraceMs: config.hosts.graceMs }),
          }),
        },
        { logger: { level: config.logLevel } },
      );
      const a = app;
      stops.push(() => a.close());
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      apiPort = port;
      apiUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      // Warm pools live in Temporal and survive anything; this starts those of templates new to it.
      void ensurePools({ client, taskQueue: config.temporal.taskQueue, configs }, workspaces.list).catch(
        (error: unknown) => log(`warm pools not started: ${String(error)}`),
      );
    }
    return {
      apiUrl,
      proxy,
      proxyUrl: proxy && `http://<service>.<cell>.${proxy.address.domain}:${proxy.address.port}`,
      temporalAddress: server.address,
      temporalUiUrl: 'uiUrl' in server ? server.uiUrl : undefined,
      hostTaskQueue: worker?.hostTaskQueue,
      workspaces: workspaces.list,
      liveCells: async () => {
        if (!parts.worker) return [];
        const rows = await db.serviceInstance.findMany({
          where: {
            pgid: { not: null },
            status: { notIn: ['stopped', 'exited', 'completed'] },
            cell: {
              status: { notIn: [...finalStatuses] },
              OR: [{ host: config.hostId }, { host: null }],
            },
          },
          select: { cellId: true },
        });
        const counts = new Map<string, number>();
        for (const row of rows) counts.set(row.cellId, (counts.get(row.cellId) ?? 0) + 1);
        return [...counts].map(([id, services]) => ({ id, services }));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
