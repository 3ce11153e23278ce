import { statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finalStatuses } from '../cells/status.js';
import type { Db } from '../db/client.js';

export interface HostAgentOptions {
  db: Db;
  id: string;
  taskQueue: string;
  /** Ids of the workspaces this host has clones of; a function is asked again at every heartbeat. */
  workspaces: readonly string[] | (() => readonly string[]);
  /** Run before each heartbeat (the worker reads the stored workspaces again). */
  beforeBeat?: () => Promise<void>;
  /** Where the host keeps its data: free disk is measured there. */
  dataDir: string;
  heartbeatMs: number;
  /** What the host offers cells; detected when not declared. */
  cpus?: number;
  memoryMb?: number;
  onError?: (error: unknown) => void;
}

export interface HostAgent {
  /** Resolves once the host is registered (its first heartbeat written). */
  registered: Promise<void>;
  /** Records a heartbeat now, with the workspaces as they are now (one was added or removed). */
  announce(): Promise<void>;
  /** Stops heartbeating (the registration stays: a restart is not a loss). */
  stop(): Promise<void>;
}

const MiB = 1024 * 1024;

/** The file system the data root is (or will be) on: the nearest folder of it that exists. */
async function diskOf(dir: string) {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const disk = await statfs(at).catch(() => undefined);
    if (disk || at === path.dirname(at)) return disk;
  }
}

/** What this machine has now: memory, disk under the data root, load. */
async function facts(dataDir: string) {
  const disk = await diskOf(dataDir);
  return {
    freeMemoryMb: Math.floor(os.freemem() / MiB),
    freeDiskMb: disk ? Math.floor((disk.bavail * disk.bsize) / MiB) : 0,
    load: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}

/**
 * A host's registration and heartbeat: on start it writes what it offers (cores, memory, its
 * workspaces, its task queue), then every `heartbeatMs` what it has free and how many cells it
 * runs. A host the monitor declared lost clears nothing itself: the monitor sees the heartbeat
 * again and tells the host's cells it is back (src/workflows/hosts.ts), so the return is recorded once.
 */
export function startHostAgent(options: HostAgentOptions): HostAgent {
  const { db, id } = options;
  const workspaces = () => {
    const ids = typeof options.workspaces === 'function' ? options.workspaces() : options.workspaces;
    return JSON.stringify([...ids].sort());
  };
  const offer = {
    taskQueue: options.taskQueue,
    cpus: options.cpus ?? os.availableParallelism(),
    memoryMb: options.memoryMb ?? Math.floor(os.totalmem() / MiB),
  };
  const beat = async (first: boolean) => {
    const now = new Date();
    const liveCells = await db.cell.count({ where: { host: id, status: { notIn: [...finalStatuses] } } });
    await options.beforeBeat?.();
    // The workspaces go with every beat: one added while running becomes placeable here.
    const data = { ...(await facts(options.dataDir)), liveCells, workspaces: workspaces(), heartbeatAt: now };
    if (first) {
      await db.host.upsert({
        where: { id },
        create: { id, ...offer, ...data, startedAt: now },
        update: { ...offer, ...data, startedAt: now },
      });
    } else {
      await db.host.update({ where: { id }, data });
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = beat(false)
        .catch((error: unknown) => options.onError?.(error))
        .finally(schedule);
    }, options.heartbeatMs);
    timer.unref();
  };
  const registered = beat(true).then(schedule);
  inFlight = registered.catch(() => undefined);
  return {
    registered,
    announce() {
      const next = inFlight.then(() => (stopped ? undefined : beat(false)));
      inFlight = next.catch(() => undefined);
      return next;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}
