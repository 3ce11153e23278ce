import type { Client } from '@temporalio/client';
import type { Workspace } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { ConfigLoader } from '../templates/loader.js';

/** Everything the HTTP API needs, injected so tests build it against real parts. */
export interface ApiDeps {
  db: Db;
  temporal: {
    client: Client;
    namespace: string;
    taskQueue: string;
    /** The client shares a worker's NativeConnection in this process: start workflows eagerly. */
    eagerStart?: boolean;
  };
  /** How long a preserved failed cell waits for a person before rolling back by itself. */
  preserveFailedForMs?: number;
  /** History bound of a live cell's workflow before it continues as new (default 2,000 events). */
  workflowHistoryLimit?: number;
  workspaces: Workspace[];
  configs: ConfigLoader;
  /** Between two looks of a warm pool at its cells when nothing wakes it (default 30 s). */
  poolCheckMs?: number;
  /**
   * The interface the API listens on (default 127.0.0.1). Without tokens, only a loopback-bound API
   * lets anonymous callers in (src/auth/plugin.ts).
   */
  host?: string;
  /**
   * After this long without a heartbeat a host shows as unresponsive (HIVE_HOST_GRACE_MS); default
   * DEFAULT_HOST_GRACE_MS.
   */
  hostGraceMs?: number;
  /** Base URL of the Temporal Web UI (the embedded dev server's), for links to a cell's workflow. */
  temporalUiUrl?: string;
}
