import { existsSync } from 'node:fs';
import path from 'node:path';
import which from 'which';
import { packageRoot, toolsBinDir } from '../config/paths.js';
import { findGo } from './cli.js';
import { goInstall } from './goInstall.js';

// The production Temporal server (not the dev server `hive up` embeds): the pinned release of
// go.temporal.io/server and its schema tool, for several hosts on PostgreSQL. `hive setup
// --temporal-server` builds them once per machine; the several-hosts tests run on them with the
// config and setup script in deploy/temporal/, which docker-compose.yml uses too.

/** The release docker-compose.yml runs (temporalio/server and admin-tools images of the same tag). */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
const MODULE = `go.temporal.io/server`;

/** Where the server's config template, dynamic config and setup script live: one source for both. */
export const temporalDeployDir = path.join(packageRoot, 'deploy', 'temporal');

export interface ServerBinaries {
  /** `temporal-server` */
  server: string;
  /** `temporal-sql-tool`: creates the databases and applies the schemas embedded in it. */
  sqlTool: string;
  source: 'PATH' | 'tools' | 'built';
}

const names = { server: 'temporal-server', sqlTool: 'temporal-sql-tool' } as const;

/** Finds both binaries without building anything: PATH (a pair), then the tools folder. */
export async function findTemporalServer(): Promise<ServerBinaries | undefined> {
  const server = await which(names.server, { nothrow: true });
  const sqlTool = await which(names.sqlTool, { nothrow: true });
  if (server && sqlTool) return { server, sqlTool, source: 'PATH' };
  const local = {
    server: path.join(toolsBinDir, names.server),
    sqlTool: path.join(toolsBinDir, names.sqlTool),
  };
  if (existsSync(local.server) && existsSync(local.sqlTool)) return { ...local, source: 'tools' };
  return undefined;
}

/**
 * Finds the server and its schema tool, else builds the pinned release with Go (~5 min on two
 * cores the first time; Go's cache makes a rebuild seconds). Unlike the dev server there is no
 * download to fall back on: without Go, say what to install.
 */
export async function ensureTemporalServer(log: (line: string) => void): Promise<ServerBinaries> {
  const found = await findTemporalServer();
  if (found) return found;
  const go = await findGo();
  if (!go) {
    throw new Error(
      `no ${names.server} / ${names.sqlTool} found and no Go toolchain to build them: install Go (https://go.dev/dl/) and run \`hive setup --temporal-server\`, or put both binaries of Temporal ${TEMPORAL_SERVER_VERSION} on PATH`,
    );
  }
  const built = await goInstall(
    go,
    {
      label: `Temporal server v${TEMPORAL_SERVER_VERSION} and temporal-sql-tool`,
      packages: [
        `${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
        `${MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
      ],
      // The release build's tag (the server's Makefile): leaves out gRPC's optional xDS modules.
      tags: 'disable_grpc_modules',
      binaries: { server: names.server, sql: names.sqlTool },
    },
    log,
  );
  return { server: built[names.server] as string, sqlTool: built[names.sqlTool] as string, source: 'built' };
}
