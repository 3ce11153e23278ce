import { ErrorType, type ServiceCondition, serviceStep } from '../../cells/catalog.js';
import type { ServiceCall } from '../../cells/plan.js';
import type { Db } from '../../db/client.js';
import { permanent } from '../failures.js';
import { type ExitRegistry, isSameProcess } from '../processes.js';
import { inActivity, type StepRecorder } from '../steps.js';
import { logTail, serviceContext } from './context.js';
import { probeOnce } from './probes.js';

export interface ReadinessDeps {
  db: Db;
  steps: StepRecorder;
  exits: ExitRegistry;
}

/** A service with no port and no probe is ready once it has stayed up this long. */
const STAYED_UP_MS = 1_000;

/**
 * Probing is fast at first, as a shell's `until …; do sleep 0.02; done` is: every 20 ms for the first
 * two seconds (a server that listens after 150 ms is seen at 160, not at 300 as with backing off from
 * the start), then backing off to the probe's period.
 */
const FIRST_PROBE_GAP_MS = 20;
const FAST_PROBING_MS = 2_000;
const FAST_PROBES = FAST_PROBING_MS / FIRST_PROBE_GAP_MS;

/** How often the current operation of a readiness wait is recorded. */
const REPORT_EVERY_MS = 250;

export function createReadiness({ db, steps, exits }: ReadinessDeps) {
  return {
    /**
     * Waits until a started service is ready (its probe passes) or, for one-shot services others
     * depend on as `completed`, until it exits 0 — at most `readyTimeoutMs`. Heartbeats each probe,
     * so a cancellation reaches it at once. A service that exits, or never gets ready, fails with
     * its exit code and last log lines.
     */
    async awaitService(
      call: ServiceCall & { condition: ServiceCondition },
    ): Promise<{ observation: string }> {
      const { service, condition } = call;
      const stepName = serviceStep(service.name, condition);
      return steps.withStep({ cellId: call.plan.cellId, name: stepName }, async () => {
        const ctx = await serviceContext(call);
        const activity = inActivity();
        const sleep = (ms: number) => (activity ? activity.sleep(ms) : new Promise((r) => setTimeout(r, ms)));
        const row = await db.serviceInstance.findUniqueOrThrow({
          where: { cellId_name: { cellId: ctx.cellId, name: ctx.name } },
        });
        const pid = row.pid ?? -1;
        const { probe } = ctx;
        const started = Date.now();
        const deadline = started + service.readyTimeoutMs;
        if (probe?.initialDelayMs) await sleep(probe.initialDelayMs);
        let observation = 'not probed yet';
        let reportedAt = 0;
        for (let attempt = 1; ; attempt++) {
          if (!(await isSameProcess(pid, row.startTicks))) {
            const exit = exits.get(pid);
            const code = exit?.code ?? null;
            if (condition === 'completed' && code === 0) {
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
              ErrorType.ServiceExited,
              `${ctx.name} exited ${code === null ? `(${exit?.signal ?? 'status unknown'})` : `with code ${code}`} before it was ${condition}`,
              { hint: `Check its command and log: ${ctx.logFile}`, logTail: await logTail(ctx) },
            );
          }
          if (condition === 'ready') {
            if (probe) {
              const outcome = await probeOnce(probe, ctx);
              observation = outcome.observation;
              if (outcome.ok) break;
            } else if (Date.now() - started >= STAYED_UP_MS) {
              observation = `stayed up ${STAYED_UP_MS} ms`;
              break;
            }
          }
          const operation = `waiting for ${ctx.name} ${condition === 'ready' ? 'readiness' : 'to complete'}: ${observation}, try ${attempt}`;
          // Probes come every 20 ms at first: the operation is recorded at most every 250 ms.
          if (Date.now() - reportedAt >= REPORT_EVERY_MS) {
            reportedAt = Date.now();
            await steps.reportOperation(ctx.cellId, stepName, operation);
          }
          if (Date.now() >= deadline) {
            throw permanent(
              ErrorType.ServiceNotReady,
              `${ctx.name} not ${condition} after ${service.readyTimeoutMs} ms: ${observation}`,
              {
                hint: `Raise readyTimeoutMs if it is just slow; log: ${ctx.logFile}`,
                logTail: await logTail(ctx),
              },
            );
          }
          // Cancellable sleep: a cancellation of the activity ends the wait at once.
          const period = probe?.periodMs ?? 200;
          await sleep(
            Date.now() - started < FAST_PROBING_MS
              ? Math.min(period, FIRST_PROBE_GAP_MS)
              : Math.min(period, FIRST_PROBE_GAP_MS * 2 ** Math.max(0, attempt - FAST_PROBES)),
          );
        }
        await db.serviceInstance.update({ where: { id: row.id }, data: { status: 'ready' } });
        return { observation };
      });
    },
  };
}
