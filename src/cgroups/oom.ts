import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cgroupSupport } from './detect.js';
import { controllerDir } from './paths.js';

// Telling a service ended by its cell's memory limit from any other death: the kernel counts OOM
// kills per cgroup (v1 memory.oom_control `oom_kill`, v2 memory.events `oom_kill`). A service that
// died by SIGKILL (or whose shell reports 128+9) while the count grew since it started was killed
// by the limit.

export interface OomKill {
  limitBytes: number | null;
  peakBytes: number | null;
}

/** The cell's OOM-kill count so far, its limit and its peak usage; undefined without a memory cgroup. */
async function memoryFacts(cellId: string): Promise<(OomKill & { kills: number }) | undefined> {
  const support = await cgroupSupport();
  const dir = controllerDir(support, cellId, 'memory');
  if (!dir) return undefined;
  const read = (file: string) => readFile(path.join(dir, file), 'utf8').catch(() => undefined);
  const bytes = (text: string | undefined) => {
    const n = Number(text?.trim());
    // "max" (v2) or a huge v1 number: no limit.
    return Number.isFinite(n) && n < 2 ** 60 ? n : null;
  };
  const events = await read(support.kind === 'v2' ? 'memory.events' : 'memory.oom_control');
  if (events === undefined) return undefined;
  const kills = Number(/^oom_kill (\d+)$/m.exec(events)?.[1] ?? 0);
  if (support.kind === 'v2') {
    return {
      kills,
      limitBytes: bytes(await read('memory.max')),
      peakBytes: bytes(await read('memory.peak')),
    };
  }
  return {
    kills,
    limitBytes: bytes(await read('memory.limit_in_bytes')),
    peakBytes: bytes(await read('memory.max_usage_in_bytes')),
  };
}

/** The count when each service process (by pid) started, in this worker. */
const countsAtStart = new Map<number, number>();

/**
 * Reads the cell's OOM-kill count before a service process is spawned; the function returned
 * notes it as that process's baseline once its pid is known.
 */
export async function oomBaseline(cellId: string): Promise<(pid: number) => void> {
  const facts = await memoryFacts(cellId);
  return (pid) => {
    if (facts) countsAtStart.set(pid, facts.kills);
  };
}

/**
 * Whether the service process `pid`, which ended with `exit`, was killed by the cell's memory limit:
 * the limit and the peak when it was, undefined otherwise. Without a baseline (another worker
 * started it) any OOM kill of the cell counts.
 */
export async function oomKilled(
  cellId: string,
  pid: number,
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined,
): Promise<OomKill | undefined> {
  const baseline = countsAtStart.get(pid) ?? 0;
  countsAtStart.delete(pid);
  if (exit && exit.signal !== 'SIGKILL' && exit.code !== 128 + 9) return undefined;
  const facts = await memoryFacts(cellId);
  if (!facts || facts.kills <= baseline) return undefined;
  return { limitBytes: facts.limitBytes, peakBytes: facts.peakBytes };
}

const mib = (n: number | null) => (n === null ? 'unknown' : `${Math.round(n / 1024 / 1024)} MiB`);

/** The message and hint a service killed by its memory limit is reported with. */
export function oomReport(service: string, kill: OomKill): { message: string; hint: string } {
  return {
    message: `${service} was killed by its cell's memory limit (OOMKilled): limit ${mib(kill.limitBytes)}, peak ${mib(kill.peakBytes)}`,
    hint: "Raise the template's resources.memoryMb, or make the service use less memory.",
  };
}
