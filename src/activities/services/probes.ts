import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import type { ProbePlan } from '../../cells/plan.js';
import { runCommand } from '../commands.js';
import type { ServiceContext } from './context.js';

export interface ProbeOutcome {
  ok: boolean;
  /** What was seen, for progress lines: "http GET /health → 503". */
  observation: string;
}

function tcpConnects(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** One probe of a service, modelled on process-compose: tcp, http, exec or log. */
export async function probeOnce(probe: ProbePlan, ctx: ServiceContext): Promise<ProbeOutcome> {
  switch (probe.type) {
    case 'tcp': {
      const port = ctx.port(probe.port);
      if (port === undefined) return { ok: false, observation: 'tcp: no port' };
      const ok = await tcpConnects(port, probe.timeoutMs);
      return { ok, observation: `tcp :${port} → ${ok ? 'open' : 'refused'}` };
    }
    case 'http': {
      const port = ctx.port(probe.port);
      try {
        const response = await fetch(`http://127.0.0.1:${port}${probe.path}`, {
          signal: AbortSignal.timeout(probe.timeoutMs),
        });
        await response.body?.cancel();
        const ok =
          probe.expectStatus !== undefined
            ? response.status === probe.expectStatus
            : response.status >= 200 && response.status < 400;
        return { ok, observation: `http GET ${probe.path} → ${response.status}` };
      } catch (error) {
        const reason =
          error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : 'error';
        return { ok: false, observation: `http GET ${probe.path} → ${reason}` };
      }
    }
    case 'exec': {
      const result = await runCommand({
        command: probe.command,
        cwd: ctx.cwd,
        env: ctx.env,
        logFile: `${ctx.logFile}.probe`,
        timeoutMs: probe.timeoutMs,
      });
      return { ok: result.exitCode === 0, observation: `exec ${probe.command} → exit ${result.exitCode}` };
    }
    case 'log': {
      const text = await readFile(ctx.logFile, 'utf8').catch(() => '');
      const ok = new RegExp(probe.pattern, 'm').test(text);
      return { ok, observation: `log /${probe.pattern}/ → ${ok ? 'matched' : 'not yet'}` };
    }
  }
}
