import { createRequire } from 'node:module';
import { Client, WorkflowIdConflictPolicy } from '@temporalio/client';
import {
  DefaultLogger,
  type LogLevel,
  NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import {
  type Activities,
  type ActivityDeps,
  createActivities,
  createHostParts,
} from '../activities/index.js';
import { hostsWorkflowId } from '../cells/workflowIds.js';
import { isGitRepository } from '../config/env.js';
import type { WorkspaceRegistry } from '../config/workspaces.js';
import { type DatabaseKeeper, keepDatabaseServers } from '../databases/keeper.js';
import { type HostAgent, startHostAgent } from '../hosts/agent.js';
import { answers, hostTaskQueue } from '../hosts/registry.js';
import { rewatchLiveCells, tellCellWorkflow } from '../supervision/tell.js';
import type { watchHosts } from '../workflows/hosts.js';

const require = createRequire(import.meta.url);

export interface HiveWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt workflow bundle (tests build one per run); default: bundle src/workflows now. */
  workflowBundlePath?: string;
  /** The live workspaces `deps.workspaces` is the list of: this host re-announces them on a change. */
  workspaceRegistry?: WorkspaceRegistry;
  /** Tests only: wraps the real activities, to inject a fault into one activity of a real run. */
  wrapActivities?: (activities: Activities) => Activities;
  /**
   * This worker is a host (`hive worker --host <id>`, or `hive up`'s one host): it also serves the
   * host-bound activities of the cells placed on it on its own task queue, registers itself and
   * heartbeats, and makes sure the host monitor runs. Without it, every activity runs on the
   * shared queue (one process, no placement).
   */
  host?: {
    id: string;
    heartbeatMs: number;
    graceMs: number;
    cpus?: number;
    memoryMb?: number;
    /**
     * The one-machine deployment (`hive up`): with no other live host, serve the host-bound
     * activities on the shared queue itself, so Temporal hands each one straight back to this
     * worker with the workflow task that scheduled it (eager dispatch: only on the workflow's own
     * queue). A host joining later refuses to start while such a host is live.
     */
    alone?: boolean;
  };
}

