import type { ProbePlan, ServiceCall } from '../../cells/plan.js';
import { ReadinessProbe } from '../../templates/schema.js';
import { readLogText } from '../commands.js';
import { revealSecrets, secretRefs, serviceDir, serviceEnvironment } from '../resolveEnvironment.js';
import { metaPath } from '../worktree.js';

/** Everything an activity needs to run, probe or stop one service, derived from its call in one place. */
export interface ServiceContext {
  cellId: string;
  name: string;
  /** `.hive/logs/<service>.log`: its output, appended by every run. */
  logFile: string;
  /** Where its commands (run, setup, stop, exec probes) run. */
  cwd: string;
  /** The cell's env with the service's own on top, secrets resolved. */
  env: Record<string, string>;
  /** Masks the values of its secrets (for log tails that leave the host). */
  redact: (text: string) => string;
  /** The port of one of its named ports (undefined name: the primary). */
  port(name?: string): number | undefined;
  /** Its declared readiness probe, or the default one; undefined when there is nothing to probe. */
  probe: ProbePlan | undefined;
}

/**
 * Without a declared probe, a service with a port is ready when the port accepts TCP (as in
 * process-compose); timings are the schema's documented defaults, so there is one set of them.
 */
const DEFAULT_PROBE: ProbePlan = ReadinessProbe.parse({ type: 'tcp' });

export async function serviceContext(
  call: ServiceCall,
  { forStopping = false }: { forStopping?: boolean } = {},
): Promise<ServiceContext> {
  const { plan, service } = call;
  const refs = secretRefs(call.env, service.name);
  // Stopping never waits on a secret: a service whose secret is gone still gets signalled.
  const secrets = await revealSecrets(plan, refs).catch((error: unknown) => {
    if (forStopping) return { values: {}, redact: (text: string) => text };
    throw error;
  });
  const port = (name?: string) =>
    call.ports.find((p) => p.service === service.name && p.name === (name ?? service.primaryPort))?.port;
  return {
    cellId: plan.cellId,
    name: service.name,
    logFile: metaPath(plan, 'logs', `${service.name}.log`),
    cwd: serviceDir(plan, service),
    env: { ...serviceEnvironment(call.env, service.name), ...secrets.values },
    redact: secrets.redact,
    port,
    probe: service.readiness ?? (port() === undefined ? undefined : DEFAULT_PROBE),
  };
}

/** The last lines of a service's log, for failure reports. */
export async function logTail(ctx: ServiceContext): Promise<string> {
  return ctx.redact(await readLogText(ctx.logFile));
}
