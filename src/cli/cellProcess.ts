import { stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { execa } from 'execa';
import { ENV_FILE, readCellEnv } from '../cells/files.js';
import type { HiveClient } from '../client/index.js';
import { CliError } from './output.js';

// `hive cells exec` and `hive cells shell`: a process in the cell's worktree with the cell's
// environment, as its services get it. `.hive/env` holds the whole environment, secrets included
// (mode 0600), so it is read here, on the cell's host, and parsed — never sourced through a shell.

export interface CellProcessContext {
  cwd: string;
  env: Record<string, string>;
  /** The service whose PORT the process gets, if any. */
  service?: string;
}

/**
 * Where and with what a process of the cell runs. `PORT` is set as a service sees it: the named
 * service's port, or the only service's when the cell has one.
 */
export async function cellProcessContext(
  client: HiveClient,
  id: string,
  service?: string,
): Promise<CellProcessContext> {
  const cell = await client.getCell(id);
  const cwd = cell.worktreePath;
  if (!cwd) throw new CliError(`cell ${id} has no worktree (it is ${cell.status})`);
  if (!(await stat(cwd).catch(() => undefined))?.isDirectory()) {
    throw new CliError(
      `cell ${id}'s worktree ${cwd} is not on this machine${cell.host ? ` (the cell is on host ${cell.host})` : ''}${
        cell.status === 'archived' ? '; it is archived: hive cells restore brings it back' : ''
      }. exec and shell run where the cell is.`,
    );
  }
  const env = await readCellEnv(cwd);
  if (!env)
    throw new CliError(`cell ${id} has no ${ENV_FILE} yet (it is ${cell.status}): wait until it is ready`);
  const withPorts = cell.services.filter((s) => s.port !== null);
  const chosen = service
    ? cell.services.find((s) => s.name === service)
    : withPorts.length === 1
      ? withPorts[0]
      : undefined;
  if (service && !chosen) {
    throw new CliError(
      `cell ${id} has no service "${service}"; its services: ${cell.services.map((s) => s.name).join(', ') || '(none)'}`,
    );
  }
  const own: Record<string, string> = chosen?.port ? { PORT: String(chosen.port) } : {};
  // The caller's environment (PATH, HOME, TERM…) with the cell's on top, as the cell's processes get.
  const base = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return { cwd, env: { ...base, ...env, ...own }, service: chosen?.name };
}

/** Exit status of a child as a shell reports it: its code, or 128 + the signal's number. */
function statusOf(result: { exitCode?: number; signal?: string }) {
  if (result.exitCode !== undefined) return result.exitCode;
  const signals = constants.signals as Record<string, number>;
  return 128 + ((result.signal && signals[result.signal]) || 1);
}

/** Runs argv (no shell in between) in the cell, on this terminal; resolves to its exit status. */
export async function execInCell(context: CellProcessContext, argv: string[]): Promise<number> {
  const [file, ...args] = argv;
  if (!file) throw new CliError('nothing to run: hive cells exec <id> -- <command> [args…]');
  const result = await execa(file, args, {
    cwd: context.cwd,
    env: context.env,
    extendEnv: false,
    stdio: 'inherit',
    reject: false,
  });
  if (result.failed && result.exitCode === undefined && !result.signal) {
    throw new CliError(`cannot run ${file}: ${result.shortMessage}`, 127);
  }
  return statusOf(result);
}

/** The person's own interactive shell ($SHELL, else sh) in the cell. */
export function shellInCell(context: CellProcessContext): Promise<number> {
  return execInCell(context, [process.env.SHELL || '/bin/sh']);
}
