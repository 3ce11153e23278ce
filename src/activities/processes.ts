import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

// Real processes and process groups: facts read from /proc and signal 0, and the signals that stop
// a group. Every service and command runs in its own process group, so stopping one stops all it
// started.

/**
 * The state and the fields after it in /proc/<pid>/stat (field 3 onwards: [0] state, [2] process
 * group, [19] start time), for a live process only: undefined when it is gone or a zombie.
 */
async function liveStat(pid: number | string): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' ? undefined : fields;
}

/** The pids in /proc. */
async function pids(): Promise<string[]> {
  return (await readdir('/proc').catch(() => [] as string[])).filter((entry) => /^\d+$/.test(entry));
}

/** Every live process: its parent and its process group, by pid (for walking a process tree). */
export async function liveProcesses(): Promise<Map<number, { ppid: number; pgid: number }>> {
  const table = new Map<number, { ppid: number; pgid: number }>();
  await Promise.all(
    (await pids()).map(async (pid) => {
      const fields = await liveStat(pid);
      if (fields) table.set(Number(pid), { ppid: Number(fields[1]), pgid: Number(fields[2]) });
    }),
  );
  return table;
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat). */
export async function processStartTicks(pid: number): Promise<string | undefined> {
  return (await liveStat(pid))?.[19];
}

/** Whether this exact process (same pid, same start time) is still running. */
export async function isSameProcess(pid: number, startTicks: string | null): Promise<boolean> {
  const now = await processStartTicks(pid);
  return now !== undefined && (startTicks === null || now === startTicks);
}

/** Whether any live (non-zombie) process is left in a process group. */
export async function groupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // Signal 0 also succeeds for zombies; look for a live member.
  for (const pid of await pids()) {
    if ((await liveStat(pid))?.[2] === String(pgid)) return true;
  }
  return false;
}

/**
 * The process groups with a live member whose environment has `name` set to a value starting with
 * `prefix` (from /proc/<pid>/environ: the environment a process was started with, which its
 * children inherit). Reads every process's environment: for clean-up after a crash, not hot paths.
 */
export async function groupsWithVariable(name: string, prefix: string): Promise<number[]> {
  const groups = new Set<number>();
  const needle = `${name}=${prefix}`;
  for (const pid of await pids()) {
    if (Number(pid) === process.pid) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (!environ.split('\0').some((v) => v.startsWith(needle))) continue;
    const group = (await liveStat(pid))?.[2];
    if (group) groups.add(Number(group));
  }
  return [...groups];
}

/**
 * The process groups with a live member working in `dir` or below it (/proc/<pid>/cwd): what a
 * cell started finds its way here even when it cleared its environment and made its own session
 * (`env -i setsid daemon &`). Hive's own process is never one of them.
 */
export async function groupsWorkingIn(dir: string): Promise<number[]> {
  const groups = new Set<number>();
  // /proc shows the real path: compare with the folder's real path too.
  const roots = [...new Set([dir, await realpath(dir).catch(() => dir)])];
  const inside = (cwd: string) => {
    const clean = cwd.replace(/ \(deleted\)$/, '');
    return roots.some((root) => clean === root || clean.startsWith(`${root}/`));
  };
  const own = (await liveStat(String(process.pid)))?.[2];
  for (const pid of await pids()) {
    if (Number(pid) === process.pid) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd === undefined || !inside(cwd)) continue;
    const group = (await liveStat(pid))?.[2];
    if (group && group !== own) groups.add(Number(group));
  }
  return [...groups];
}

/** Signals a whole process group; a group that is already gone is fine. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits up to `ms` for a group to be gone; true when it is. */
export async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
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

/**
 * Exit statuses of the service processes this worker spawned, by pid: Node reaps its children, so
 * only the spawning worker can know how one ended. One per worker, passed to whoever needs it.
 */
export type ExitRegistry = Map<number, { code: number | null; signal: NodeJS.Signals | null }>;
