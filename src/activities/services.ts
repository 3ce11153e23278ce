import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import type { Db } from '../db/client.js';
import type {
  AllocatedPort,
  CellPlan,
  PreparedEnvironment,
  ServiceEvent,
  ServicePlan,
} from '../workflows/types.js';
import { killGroup, runCommand } from './commands.js';
import { resolveEnvironment } from './environment.js';
import { permanent, tail } from './failures.js';
import { defaultProbe, probeOnce } from './probes.js';
import { groupAlive, isSameProcess, processStartTicks } from './processes.js';
import { reportOperation, withStep } from './steps.js';
import { CELL_META_DIR } from './worktree.js';

export interface ServicesDeps {
  db: Db;
  /** Time between SIGTERM and SIGKILL when stopping a service. */
  stopGraceMs: number;
  setupTimeoutMs: number;
}

export interface ServiceCall {
  plan: CellPlan;
  env: PreparedEnvironment;
  ports: AllocatedPort[];
  service: ServicePlan;
}

/** How long one supervision activity watches before handing back to the workflow. */
const WATCH_SPAN_MS = 5 * 60_000;

/** A service with no port and no probe is ready once it has stayed up this long. */
const STAYED_UP_MS = 1_000;

/** Exit status of service processes this worker spawned, by pid (reaped by Node). */
const exits = new Map<number, { code: number | null; signal: NodeJS.Signals | null }>();

const logFileOf = (plan: CellPlan, service: string) =>
  path.join(plan.worktreePath, CELL_META_DIR, 'logs', `${service}.log`);

function primaryPortOf(call: ServiceCall): number | undefined {
  return call.ports.find((p) => p.service === call.service.name && p.name === call.service.primaryPort)?.port;
}

async function logTail(file: string): Promise<string> {
  return tail(await readFile(file, 'utf8').catch(() => ''));
}

async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await groupAlive(pgid))) return true;
    await sleep(100);
  }
  return !(await groupAlive(pgid));
}

/** SIGTERM the group, SIGKILL after the grace period. Returns once nothing of it is left. */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!(await groupAlive(pgid))) return;
  killGroup(pgid, 'SIGTERM');
  if (await waitGroupGone(pgid, graceMs)) return;
  killGroup(pgid, 'SIGKILL');
  await waitGroupGone(pgid, 5_000);
}

