import { readdir, readFile, readlink } from 'node:fs/promises';
import { liveProcesses } from '../processes.js';

// The TCP ports a service's processes really listen on, read from /proc: its process group and
// every descendant (a script that starts `vite` in a child keeps the group; one that moves to a
// group of its own is still a descendant). Read only while a readiness wait needs it: it reads
// every process's stat, the fds of the service's own, and the kernel's socket tables.

/** The live processes of a service: those in its process group and all their descendants. */
export async function serviceProcesses(pgid: number): Promise<number[]> {
  const table = await liveProcesses();
  const members = new Set<number>();
  for (const [pid, { pgid: group }] of table) if (group === pgid || pid === pgid) members.add(pid);
  // Descendants that left the group (setsid, their own group), found by parentage to a fixpoint.
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, { ppid }] of table) {
      if (!members.has(pid) && members.has(ppid)) {
        members.add(pid);
        grew = true;
      }
    }
  }
  return [...members];
}

/** The socket inodes a process holds open (`/proc/<pid>/fd/* → socket:[inode]`). */
async function socketInodes(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return links.flatMap((link) => /^socket:\[(\d+)\]$/.exec(link)?.[1] ?? []);
}

/** Listening TCP sockets (state 0A) of IPv4 and IPv6, by inode → local port. */
async function listeningSockets(): Promise<Map<string, number>> {
  const sockets = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue;
      const port = Number.parseInt(fields[1]?.split(':').pop() ?? '', 16);
      if (Number.isInteger(port)) sockets.set(fields[9] as string, port);
    }
  }
  return sockets;
}

/** The TCP ports the service whose process group is `pgid` listens on, sorted; [] when none (yet). */
export async function listenedPorts(pgid: number): Promise<number[]> {
  const pids = await serviceProcesses(pgid);
  const inodes = (await Promise.all(pids.map(socketInodes))).flat();
  if (inodes.length === 0) return [];
  const sockets = await listeningSockets();
  const ports = new Set<number>();
  for (const inode of inodes) {
    const port = sockets.get(inode);
    if (port !== undefined) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/** `:3333` or `:3333, :24678`, for messages. */
export const portList = (ports: number[]) =>
  [...ports]
    .sort((a, b) => a - b)
    .map((p) => `:${p}`)
    .join(', ');
