import { createConnection } from 'node:net';
import { cellRootOf, FileReplacedError, openContained } from '../../cells/containedFiles.js';
import type { ProbePlan } from '../../cells/plan.js';
import { runCommand } from '../commands.js';
import type { ServiceContext } from './context.js';

export interface ProbeOutcome {
  ok: boolean;
  /** What was seen, for progress lines: "http GET /health → 503". */
  observation: string;
  /** An http probe's answer status. */
  status?: number;
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

/**
 * What a log probe has read of its log so far: it reads only what was appended since, never the
 * whole log again (a log grows without bound; re-reading it at every check once failed a healthy
 * service past ~512 MiB). Once matched, it stays matched: a line printed is not unprinted.
 */
export interface LogProbeMemory {
  offset: number;
  /** The last, unfinished line, matched once it is complete (bounded). */
  carry: string;
  matched: boolean;
}

/** A log probe's memory from `offset` (where this run of the service began writing). */
export const logProbeMemory = (offset = 0, matched = false): LogProbeMemory => ({
  offset,
  carry: '',
  matched,
});

/**
 * Where the current run of a service began writing its log: just after the `$ <command>` line its
 * start appended (found in the log's last MiB), so a line an earlier run printed never counts.
 */
export async function runLogOffset(file: string, run: string | undefined): Promise<number> {
  const handle = await openContained(cellRootOf(file), file, 'read').catch(() => undefined);
  if (!handle) return 0;
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - LOG_READ_BYTES);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    const window = buffer.subarray(0, bytesRead);
    const marker = run === undefined ? -1 : window.lastIndexOf(`$ ${run}\n`);
    return marker < 0 ? start : start + marker + Buffer.byteLength(`$ ${run}\n`);
  } finally {
    await handle.close();
  }
}

/** Bytes a log probe reads at one check, at most: a huge backlog is caught up over several checks. */
const LOG_READ_BYTES = 1024 * 1024;
/** An unfinished line longer than this is matched as it is and not carried further. */
const LOG_CARRY_BYTES = 64 * 1024;

async function logMatches(file: string, pattern: RegExp, memory: LogProbeMemory): Promise<boolean> {
  if (memory.matched) return true;
  let handle: Awaited<ReturnType<typeof openContained>>;
  try {
    handle = await openContained(cellRootOf(file), file, 'read');
  } catch (error) {
    if (error instanceof FileReplacedError) return false; // a link is never read
    throw error;
  }
  if (!handle) return false;
  try {
    const { size } = await handle.stat();
    if (size < memory.offset) Object.assign(memory, { offset: 0, carry: '' }); // rotated or truncated
    if (size === memory.offset) return false;
    const buffer = Buffer.alloc(Math.min(size - memory.offset, LOG_READ_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, memory.offset);
    memory.offset += bytesRead;
    const text = memory.carry + buffer.subarray(0, bytesRead).toString('utf8');
    const end = text.lastIndexOf('\n');
    const complete = end < 0 ? '' : text.slice(0, end);
    memory.carry = end < 0 ? text : text.slice(end + 1);
    if (memory.carry.length > LOG_CARRY_BYTES) {
      memory.matched = pattern.test(memory.carry);
      memory.carry = '';
    }
    memory.matched ||= pattern.test(complete);
    return memory.matched;
  } finally {
    await handle.close();
  }
}

/**
 * One probe of a service, modelled on process-compose: tcp, http, exec or log. A log probe keeps
 * what it read in `memory` (without one it reads the log from its start).
 */
export async function probeOnce(
  probe: ProbePlan,
  ctx: ServiceContext,
  memory: LogProbeMemory = logProbeMemory(),
): Promise<ProbeOutcome> {
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
        return { ok, observation: `http GET ${probe.path} → ${response.status}`, status: response.status };
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
      const ok = await logMatches(ctx.logFile, new RegExp(probe.pattern, 'm'), memory);
      return { ok, observation: `log /${probe.pattern}/ → ${ok ? 'matched' : 'not yet'}` };
    }
  }
}
