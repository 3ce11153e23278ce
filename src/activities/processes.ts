import { readdir, readFile } from 'node:fs/promises';

// Facts about real processes, read from /proc and signal 0. No process is changed here.

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat). */
export async function processStartTicks(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return undefined; // a zombie is not a live service
  return fields[19];
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
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[2] === String(pgid) && fields[0] !== 'Z') return true;
  }
  return false;
}
