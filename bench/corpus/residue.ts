// What a cell left behind after it was archived with discard (or rolled back): its worktree, its
// git worktree entry, branch and archive ref, live processes (by group, and by working directory
// inside the worktree, which catches children that left the group) and ports still bound.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import type { CellDetail } from '../../src/client/index.js';

/** state and process group of a process, from /proc (undefined when it is gone). */
async function procStat(pid: number): Promise<{ state: string; pgrp: number } | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
}

// A zombie (exited, not yet reaped by the worker that spawned it) is not alive: kill(pid, 0) would
// still succeed on it, so liveness is read from /proc.
const processAlive = async (pid: number) => {
  const s = await procStat(pid);
  return s !== undefined && s.state !== 'Z';
};

async function groupAlive(pgid: number): Promise<boolean> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = await procStat(Number(entry));
    if (s && s.pgrp === pgid && s.state !== 'Z') return true;
  }
  return false;
}

const bound = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(false)));
  });

/** Processes whose working directory is `dir` or below it. */
async function processesIn(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd === dir || cwd.startsWith(`${dir}${path.sep}`)) found.push(Number(entry));
  }
  return found;
}

/** One line per thing left; empty when the cell left nothing. */
export async function residue(cell: CellDetail, workspace: string): Promise<string[]> {
  const left: string[] = [];
  const wt = cell.worktreePath;
  if (wt) {
    if (await stat(wt).catch(() => undefined)) left.push(`worktree ${wt} still exists`);
    const list = await execa('git', ['worktree', 'list', '--porcelain'], { cwd: workspace, reject: false });
    if (list.stdout.split('\n').some((l) => l === `worktree ${wt}`)) left.push(`git worktree entry ${wt}`);
    const pids = await processesIn(wt);
    if (pids.length) left.push(`processes running in the worktree: ${pids.join(', ')}`);
  }
  if (cell.branch) {
    const ref = await execa('git', ['rev-parse', '--verify', '-q', `refs/heads/${cell.branch}`], {
      cwd: workspace,
      reject: false,
    });
    if (ref.exitCode === 0) left.push(`branch ${cell.branch}`);
  }
  const saved = await execa('git', ['for-each-ref', '--format=%(refname)', `refs/hive/archive/${cell.id}`], {
    cwd: workspace,
    reject: false,
  });
  if (saved.stdout.trim()) left.push(`archive ref ${saved.stdout.trim()} (discard asked)`);
  for (const s of cell.services) {
    if (!s.pid) continue;
    const pid = s.pid;
    const what = async () =>
      [(await processAlive(pid)) && 'process', (await groupAlive(pid)) && 'group']
        .filter(Boolean)
        .join(' and ');
    const atRest = await what();
    if (!atRest) continue;
    // Hive said archived while it lives: a lag (it ends soon after) or a leak (it does not).
    const since = Date.now();
    while ((await what()) && Date.now() - since < 10_000) await new Promise((r) => setTimeout(r, 250));
    const later = await what();
    left.push(
      `service ${s.name}: pid ${pid} (${atRest}) alive when the cell rested; ${
        later ? `${later} still alive 10 s later` : `gone ${((Date.now() - since) / 1000).toFixed(1)} s later`
      }`,
    );
  }
  for (const p of cell.ports) {
    if (await bound(p.port)) left.push(`port ${p.port} (${p.service}.${p.name}) still bound`);
  }
  return left;
}
