import { ErrorType, serviceStep } from '../../cells/catalog.js';
import { appendCellLog } from '../../cells/containedFiles.js';
import { recordEvent } from '../../cells/events.js';
import type { ReadyCell, ServiceEvent } from '../../cells/plan.js';
import { oomKilled, oomReport } from '../../cgroups/oom.js';
import type { Db } from '../../db/client.js';
import { type ExitRegistry, isSameProcess } from '../processes.js';
import { inActivity, warn } from '../steps.js';
import { serviceContext } from './context.js';
import { DEFAULT_LOG_MAX_BYTES, rotateLog } from './logRotation.js';
import { logProbeMemory, probeOnce } from './probes.js';

export interface SupervisionDeps {
  db: Db;
  exits: ExitRegistry;
  /** A service log past this size is rotated (HIVE_LOG_MAX_MB). */
  logMaxBytes?: number;
}

/** Logs are looked at for rotation every this many looks: every 30 s. */
const ROTATE_EVERY_TICKS = 30;

/** How long one supervision activity watches before handing back to the workflow. */
const WATCH_SPAN_MS = 5 * 60_000;

/** How often each service's process is looked at (a read of /proc). */
const WATCH_EVERY_MS = 1_000;

/** Its liveness probe runs every this many looks: every 2 s. */
const PROBE_EVERY_TICKS = 2;

export function createSupervision({ db, exits, logMaxBytes = DEFAULT_LOG_MAX_BYTES }: SupervisionDeps) {
  return {
    /**
     * Watches the cell's services (except those a person stopped) and returns as soon as one needs
     * attention: its process is gone (with the exit code when this worker saw it exit), or its probe
     * failed `failureThreshold` times in a row (the same probe and defaults as readiness). Started
     * fresh after a worker or host restart, it first reconciles records with reality: a recorded
     * process that no longer runs is reported at once. Heartbeats every second; cancelled when the
     * workflow has other work.
     */
    async watchServices(call: ReadyCell & { ignore: string[] }): Promise<ServiceEvent | null> {
      const activity = inActivity();
      const failures = new Map<string, number>();
      // Returns empty-handed now and then, well inside its start-to-close timeout; the workflow
      // starts it again (and may continue as new in between).
      const until = Date.now() + WATCH_SPAN_MS;
      // Derived once per watch (secrets resolved once), not every second.
      const watched = await Promise.all(
        call.plan.services
          .filter((service) => !call.ignore.includes(service.name))
          .map((service) => serviceContext({ ...call, service })),
      );
      // The records are read once: while this watch runs nothing else changes them (a person's
      // command, or an event reported here, ends the watch first). Reading them every second was
      // most of an idle cell's cost.
      const rows = new Map(
        (
          await db.serviceInstance.findMany({
            where: { cellId: call.plan.cellId, name: { in: watched.map((ctx) => ctx.name) } },
          })
        ).map((row) => [row.name, row]),
      );
      const live = watched.filter((ctx) => {
        const status = rows.get(ctx.name)?.status;
        return status !== undefined && status !== 'stopped' && status !== 'completed';
      });
      for (let tick = 0; Date.now() < until; tick++) {
        for (const ctx of live) {
          const row = rows.get(ctx.name);
          if (!row) continue;
          if (!row.pid || !(await isSameProcess(row.pid, row.startTicks))) {
            const exit = row.pid ? exits.get(row.pid) : undefined;
            const exitCode = exit?.code ?? null;
            await db.serviceInstance.update({ where: { id: row.id }, data: { status: 'exited', exitCode } });
            // Killed by its cell's memory limit: said in its log and the cell's events, with a hint.
            const oom = row.pid ? await oomKilled(call.plan.cellId, row.pid, exit) : undefined;
            const report = oom && oomReport(ctx.name, oom);
            if (report) {
              await appendCellLog(ctx.logFile, `hive: ${report.message}. ${report.hint}\n`).catch(() => {});
              await recordEvent(db, call.plan.cellId, 'operation', {
                step: serviceStep(ctx.name),
                operation: `${ErrorType.ServiceOOMKilled}: ${report.message}. ${report.hint}`,
              });
            }
            return {
              service: ctx.name,
              kind: 'exited',
              exitCode,
              detail:
                report?.message ?? `${ctx.name} exited${exitCode === null ? '' : ` with code ${exitCode}`}`,
            };
          }
          if (tick % ROTATE_EVERY_TICKS === 0) {
            await rotateLog(ctx.logFile, logMaxBytes).catch((error: unknown) =>
              warn('a service log could not be rotated', { service: ctx.name, error: String(error) }),
            );
          }
          // Liveness every PROBE_EVERY ticks: an exit is seen within a second, a hung service
          // within failureThreshold probes.
          if (!ctx.probe || tick % PROBE_EVERY_TICKS !== 0) continue;
          // A log probe matched when the service got ready, and a printed line stays printed: its
          // log is not read again (it may be huge).
          const outcome = await probeOnce(ctx.probe, ctx, logProbeMemory(0, true));
          const count = outcome.ok ? 0 : (failures.get(ctx.name) ?? 0) + 1;
          failures.set(ctx.name, count);
          if (count >= ctx.probe.failureThreshold) {
            await db.serviceInstance.update({ where: { id: row.id }, data: { status: 'unhealthy' } });
            return { service: ctx.name, kind: 'unhealthy', exitCode: null, detail: outcome.observation };
          }
        }
        activity?.heartbeat();
        await (activity ? activity.sleep(WATCH_EVERY_MS) : new Promise((r) => setTimeout(r, WATCH_EVERY_MS)));
      }
      return null;
    },
  };
}
