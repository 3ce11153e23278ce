import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { ErrorType, serviceStep } from '../../cells/catalog.js';
import {
  appendCellLog,
  cellRootOf,
  FileReplacedError,
  openContainedSync,
} from '../../cells/containedFiles.js';
import type { ServiceCall } from '../../cells/plan.js';
import { prepareCellCgroup } from '../../cgroups/cell.js';
import { oomBaseline } from '../../cgroups/oom.js';
import { inCgroup } from '../../cgroups/spawn.js';
import type { Db } from '../../db/client.js';
import { table } from '../../db/rawSql.js';
import { DetachedSpawnError, spawnDetached } from '../../spawner/index.js';
import type { HostSupervisor } from '../../supervision/supervisor.js';
import { containedPath } from '../../templates/paths.js';
import { runCommand, runCommands } from '../commands.js';
import { permanent } from '../failures.js';
import { fingerprintOf, runOnce } from '../markers.js';
import { processEnvironment } from '../processEnv.js';
import {
  type ExitRegistry,
  groupAlive,
  isSameProcess,
  processStartTicks,
  terminateGroup,
  waitGroupGone,
} from '../processes.js';
import { clearSpawnNote, endLeftovers, noteSpawn } from '../spawnNotes.js';
import { heartbeat, type StepRecorder, warn } from '../steps.js';
import { metaPath } from '../worktree.js';
import { type ServiceContext, serviceContext } from './context.js';

export interface ServiceControlDeps {
  db: Db;
  steps: StepRecorder;
  exits: ExitRegistry;
  /** Time between SIGTERM and SIGKILL when stopping a service. */
  stopGraceMs: number;
  setupTimeoutMs: number;
  /** This host's supervisor: a start or stop ends the cell's watch (the workflow asks again after). */
  supervisor: HostSupervisor;
}

/**
 * The service's row as its start reads and writes it, in raw SQL (src/db/rawSql.ts): both are on
 * the path from the environment step to the spawn and from the spawn to the start step's end.
 */