export function createServicesActivities({ db, stopGraceMs, setupTimeoutMs }: ServicesDeps) {
  async function runServiceSetup(call: ServiceCall, logFile: string) {
    const { plan, service } = call;
    const commands = call.env.services[service.name]?.setup ?? [];
    if (commands.length === 0) return;
    const marker = path.join(plan.worktreePath, CELL_META_DIR, `setup-${service.name}.done`);
    const fingerprint = createHash('sha256').update(JSON.stringify(commands)).digest('hex');
    if ((await readFile(marker, 'utf8').catch(() => '')) === fingerprint) return;
    for (const command of commands) {
      await appendFile(logFile, `$ ${command}\n`);
      const result = await runCommand({
        command,
        cwd: path.resolve(plan.worktreePath, service.cwd ?? '.'),
        env: call.env.services[service.name]?.env ?? {},
        logFile,
        timeoutMs: setupTimeoutMs,
        onTick: () => Context.current().heartbeat({ command }),
      });
      if (result.exitCode !== 0) {
        throw permanent(
          'ServiceSetupFailed',
          `${service.name}: setup exited with code ${result.exitCode}: ${command}`,
          {
            hint: `See ${logFile}.`,
            logTail: result.logTail,
          },
        );
      }
    }
    await writeFile(marker, fingerprint);
  }

  return {
    /**
     * Starts one service as a detached process group writing to `.hive/logs/<service>.log`.
     * Idempotent: if this cell's recorded process for the service is still the same live process,
     * it is adopted; leftovers of an earlier attempt are killed first, so there is exactly one.
     */
    async startService(call: ServiceCall): Promise<{ pid: number; adopted: boolean }> {
      const { plan, service } = call;
      return withStep(
        db,
        { cellId: plan.cellId, name: `services.${service.name}.start` },
        async () => {
          const existing = await db.serviceInstance.findUnique({
            where: { cellId_name: { cellId: plan.cellId, name: service.name } },
          });
          if (
            existing?.pid &&
            existing.status !== 'stopped' &&
            (await isSameProcess(existing.pid, existing.startTicks))
          ) {
            return { pid: existing.pid, adopted: true };
          }
          if (existing?.pgid) await terminateGroup(existing.pgid, stopGraceMs);
          const logFile = logFileOf(plan, service.name);
          await runServiceSetup(call, logFile);
          const resolved = call.env.services[service.name];
          if (!resolved) throw permanent('PlanInvalid', `no environment for service ${service.name}`);
          await appendFile(logFile, `$ ${resolved.run}\n`);
          // A raw inherited fd (not a pipe): the service keeps logging after this worker exits.
          const fd = openSync(logFile, 'a');
          let child: ReturnType<typeof spawn>;
          try {
            child = spawn('/bin/sh', ['-c', resolved.run], {
              cwd: path.resolve(plan.worktreePath, service.cwd ?? '.'),
              env: { ...process.env, ...resolved.env },
              detached: true, // its own session and process group: stopping kills all of it
              stdio: ['ignore', fd, fd],
            });
          } finally {
            closeSync(fd);
          }
          const pid = child.pid;
          if (pid === undefined) {
            throw permanent(
              'ServiceSpawnFailed',
              `${service.name}: could not start /bin/sh -c ${resolved.run}`,
            );
          }
          child.on('exit', (code, signal) => exits.set(pid, { code, signal }));
          child.on('error', () => {});
          child.unref();
          const port = primaryPortOf(call);
          await db.serviceInstance.upsert({
            where: { cellId_name: { cellId: plan.cellId, name: service.name } },
            create: {
              id: `${plan.cellId}-${service.name}`,
              cellId: plan.cellId,
              name: service.name,
              status: 'running',
              pid,
              pgid: pid,
              startTicks: (await processStartTicks(pid)) ?? null,
              port: port ?? null,
              url: port === undefined ? null : `http://127.0.0.1:${port}`,
              logPath: logFile,
              startedAt: new Date(),
            },
            update: {
              status: 'running',
              pid,
              pgid: pid,
              startTicks: (await processStartTicks(pid)) ?? null,
              exitCode: null,
              startedAt: new Date(),
              stoppedAt: null,
            },
          });
          return { pid, adopted: false };
        },
        (r) => r,
      );
    },

    /**
     * Waits until a started service is ready (its probe passes) or, for one-shot services others
     * depend on as `completed`, until it exits 0. Heartbeats each probe, so a cancellation reaches it
     * at once. A service that exits, or never gets ready, fails with its exit code and last log lines.
     */
    async awaitService(
      call: ServiceCall & { condition: 'ready' | 'completed' },
    ): Promise<{ observation: string }> {
      const { plan, service } = call;
      const stepName = `services.${service.name}.${call.condition}`;
      return withStep(db, { cellId: plan.cellId, name: stepName }, async () => {
        const ctx = Context.current();
        const row = await db.serviceInstance.findUniqueOrThrow({
          where: { cellId_name: { cellId: plan.cellId, name: service.name } },
        });
        const pid = row.pid ?? -1;
        const logFile = logFileOf(plan, service.name);
        const resolved = call.env.services[service.name];
        const probe = service.readiness ?? defaultProbe(primaryPortOf(call) !== undefined);
        const portOf = (name?: string) =>
          call.ports.find((p) => p.service === service.name && p.name === (name ?? service.primaryPort))
            ?.port;
        const started = Date.now();
        const deadline = started + service.readyTimeoutMs;
        if (probe?.initialDelayMs) await ctx.sleep(probe.initialDelayMs);
        let failures = 0;
        let observation = 'not probed yet';
        for (let attempt = 1; ; attempt++) {
          const alive = await isSameProcess(pid, row.startTicks);
          if (!alive) {
            const exit = exits.get(pid);
            const code = exit?.code ?? null;
            if (call.condition === 'completed' && code === 0) {
              await db.serviceInstance.update({
                where: { id: row.id },
                data: { status: 'completed', exitCode: 0 },
              });
              return { observation: 'exited 0' };
            }
            await db.serviceInstance.update({
              where: { id: row.id },
              data: { status: 'exited', exitCode: code },
            });
            throw permanent(
              'ServiceExited',
              `${service.name} exited ${code === null ? `(${exit?.signal ?? 'status unknown'})` : `with code ${code}`} before it was ${call.condition}`,
              { hint: `Check its command and log: ${logFile}`, logTail: await logTail(logFile) },
            );
          }
          if (call.condition === 'ready') {
            if (probe) {
              const outcome = await probeOnce(probe, {
                port: portOf,
                logFile,
                cwd: path.resolve(plan.worktreePath, service.cwd ?? '.'),
                env: resolved?.env ?? {},
              });
              observation = outcome.observation;
              if (outcome.ok) break;
              failures++;
            } else if (Date.now() - started >= STAYED_UP_MS) {
              observation = `stayed up ${STAYED_UP_MS} ms`;
              break;
            }
          }
          const operation = `waiting for ${service.name} ${call.condition === 'ready' ? 'readiness' : 'to complete'}: ${observation}, try ${attempt}`;
          await reportOperation(db, plan.cellId, stepName, operation);
          if (probe && failures >= probe.failureThreshold) {
            throw permanent(
              'ServiceNotReady',
              `${service.name} failed its readiness probe ${failures} times: ${observation}`,
              {
                hint: `Check the service and its probe; log: ${logFile}`,
                logTail: await logTail(logFile),
              },
            );
          }
          if (Date.now() >= deadline) {
            throw permanent(
              'ServiceNotReady',
              `${service.name} not ${call.condition} after ${service.readyTimeoutMs} ms: ${observation}`,
              {
                hint: `Raise readyTimeoutMs if it is just slow; log: ${logFile}`,
                logTail: await logTail(logFile),
              },
            );
          }
          // Cancellable sleep: a cancellation of the activity ends the wait at once.
          await ctx.sleep(probe?.periodMs ?? 200);
        }
        await db.serviceInstance.update({ where: { id: row.id }, data: { status: 'ready' } });
        return { observation };
      });
    },

    /** Compensation: the service's `stop` command if any, then SIGTERM the group, SIGKILL after grace. */
    async stopService(call: ServiceCall): Promise<{ stopped: boolean }> {
      const { plan, service } = call;
      return withStep(
        db,
        { cellId: plan.cellId, name: `services.${service.name}`, kind: 'compensation' },
        async () => {
          const row = await db.serviceInstance.findUnique({
            where: { cellId_name: { cellId: plan.cellId, name: service.name } },
          });
          if (!row?.pgid) return { stopped: false };
          if (service.stop && (await groupAlive(row.pgid))) {
            await runCommand({
              command: service.stop,
              cwd: plan.worktreePath,
              env: call.env.services[service.name]?.env ?? {},
              logFile: logFileOf(plan, service.name),
              timeoutMs: stopGraceMs,
            }).catch(() => undefined);
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

    /**
     * Supervision: watches the cell's services (except those a person stopped) and returns as soon
     * as one needs attention: its process is gone (with the exit code when this worker saw it
     * exit), or its readiness probe keeps failing after start. Started fresh after a worker or host
     * restart, it first reconciles records with reality: a recorded process that no longer runs is
     * reported at once. Heartbeats every second; cancelled when the workflow has other work.
     */
    async watchServices(call: {
      plan: CellPlan;
      env: PreparedEnvironment;
      ports: AllocatedPort[];
      ignore: string[];
    }): Promise<ServiceEvent | null> {
      const ctx = Context.current();
      const failures = new Map<string, number>();
      // Returns empty-handed now and then, well inside its start-to-close timeout; the workflow
      // starts it again (and may continue as new in between).
      const until = Date.now() + WATCH_SPAN_MS;
      while (Date.now() < until) {
        for (const service of call.plan.services) {
          if (call.ignore.includes(service.name)) continue;
          const row = await db.serviceInstance.findUnique({
            where: { cellId_name: { cellId: call.plan.cellId, name: service.name } },
          });
          if (!row || row.status === 'stopped' || row.status === 'completed') continue;
          if (!row.pid || !(await isSameProcess(row.pid, row.startTicks))) {
            const exitCode = (row.pid ? exits.get(row.pid)?.code : undefined) ?? null;
            await db.serviceInstance.update({ where: { id: row.id }, data: { status: 'exited', exitCode } });
            return {
              service: service.name,
              kind: 'exited',
              exitCode,
              detail: `${service.name} exited${exitCode === null ? '' : ` with code ${exitCode}`}`,
            };
          }
          const one = { ...call, service };
          const probe = service.readiness ?? defaultProbe(primaryPortOf(one) !== undefined);
          if (!probe) continue;
          const outcome = await probeOnce(probe, {
            port: (name?: string) =>
              call.ports.find((p) => p.service === service.name && p.name === (name ?? service.primaryPort))
                ?.port,
            logFile: logFileOf(call.plan, service.name),
            cwd: path.resolve(call.plan.worktreePath, service.cwd ?? '.'),
            env: call.env.services[service.name]?.env ?? {},
          });
          const count = outcome.ok ? 0 : (failures.get(service.name) ?? 0) + 1;
          failures.set(service.name, count);
          if (count >= Math.min(probe.failureThreshold, 3)) {
            await db.serviceInstance.update({ where: { id: row.id }, data: { status: 'unhealthy' } });
            return { service: service.name, kind: 'unhealthy', exitCode: null, detail: outcome.observation };
          }
        }
        ctx.heartbeat();
        await ctx.sleep(1_000);
      }
      return null;
    },

    /** Compensation registered before services start, so it runs after they all stopped. */
    async runTeardown({
      plan,
      ports,
    }: {
      plan: CellPlan;
      ports: AllocatedPort[];
    }): Promise<{ commands: number }> {
      return withStep(db, { cellId: plan.cellId, name: 'teardown', kind: 'compensation' }, async () => {
        const logFile = path.join(plan.worktreePath, CELL_META_DIR, 'logs', 'teardown.log');
        for (const command of plan.teardown) {
          await appendFile(logFile, `$ ${command}\n`).catch(() => undefined);
          const result = await runCommand({
            command,
            cwd: plan.worktreePath,
            env: resolveEnvironment(plan, ports).env,
            logFile,
            timeoutMs: setupTimeoutMs,
          });
          if (result.exitCode !== 0) {
            throw permanent('TeardownFailed', `teardown exited with code ${result.exitCode}: ${command}`, {
              logTail: result.logTail,
            });
          }
        }
        return { commands: plan.teardown.length };
      });
    },
  };
}