export interface HiveWorker {
  worker: Worker;
  /** The task queue of this host's activities, when it is a host. */
  hostTaskQueue?: string;
  /** Its connection: a client of the same process built on it can start workflows eagerly. */
  connection: NativeConnection;
  /** Runs until shutdown() is called; resolves when in-flight tasks are drained. */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Installs the SDK runtime once per process: our own code owns SIGINT/SIGTERM (so API, worker and
 * dev server stop together), and the SDK's INFO chatter (webpack stats) stays out of the log.
 */
export function installWorkerRuntime(level: LogLevel = 'WARN'): void {
  try {
    Runtime.install({ shutdownSignals: [], logger: new DefaultLogger(level) });
  } catch {
    // Already installed in this process (a second stack in one test process): keep the first.
  }
}

export const workflowsPath = require.resolve('../workflows/index.ts');

/** Creates the Temporal worker that runs provisioning workflows and their activities. */
export async function createHiveWorker(options: HiveWorkerOptions): Promise<HiveWorker> {
  const connection = await NativeConnection.connect({ address: options.address });
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.workflowBundlePath
    ? { workflowBundle: { codePath: options.workflowBundlePath } }
    : { workflowsPath };
  const deps = options.host
    ? { ...options.deps, host: options.host.id, hostGraceMs: options.host.graceMs }
    : options.deps;
  // The host's supervisor signals a cell's workflow when one of its services needs attention.
  const client = new Client({ connection, namespace: options.namespace });
  const parts = createHostParts(deps, tellCellWorkflow(client));
  const activities = (options.wrapActivities ?? ((a) => a))(createActivities(deps, parts));
  const common = {
    connection,
    namespace: options.namespace,
    activities,
    // On shutdown, short activities get a moment to finish; long ones (supervision, readiness
    // waits) are cancelled then and resumed by the next worker: every activity is idempotent.
    shutdownGraceTime: '2 seconds',
    // Cancellation reaches an activity only in a heartbeat's response, and the SDK would throttle
    // heartbeats to 80% of the heartbeat timeout: a cancel or archive would wait up to 8 s.
    maxHeartbeatThrottleInterval: '1 second',
  } satisfies Partial<WorkerOptions>;
  // Workflows (and the record activities they run locally) on the shared queue: any host runs any
  // cell's workflow, since all share Temporal and the database.
  const worker = await Worker.create({ ...common, taskQueue: options.taskQueue, ...workflowSource });
  const hostQueue = options.host && (await chooseHostQueue(options.deps.db, options.taskQueue, options.host));
  // The host-bound activities of the cells placed here, on this host's own queue.
  const hostWorker =
    hostQueue && hostQueue !== options.taskQueue
      ? await Worker.create({ ...common, taskQueue: hostQueue })
      : undefined;
  let agent: HostAgent | undefined;
  if (options.host && hostQueue) {
    agent = startHostAgent({
      db: options.deps.db,
      id: options.host.id,
      taskQueue: hostQueue,
      // Live: a workspace added while running is offered from the next heartbeat (or at once, below),
      // when this machine has a git repository at its path.
      workspaces: () => options.deps.workspaces.filter((w) => isGitRepository(w.path)).map((w) => w.id),
      beforeBeat: () => options.workspaceRegistry?.refresh() ?? Promise.resolve(),
      dataDir: options.deps.dataDir ?? '.',
      heartbeatMs: options.host.heartbeatMs,
      cpus: options.host.cpus,
      memoryMb: options.host.memoryMb,
      onError: (error) => console.warn(`host ${options.host?.id}: heartbeat not recorded: ${String(error)}`),
    });
    await agent.registered;
    const announced = agent;
    options.workspaceRegistry?.onChange(() => announced.announce());
    await startHostMonitor(connection, options.namespace, options.taskQueue, options.host.graceMs);
  }
  // The workspaces' PostgreSQL servers this host's live cells use: back before the worker serves
  // (a stopping `hive up` stops them), then watched and started again when one dies.
  const keeper: DatabaseKeeper | undefined = options.deps.dataDir
    ? await keepDatabaseServers({
        db: options.deps.db,
        dataDir: options.deps.dataDir,
        host: deps.host,
        // Live: the list is the registry's, changed in place when a workspace is added.
        workspaces: () => options.deps.workspaces.map((w) => w.id),
      })
    : undefined;
  let running: Promise<void> | undefined;
  const workers = [worker, ...(hostWorker ? [hostWorker] : [])];
  // This worker's supervisor starts empty: the live cells of this host ask it to watch them again.
  void rewatchLiveCells(client, options.deps.db, deps.host).catch((error: unknown) =>
    console.warn(`live cells not asked to be watched again: ${String(error)}`),
  );
  return {
    worker,
    hostTaskQueue: hostQueue,
    connection,
    run() {
      const stopAll = () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      };
      // One of the two failing takes the other down (half a host is not a host); both are waited for.
      running ??= Promise.allSettled(
        workers.map(async (w) => {
          try {
            await w.run();
          } finally {
            stopAll();
          }
        }),
      )
        .then((outcomes) => {
          const failed = outcomes.find((o) => o.status === 'rejected');
          if (failed) throw failed.reason;
        })
        // A host whose workers stopped (shut down, or failed) must not look alive: no heartbeat.
        .finally(() => agent?.stop())
        .finally(() => keeper?.stop())
        .finally(() => parts.supervisor.stop())
        .finally(() => connection.close());
      return running;
    },
    async shutdown() {
      await agent?.stop();
      // Before the caller stops the servers: a look under way must not start one again after that.
      await keeper?.stop();
      await parts.supervisor.stop();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
    },
  };
}

/**
 * The task queue of this host's activities: its own (`<queue>@<id>`), or the shared queue for a
 * host running alone. Refuses to join hosts of which one serves the shared queue itself: this
 * worker's workflow worker polls that queue too and would run the other host's activities here.
 */
async function chooseHostQueue(
  db: ActivityDeps['db'],
  taskQueue: string,
  host: NonNullable<HiveWorkerOptions['host']>,
): Promise<string> {
  const others = (await db.host.findMany({ where: { id: { not: host.id } } })).filter((h) =>
    answers(h, host.graceMs),
  );
  const owner = others.find((h) => h.taskQueue === taskQueue);
  if (owner) {
    throw new Error(
      `host ${owner.id} runs alone (hive up) and serves the task queue ${taskQueue} itself; to run several hosts, run the API with \`hive api\` and each host with \`hive worker --host <id>\``,
    );
  }
  return host.alone && others.length === 0 ? taskQueue : hostTaskQueue(taskQueue, host.id);
}

/** The host monitor of this task queue (src/workflows/hosts.ts): started once, whoever is first. */
async function startHostMonitor(
  connection: NativeConnection,
  namespace: string,
  taskQueue: string,
  graceMs: number,
) {
  const client = new Client({ connection, namespace });
  await client.workflow.start<typeof watchHosts>('watchHosts', {
    taskQueue,
    workflowId: hostsWorkflowId(taskQueue),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    // A few looks per grace period: a silent host is declared lost soon after the period ends.
    args: [{ everyMs: Math.max(250, Math.round(graceMs / 4)) }],
    staticSummary: 'Host monitor: declares lost a host whose heartbeat stops, and tells its cells',
  });
}