function serviceInstanceRows(db: Db) {
  const instances = table(db, 'ServiceInstance');
  return {
    async read(ctx: ServiceContext) {
      const [row] = await db.$queryRaw<
        { pid: number | null; pgid: number | null; startTicks: string | null; status: string }[]
      >`SELECT "pid", "pgid", "startTicks", "status" FROM ${instances}
        WHERE "cellId" = ${ctx.cellId} AND "name" = ${ctx.name}`;
      return (
        row && {
          ...row,
          pid: row.pid === null ? null : Number(row.pid),
          pgid: row.pgid === null ? null : Number(row.pgid),
        }
      );
    },
    /** Made, or taken over by this run's process (its exit and stop of an earlier run cleared). */
    started(
      ctx: ServiceContext,
      running: { status: string; pid: number; pgid: number; startTicks: string | null; startedAt: Date },
      port: number | undefined,
    ) {
      const { status, pid, pgid, startTicks, startedAt } = running;
      return db.$executeRaw`INSERT INTO ${instances}
          ("id", "cellId", "name", "status", "pid", "pgid", "startTicks", "startedAt", "port", "url", "logPath")
        VALUES (${`${ctx.cellId}-${ctx.name}`}, ${ctx.cellId}, ${ctx.name}, ${status}, ${pid}, ${pgid},
          ${startTicks}, ${startedAt}, ${port ?? null}, ${port === undefined ? null : `http://127.0.0.1:${port}`},
          ${ctx.logFile})
        ON CONFLICT ("cellId", "name") DO UPDATE SET "status" = EXCLUDED."status", "pid" = EXCLUDED."pid",
          "pgid" = EXCLUDED."pgid", "startTicks" = EXCLUDED."startTicks", "startedAt" = EXCLUDED."startedAt",
          "exitCode" = NULL, "stoppedAt" = NULL`;
    },
  };
}

/** Process control of services: start (or adopt), stop. */
export function createServiceControl({
  db,
  steps,
  exits,
  stopGraceMs,
  setupTimeoutMs,
  supervisor,
}: ServiceControlDeps) {
  const instance = (ctx: ServiceContext) => ({ cellId_name: { cellId: ctx.cellId, name: ctx.name } });
  const instanceRows = serviceInstanceRows(db);

  /** The service's folder, with symlinks followed, is inside its worktree. */
  async function requireInsideWorktree(call: ServiceCall, ctx: ServiceContext) {
    const found = await containedPath(call.plan.worktreePath, call.service.cwd ?? '.');
    if (found.ok) return;
    throw permanent(
      found.reason === 'missing' ? ErrorType.PlanInvalid : ErrorType.PathOutside,
      `${ctx.name}: cwd ${call.service.cwd} ${found.reason === 'missing' ? 'does not exist' : `resolves outside the worktree (${found.path})`}`,
      { hint: 'Give a folder of the repository, relative to its root.' },
    );
  }

  /** The service's own setup commands, once per distinct set of commands. */
  async function runServiceSetup(call: ServiceCall, ctx: ServiceContext) {
    const commands = call.env.services[ctx.name]?.setup ?? [];
    if (commands.length === 0) return;
    await runOnce(metaPath(call.plan, `setup-${ctx.name}.done`), fingerprintOf(commands), () =>
      runCommands({
        commands,
        cwd: ctx.cwd,
        env: ctx.env,
        redact: ctx.redact,
        spawnNote: metaPath(call.plan, `setup-${ctx.name}.pid`),
        logFile: ctx.logFile,
        timeoutMs: setupTimeoutMs,
        onTick: heartbeat,
        failure: (command, result) =>
          permanent(
            ErrorType.ServiceSetupFailed,
            `${ctx.name}: setup exited with code ${result.exitCode}: ${command}`,
            {
              hint: `See ${ctx.logFile}.`,
              logTail: result.logTail,
            },
          ),
      }),
    );
  }

  /** The spawn note of a service's run command (see spawnNotes.ts). */
  const runNote = (call: ServiceCall) => metaPath(call.plan, `service-${call.service.name}.pid`);

  /**
   * Spawns the service as a detached process group logging to its file, inside its cell's cgroup
   * (`cgroupProcs`, none where the host has no cgroups); returns its pid. From the spawn helper
   * (src/spawner), which relays its exit; directly when there is no helper.
   */
  async function spawnService(
    run: string,
    ctx: ServiceContext,
    tag: Record<string, string>,
    cgroupProcs: string[],
  ): Promise<number> {
    // A raw inherited fd (not a pipe): the service keeps logging after this worker exits. The log is
    // in the cell, where its agent can write: opened without following a link.
    let fd: number;
    try {
      fd = openContainedSync(cellRootOf(ctx.logFile), ctx.logFile);
    } catch (error) {
      if (!(error instanceof FileReplacedError)) throw error;
      throw permanent(ErrorType.PathOutside, `${ctx.name}: ${error.message}`, {
        hint: `Remove the link and let Hive write its log again: rm ${ctx.logFile}, then retry or restart the service.`,
      });
    }
    const [file, ...args] = inCgroup(cgroupProcs, ['/bin/sh', '-c', run]);
    // Not Hive's own environment: an allow-list of the host's basics, then the cell's.
    const env = { ...processEnvironment(), ...ctx.env, ...tag };
    const notStarted = (why?: string) =>
      permanent(
        ErrorType.ServiceSpawnFailed,
        `${ctx.name}: could not start /bin/sh -c ${run}${why ? `: ${why}` : ''}`,
      );
    try {
      return await spawnDetached(file, args, {
        cwd: ctx.cwd,
        env,
        logFd: fd,
        onExit: (pid, code, signal) => exits.set(pid, { code, signal }),
      });
    } catch (error) {
      if (!(error instanceof DetachedSpawnError)) throw error;
      if (error.reason === 'not-started') throw notStarted(error.message);
      // It may run: a retry of the step ends what the spawn note names, then starts it again.
      if (error.reason === 'helper-died') throw error;
      const child = spawn(file, args, {
        cwd: ctx.cwd,
        env,
        detached: true, // its own session and process group: stopping kills all of it
        stdio: ['ignore', fd, fd],
      });
      const pid = child.pid;
      if (pid === undefined) throw notStarted();
      child.on('exit', (code, signal) => exits.set(pid, { code, signal }));
      child.on('error', () => {});
      child.unref();
      return pid;
    } finally {
      closeSync(fd);
    }
  }

  return {
    /**
     * Starts one service. Idempotent: if this cell's recorded process for the service is still the
     * same live process, it is adopted; leftovers of an earlier attempt are killed first, so there
     * is exactly one.
     */
    async startService(call: ServiceCall): Promise<{ pid: number; adopted: boolean }> {
      // A process replaced under a watch would be reported as exited: the watch ends first.
      supervisor.forget(call.plan.cellId);
      return steps.withStep(
        { cellId: call.plan.cellId, name: serviceStep(call.service.name, 'start') },
        async () => {
          // Inside the step: a secret that does not resolve fails it, recorded with its hint.
          const ctx = await serviceContext(call);
          const existing = await instanceRows.read(ctx);
          const alive =
            existing?.pid &&
            existing.status !== 'stopped' &&
            (await isSameProcess(existing.pid, existing.startTicks))
              ? existing.pid
              : undefined;
          // An attempt killed between spawning and recording left a process no row names.
          await endLeftovers(runNote(call), alive && (existing?.pgid ?? alive));
          if (alive) return { pid: alive, adopted: true };
          if (existing?.pgid) await terminateGroup(existing.pgid, stopGraceMs);
          await requireInsideWorktree(call, ctx);
          await runServiceSetup(call, ctx);
          const run = call.env.services[ctx.name]?.run;
          if (run === undefined)
            throw permanent(ErrorType.PlanInvalid, `no environment for service ${ctx.name}`);
          await appendCellLog(ctx.logFile, `$ ${run}\n`);
          // In its cell's cgroup (the template's resources as limits) from its first instruction.
          const cgroupProcs = await prepareCellCgroup(ctx.cellId, call.plan.resources);
          const started = await oomBaseline(ctx.cellId);
          const pid = await spawnService(run, ctx, await noteSpawn(runNote(call)), cgroupProcs);
          started(pid);
          const port = ctx.port();
          const running = {
            status: 'running',
            pid,
            pgid: pid,
            startTicks: (await processStartTicks(pid)) ?? null,
            startedAt: new Date(),
          };
          await instanceRows.started(ctx, running, port);
          await clearSpawnNote(runNote(call));
          return { pid, adopted: false };
        },
        (r) => r,
      );
    },

    /** Compensation: the service's `stop` command if any, then SIGTERM the group, SIGKILL after grace. */
    async stopService(call: ServiceCall): Promise<{ stopped: boolean }> {
      // A stop is not an exit to recover from: the watch ends before the signal is sent.
      supervisor.forget(call.plan.cellId);
      const ctx = await serviceContext(call, { forStopping: true });
      return steps.withStep(
        { cellId: ctx.cellId, name: serviceStep(ctx.name), kind: 'compensation' },
        async () => {
          const row = await db.serviceInstance.findUnique({ where: instance(ctx) });
          // One spawned by an attempt killed before recording it: no row, or a row of an older run.
          const leftover = await endLeftovers(runNote(call), row?.pgid ?? undefined);
          if (!row?.pgid) return { stopped: leftover };
          // (A cell provisioned before stop commands were resolved into its environment has the raw one.)
          const stop = call.env.services[ctx.name]?.stop ?? call.service.stop;
          if (stop && (await groupAlive(row.pgid))) {
            // Where the service runs, with its env: the same place as its start command.
            const result = await runCommand({
              command: stop,
              cwd: ctx.cwd,
              env: ctx.env,
              logFile: ctx.logFile,
              timeoutMs: stopGraceMs,
            }).catch((error: unknown) => ({ exitCode: String(error) }));
            // A failing stop command does not keep the service alive: the group is signalled next.
            if (result.exitCode !== 0) {
              warn('stop command failed; signalling the process group', { service: ctx.name, result });
              await appendCellLog(
                ctx.logFile,
                `stop command exited ${result.exitCode}; signalling the group\n`,
              );
            }
            await waitGroupGone(row.pgid, stopGraceMs);
          }
          await terminateGroup(row.pgid, stopGraceMs);
          await db.serviceInstance.update({
            where: { id: row.id },
            data: { status: 'stopped', stoppedAt: new Date() },
          });
          return { stopped: true };
        },
      );
    },
  };
}
