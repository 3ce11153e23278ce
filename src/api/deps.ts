import type { Client } from '@temporalio/client';
import type { CreateCellDeps } from '../cells/create.js';
import type { Workspace } from '../config/env.js';
import type { WorkspaceRegistry } from '../config/workspaces.js';
import type { Db } from '../db/client.js';
import type { ProxyAddress } from '../proxy/names.js';
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
  /**
   * The live registry `workspaces` is the list of (src/config/workspaces.ts): POST/DELETE
   * /workspaces change it. Without one, the API opens its own over `workspaces` and `db`.
   */
  workspaceRegistry?: WorkspaceRegistry;
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
  /** Hive's data directory (HIVE_DATA_DIR): /healthz reports its free space, a full disk is named. */
  dataDir?: string;
  /** Base URL of the Temporal Web UI (the embedded dev server's), for links to a cell's workflow. */
  temporalUiUrl?: string;
  /** The cells' proxy (src/proxy): the views show each service's `publicUrl` through it. */
  proxy?: ProxyAddress;
  /**
   * Where this process is also a host's worker (`hive up`): plans an accepted cell request at once
   * from its dry run, so the workflow's first attempt runs no `validate` activity (src/cells/create.ts).
   */
  planFirst?: CreateCellDeps['planFirst'];
  /** There too: a claimed pool cell of this host is handed over here, without a Temporal round trip. */
  handOverHere?: CreateCellDeps['handOverHere'];
  /** There too: an accepted request's cell is placed at once, before its workflow starts. */
  placeFirst?: CreateCellDeps['placeFirst'];
}
