import { ErrorType, type ServiceCondition, serviceStep } from '../../cells/catalog.js';
import type { ReadyCell, ServiceCall, SettlingService } from '../../cells/plan.js';
import { oomKilled, oomReport } from '../../cgroups/oom.js';
import type { Db } from '../../db/client.js';
import { permanent } from '../failures.js';
import { type ExitRegistry, isSameProcess } from '../processes.js';
import { inActivity, type StepRecorder } from '../steps.js';
import { type AdoptedPort, adoptPort, autoPortName } from './adoption.js';
import { logTail, serviceContext } from './context.js';
import { portList } from './listeners.js';
import { createPortWatch } from './portWatch.js';
import { logProbeMemory, probeOnce, runLogOffset } from './probes.js';

export interface ReadinessDeps {
  db: Db;
  steps: StepRecorder;
  exits: ExitRegistry;
}

/** A service with no port and no probe is ready once it has stayed up this long. */
const STAYED_UP_MS = 1_000;

/**
 * A service is ready only if its process still runs this long after it started (and when its
 * probe passed): a server that listens and then exits on bad config is not ready. Counted from the
 * start, so a service that takes longer than this to pass its probe pays nothing, and a minimal
 * Node server (probe passing ~90 ms after spawn) pays ~110 ms: issue #23 counts every one of them.
 * Next.js listens first and exits seconds later (after compiling its instrumentation), which no
 * small default covers: such a template sets `settleMs` or an http probe (docs/templates.md).
 */
export const DEFAULT_SETTLE_MS = 200;

/**
 * Probing is fast at first, as a shell's `until …; do sleep 0.02; done` is: every 20 ms for the first
 * two seconds (a server that listens after 150 ms is seen at 160, not at 300 as with backing off from
 * the start), then backing off to the probe's period.
 */
const FIRST_PROBE_GAP_MS = 20;
const FAST_PROBING_MS = 2_000;
const FAST_PROBES = FAST_PROBING_MS / FIRST_PROBE_GAP_MS;

/**
 * A server that is up and answers its http probe with an error of its own (500, not a 502/503/504
 * "not yet") this long fails its readiness then, not at readyTimeoutMs: it is not slow, it fails.
 */
const SERVER_ERROR_FOR_MS = 15_000;
const isNotYet = (status: number | undefined) => status !== undefined && [502, 503, 504].includes(status);
const isServerError = (status: number | undefined) =>
  status !== undefined && status >= 500 && !isNotYet(status);

/** How often the current operation of a readiness wait is recorded. */
const REPORT_EVERY_MS = 250;

