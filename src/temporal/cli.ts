import { existsSync } from 'node:fs';
import path from 'node:path';
import which from 'which';
import { toolsBinDir } from '../config/paths.js';
import { goInstall } from './goInstall.js';

/** The newest CLI tag that `go install` accepts (v1.6+ carries a `replace` directive). */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const MODULE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;

export type CliSource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'tools' | 'built';

export interface ResolvedCli {
  path: string;
  source: CliSource;
}

/** Finds a temporal binary without building anything: env override, then PATH, then tools folder. */
export async function findTemporalCli(cliPath?: string): Promise<ResolvedCli | undefined> {
  if (cliPath) {
    if (!existsSync(cliPath)) throw new Error(`TEMPORAL_CLI_PATH: no file at ${cliPath}`);
    return { path: path.resolve(cliPath), source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = await which('temporal', { nothrow: true });
  if (onPath) return { path: onPath, source: 'PATH' };
  const local = path.join(toolsBinDir, 'temporal');
  if (existsSync(local)) return { path: local, source: 'tools' };
  return undefined;
}

/** Go may be missing from a thin CI PATH; the machines here keep it in /usr/local/go/bin. */
export async function findGo(): Promise<string | undefined> {
  const onPath = await which('go', { nothrow: true });
  if (onPath) return onPath;
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined;
}

/** Builds the pinned CLI from the Go module proxy into the tools folder (see goInstall). */
export async function buildTemporalCli(go: string, log: (line: string) => void): Promise<string> {
  const built = await goInstall(
    go,
    {
      label: `Temporal CLI v${TEMPORAL_CLI_VERSION}`,
      packages: [MODULE],
      ldflags: `-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
      binaries: { temporal: 'temporal' },
    },
    log,
  );
  return built.temporal as string;
}

/**
 * Resolves the CLI to run a dev server with, building it where Go exists. Returns undefined only
 * when nothing is found and Go is missing: the caller then falls back to the SDK's own download.
 */
export async function ensureTemporalCli(
  cliPath: string | undefined,
  log: (line: string) => void,
): Promise<ResolvedCli | undefined> {
  const found = await findTemporalCli(cliPath);
  if (found) return found;
  const go = await findGo();
  if (!go) return undefined;
  return { path: await buildTemporalCli(go, log), source: 'built' };
}
