// One look at one service of a cell: is its process still the one recorded, does its liveness probe
// still pass, is its log due for rotation. Shared by the host's supervisor (./supervisor.ts) and the
// supervision activity kept for workflow runs from before it (watchServices).
import { type ExitRegistry, isSameProcess } from '../activities/processes.js';
import { type ServiceContext, serviceContext } from '../activities/services/context.js';
import { rotateLog } from '../activities/services/logRotation.js';
import { logProbeMemory, probeOnce } from '../activities/services/probes.js';
import { warn } from '../activities/steps.js';
import { ErrorType, serviceStep } from '../cells/catalog.js';
import { appendCellLog } from '../cells/containedFiles.js';
import { recordEvent } from '../cells/events.js';
import type { ReadyCell, ServiceEvent } from '../cells/plan.js';
import { oomKilled, oomReport } from '../cgroups/oom.js';
import type { Db } from '../db/client.js';

/** Logs are looked at for rotation every this many looks: every 30 s. */
const ROTATE_EVERY_LOOKS = 30;

/** A service's liveness probe runs every this many looks: every 2 s. */
const PROBE_EVERY_LOOKS = 2;

export interface LookDeps {
  db: Db;
  exits: ExitRegistry;
  /** A service log past this size is rotated (HIVE_LOG_MAX_MB). */
  logMaxBytes: number;
}

/** One watched service: what it derives from its plan once, and its record as it was when watching began. */
export interface WatchedService {
  ctx: ServiceContext;
  row: { id: string; pid: number | null; pgid: number | null; startTicks: string | null; status: string };
  /** Failed probes in a row. */
  failures: number;
}

/**
 * The services of a cell to watch: all but those in `ignore` (a person stopped them, or their policy
 * gave up) and those whose record says they are not meant to run. Derived once per watch (secrets
 * resolved once); the records are read once, since nothing else changes them while the watch holds
 * (a person's command, or an event reported here, ends the watch first).
 */
export async function servicesToWatch(
  db: Db,
  call: ReadyCell & { ignore: string[] },
): Promise<WatchedService[]> {
  const contexts = await Promise.all(
    call.plan.services
      .filter((service) => !call.ignore.includes(service.name))
      .map((service) => serviceContext({ ...call, service })),
  );
  const rows = new Map(
    (
      await db.serviceInstance.findMany({
        where: { cellId: call.plan.cellId, name: { in: contexts.map((ctx) => ctx.name) } },
      })
    ).map((row) => [row.name, row]),
  );
  return contexts.flatMap((ctx) => {
    const row = rows.get(ctx.name);
    if (!row || row.status === 'stopped' || row.status === 'completed') return [];
    const { id, pid, pgid, startTicks, status } = row;
    return [{ ctx, row: { id, pid, pgid, startTicks, status }, failures: 0 }];
  });
}

/**
 * Looks at one service once (look number `count` of its watch): an event when its process is gone
 * (with the exit code when this worker saw it exit, and its memory limit when that killed it) or its
 * probe failed `failureThreshold` times in a row; null while it is fine. `stillWatched` is asked
 * right before the record is written: a watch a command ended meanwhile writes nothing (the
 * command's own record wins).
 */
export async function lookAt(
  deps: LookDeps,
  watched: WatchedService,
  count: number,
  stillWatched: () => boolean = () => true,
): Promise<ServiceEvent | null> {
  const { ctx, row } = watched;
  if (!row.pid || !(await isSameProcess(row.pid, row.startTicks))) {
    const exit = row.pid ? deps.exits.get(row.pid) : undefined;
    const exitCode = exit?.code ?? null;
    if (!stillWatched()) return null;
    // Only the record this watch read: another worker's newer record of the service is left alone.
    await deps.db.serviceInstance.updateMany({
      where: { id: row.id, pid: row.pid, status: row.status },
      data: { status: 'exited', exitCode },
    });
    // Killed by its cell's memory limit: said in its log and the cell's events, with a hint.
    const oom = row.pid ? await oomKilled(ctx.cellId, row.pid, exit) : undefined;
    const report = oom && oomReport(ctx.name, oom);
    if (report) {
      await appendCellLog(ctx.logFile, `hive: ${report.message}. ${report.hint}\n`).catch(() => {});
      await recordEvent(deps.db, ctx.cellId, 'operation', {
        step: serviceStep(ctx.name),
        operation: `${ErrorType.ServiceOOMKilled}: ${report.message}. ${report.hint}`,
      });
    }
    return {
      service: ctx.name,
      kind: 'exited',
      exitCode,
      detail: report?.message ?? `${ctx.name} exited${exitCode === null ? '' : ` with code ${exitCode}`}`,
    };
  }
  if (count % ROTATE_EVERY_LOOKS === 0) {
    await rotateLog(ctx.logFile, deps.logMaxBytes).catch((error: unknown) =>
      warn('a service log could not be rotated', { service: ctx.name, error: String(error) }),
    );
  }
  // Liveness every PROBE_EVERY looks: an exit is seen within a second, a hung service within
  // failureThreshold probes.
  if (!ctx.probe || count % PROBE_EVERY_LOOKS !== 0) return null;
  // A log probe matched when the service got ready, and a printed line stays printed: its log is not
  // read again (it may be huge).
  const outcome = await probeOnce(ctx.probe, ctx, logProbeMemory(0, true));
  watched.failures = outcome.ok ? 0 : watched.failures + 1;
  if (watched.failures < ctx.probe.failureThreshold || !stillWatched()) return null;
  await deps.db.serviceInstance.updateMany({
    where: { id: row.id, pid: row.pid, status: row.status },
    data: { status: 'unhealthy' },
  });
  return { service: ctx.name, kind: 'unhealthy', exitCode: null, detail: outcome.observation };
}
