import { createRequire } from 'node:module';
import {
  DefaultLogger,
  type LogLevel,
  NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { type Activities, type ActivityDeps, createActivities } from '../activities/index.js';

const require = createRequire(import.meta.url);

export interface HiveWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt workflow bundle (tests build one per run); default: bundle src/workflows now. */
  workflowBundlePath?: string;
  /** Tests only: wraps the real activities, to inject a fault into one activity of a real run. */
  wrapActivities?: (activities: Activities) => Activities;
}

export interface HiveWorker {
  worker: Worker;
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
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: (options.wrapActivities ?? ((a) => a))(createActivities(options.deps)),
    ...workflowSource,
    // On shutdown, short activities get a moment to finish; long ones (supervision, readiness
    // waits) are cancelled then and resumed by the next worker: every activity is idempotent.
    shutdownGraceTime: '2 seconds',
    // Cancellation reaches an activity only in a heartbeat's response, and the SDK would throttle
    // heartbeats to 80% of the heartbeat timeout: a cancel or archive would wait up to 8 s.
    maxHeartbeatThrottleInterval: '1 second',
  });
  let running: Promise<void> | undefined;
  return {
    worker,
    connection,
    run() {
      running ??= worker.run().finally(() => connection.close());
      return running;
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