export function createReadiness({ db, steps, exits }: ReadinessDeps) {
  /**
   * A service's process is gone before it reached `condition`: recorded as exited, and the failure
   * to throw (out of memory said so, with the limit and the peak; else its exit code or signal, and
   * how long after its probe passed when it had). With its log tail.
   */
  async function exited(
    ctx: Awaited<ReturnType<typeof serviceContext>>,
    rowId: string,
    pid: number,
    condition: ServiceCondition,
    probe: { passedAt: number; observation: string } | undefined,
  ): Promise<Error> {
    const exit = exits.get(pid);
    const code = exit?.code ?? null;
    await db.serviceInstance.update({ where: { id: rowId }, data: { status: 'exited', exitCode: code } });
    const fail = async (type: ErrorType, message: string, hint: string) =>
      permanent(type, message, { hint, logTail: await logTail(ctx) });
    const oom = await oomKilled(ctx.cellId, pid, exit);
    if (oom) {
      const report = oomReport(ctx.name, oom);
      return fail(ErrorType.ServiceOOMKilled, report.message, report.hint);
    }
    const how = code === null ? `(${exit?.signal ?? 'status unknown'})` : `with code ${code}`;
    return fail(
      ErrorType.ServiceExited,
      probe === undefined
        ? `${ctx.name} exited ${how} before it was ${condition}`
        : `${ctx.name} exited ${how} ${Date.now() - probe.passedAt} ms after its probe passed (${probe.observation}), within its settle window: not ready`,
      `Check its command and log: ${ctx.logFile}`,
    );
  }

  return {
    /**
     * Waits until a started service is ready (its probe passes and it is still running at the end
     * of its settle window) or, for one-shot services others depend on as `completed`, until it
     * exits 0 — at most `readyTimeoutMs`. While it waits it looks at the ports the service really
     * listens on: one that listens only elsewhere fails within seconds, naming both ports; an
     * `auto` port is adopted (and returned, for the workflow to add to the cell). Heartbeats each
     * probe, so a cancellation reaches it at once. A service that exits, or never gets ready,
     * fails with its exit code and last log lines. With `deferSettle`, it returns once the probe
     * passed, naming the rest of the settle window (`settling`) for `confirmSettled`.
     */
    async awaitService(
      call: ServiceCall & { condition: ServiceCondition; deferSettle?: boolean },
    ): Promise<{ observation: string; adopted?: AdoptedPort; settling?: SettlingService }> {
      const { service, condition } = call;
      const stepName = serviceStep(service.name, condition);
      return steps.withStep({ cellId: call.plan.cellId, name: stepName }, async () => {
        let ctx = await serviceContext(call);
        const activity = inActivity();
        const sleep = (ms: number) => (activity ? activity.sleep(ms) : new Promise((r) => setTimeout(r, ms)));
        const row = await db.serviceInstance.findUniqueOrThrow({
          where: { cellId_name: { cellId: ctx.cellId, name: ctx.name } },
        });
        const pid = row.pid ?? -1;
        const auto = autoPortName(call);
        // An auto port adopted by an earlier run of the service is the one it must keep.
        const before = auto && call.ports.find((p) => p.service === ctx.name && p.name === auto)?.port;
        const own = call.ports
          .filter((p) => p.service === ctx.name && p.name !== auto)
          .flatMap((p) => {
            // A block ({ block: n }) is n ports from the one recorded: listening on any of them is right.
            const spec = service.ports[p.name];
            const size = typeof spec === 'object' && !Array.isArray(spec) ? spec.block : 1;
            return Array.from({ length: size }, (_, i) => p.port + i);
          });
        const allocated = before ? [...own, before] : own;
        // Only a service with ports (or an auto one) is looked at: the rest may listen where they like.
        const watched = allocated.length > 0 || auto !== undefined;
        const watch = createPortWatch({
          pgid: row.pgid ?? pid,
          allocated,
          auto: auto !== undefined && !before,
          logFile: ctx.logFile,
        });
        let adopted: AdoptedPort | undefined;
        // A log probe reads only this run's output, each check only what was appended since.
        const logMemory = logProbeMemory(
          ctx.probe?.type === 'log' ? await runLogOffset(ctx.logFile, call.env.services[ctx.name]?.run) : 0,
        );
        const started = Date.now();
        const deadline = started + service.readyTimeoutMs;
        const settled = (row.startedAt?.getTime() ?? started) + (service.settleMs ?? DEFAULT_SETTLE_MS);
        if (ctx.probe?.initialDelayMs) await sleep(ctx.probe.initialDelayMs);
        let observation = 'not probed yet';
        let passedAt: number | undefined;
        /** Since when the http probe has answered with a server error, without a break. */
        let erroringSince: number | undefined;
        /** The http probe's last answer: a 502/503/504 means "not yet", not a wrong probe. */
        let lastStatus: number | undefined;
        let reportedAt = 0;
        const fail = async (type: ErrorType, message: string, hint: string) =>
          permanent(type, message, { hint, logTail: await logTail(ctx) });
        for (let attempt = 1; ; attempt++) {
          if (!(await isSameProcess(pid, row.startTicks))) {
            const exit = exits.get(pid);
            if (condition === 'completed' && exit?.code === 0) {
              await db.serviceInstance.update({
                where: { id: row.id },
                data: { status: 'completed', exitCode: 0 },
              });
              return { observation: 'exited 0' };
            }
            throw await exited(
              ctx,
              row.id,
              pid,
              condition,
              passedAt === undefined ? undefined : { passedAt, observation },
            );
          }
          if (condition === 'ready') {
            if (auto && !before && !adopted) {
              const verdict = await watch.look();
              if (verdict.kind === 'ambiguous') {
                throw await fail(
                  ErrorType.ServicePortAmbiguous,
                  `${ctx.name} listens on ${portList(verdict.ports)} and its log names none of them: which is its port?`,
                  `Print the URL it serves on, or give it its port (--port $PORT) instead of "auto".`,
                );
              }
              if (verdict.kind === 'adopt') {
                adopted = await adoptPort(db, call, auto, verdict.port);
                // From here on it is probed like a service with that port allocated.
                ctx = await serviceContext({ ...call, ports: [...call.ports, adopted.port] });
              }
              const seen = watch.seen ?? [];
              observation = adopted
                ? `adopted :${adopted.port.port}`
                : `auto port not adopted yet${seen.length ? ` (listens on ${portList(seen)})` : ''}`;
            }
            if (passedAt === undefined && (!auto || before || adopted)) {
              if (ctx.probe) {
                const outcome = await probeOnce(ctx.probe, ctx, logMemory);
                observation = outcome.observation;
                lastStatus = outcome.status;
                if (outcome.ok) passedAt = Date.now();
                erroringSince = isServerError(outcome.status) ? (erroringSince ?? Date.now()) : undefined;
                if (erroringSince !== undefined && Date.now() - erroringSince >= SERVER_ERROR_FOR_MS) {
                  throw await fail(
                    ErrorType.ServiceNotReady,
                    `${ctx.name} answers its probe with HTTP ${outcome.status} for ${Math.round(SERVER_ERROR_FOR_MS / 1000)} s (${observation}): it is up and failing`,
                    `The server runs but errs: its log says why (${ctx.logFile}). Fix the cause, or probe a path that does not need it (readiness.path).`,
                  );
                }
              } else if (Date.now() - started >= STAYED_UP_MS) {
                observation = `stayed up ${STAYED_UP_MS} ms`;
                passedAt = Date.now();
              }
            }
            if (passedAt !== undefined && (Date.now() >= settled || call.deferSettle)) break;
            if (passedAt === undefined && allocated.length > 0) {
              const verdict = await watch.look();
              if (verdict.kind === 'wrong') {
                const wanted = portList(allocated);
                throw await fail(
                  ErrorType.ServiceWrongPort,
                  `${ctx.name} listens on ${portList(verdict.ports)}, not on ${before ? `${wanted}, the port it chose before` : `the allocated ${wanted}`}`,
                  before
                    ? `A service's auto port must stay the same across restarts: make it listen on ${wanted} again (or fix its port).`
                    : `The command ignores $PORT: pass --port $PORT (or read PORT from the environment), or declare its port "auto" to adopt the one it chooses.`,
                );
              }
            }
          }
          const operation = `waiting for ${ctx.name} ${condition === 'ready' ? 'readiness' : 'to complete'}: ${passedAt === undefined ? observation : `${observation}, settling`}, try ${attempt}`;
          // Probes come every 20 ms at first: the operation is recorded at most every 250 ms.
          if (Date.now() - reportedAt >= REPORT_EVERY_MS) {
            reportedAt = Date.now();
            await steps.reportOperation(ctx.cellId, stepName, operation);
          }
          if (Date.now() >= deadline) {
            // Only a service that listens nowhere is told to wait longer; one that listens elsewhere failed above.
            if (condition === 'ready' && watched) await watch.look({ force: true });
            const listens = condition === 'ready' && watched ? watch.seen : undefined;
            const where =
              listens === undefined
                ? ''
                : listens.length === 0
                  ? 'listens on no port yet; '
                  : `listens on ${portList(listens)}; `;
            throw await fail(
              ErrorType.ServiceNotReady,
              `${ctx.name} not ${condition} after ${service.readyTimeoutMs} ms: ${where}${observation}`,
              listens && listens.length > 0 && !isNotYet(lastStatus)
                ? `It listens, but its probe does not pass: check the probe (${ctx.probe?.type ?? 'none'}) and the log: ${ctx.logFile}`
                : listens && listens.length > 0
                  ? `It listens and says it is not ready yet (HTTP ${lastStatus}): raise readyTimeoutMs if it needs longer to warm up; log: ${ctx.logFile}`
                  : `Raise readyTimeoutMs if it is just slow; log: ${ctx.logFile}`,
            );
          }
          // Cancellable sleep: a cancellation of the activity ends the wait at once.
          const period = ctx.probe?.periodMs ?? 200;
          const gap =
            Date.now() - started < FAST_PROBING_MS
              ? Math.min(period, FIRST_PROBE_GAP_MS)
              : Math.min(period, FIRST_PROBE_GAP_MS * 2 ** Math.max(0, attempt - FAST_PROBES));
          // Settling: only the process is watched, until the window ends.
          await sleep(passedAt === undefined ? gap : Math.max(1, Math.min(gap, settled - Date.now())));
        }
        // Settling beside the next steps (confirmSettled): still `running` until its window ends.
        if (condition === 'ready' && passedAt !== undefined && Date.now() < settled) {
          const settling = { service: ctx.name, passedAt, settlesAt: settled, observation };
          return adopted ? { observation, adopted, settling } : { observation, settling };
        }
        await db.serviceInstance.update({ where: { id: row.id }, data: { status: 'ready' } });
        return adopted ? { observation, adopted } : { observation };
      });
    },

    /**
     * The end of the settle windows of services whose probe passed before theirs ended
     * (`awaitService` with `deferSettle`): waits for each window to end, then makes sure the same
     * process still runs, and only then calls it ready. The workflow runs this beside the prompt and
     * the worktree baseline, so a fast service's window costs no time on the way to ready. One that
     * exited fails its readiness step, exactly as it would have failed inside `awaitService`.
     */
    async confirmSettled(cell: ReadyCell & { settling: SettlingService[] }): Promise<void> {
      const activity = inActivity();
      for (const settling of [...cell.settling].sort((a, b) => a.settlesAt - b.settlesAt)) {
        const wait = settling.settlesAt - Date.now();
        if (wait > 0) await (activity ? activity.sleep(wait) : new Promise((r) => setTimeout(r, wait)));
        const row = await db.serviceInstance.findUniqueOrThrow({
          where: { cellId_name: { cellId: cell.plan.cellId, name: settling.service } },
        });
        const pid = row.pid ?? -1;
        if (await isSameProcess(pid, row.startTicks)) {
          await db.serviceInstance.update({ where: { id: row.id }, data: { status: 'ready' } });
          continue;
        }
        const service = cell.plan.services.find((s) => s.name === settling.service);
        if (!service) throw new Error(`confirmSettled: no service ${settling.service} in the plan`);
        const ctx = await serviceContext({ ...cell, service });
        // Told as its readiness step's failure: that step is what it did not pass.
        await steps.withStep({ cellId: ctx.cellId, name: serviceStep(ctx.name, 'ready') }, async () => {
          throw await exited(ctx, row.id, pid, 'ready', settling);
        });
      }
    },
  };
}
