import { z } from 'zod';

/** A host id: what `hive worker --host <id>` (HIVE_HOST_ID) names a machine. */
export const HostId = z.string().regex(/^[\w.-]{1,100}$/, 'a host name of letters, digits, ".", "_" or "-"');

/**
 * What a host is for placement: `live` (heartbeating, takes cells), `drained` (live, takes no new
 * cells), `unresponsive` (its last heartbeat is older than the grace period; the host monitor is
 * about to declare it lost), `lost` (declared lost: its cells were told; it reconciles when back).
 */
export const hostStates = ['live', 'drained', 'unresponsive', 'lost'] as const;
export type HostState = (typeof hostStates)[number];

/** One host as GET /hosts, `hive hosts ls` and the dashboard show it. */
export const HostView = z.object({
  id: HostId,
  state: z.enum(hostStates),
  drained: z.boolean().describe('Takes no new cells (hive hosts drain); its cells live on'),
  taskQueue: z.string().describe("The task queue its worker serves the cells' host-bound activities on"),
  workspaces: z.array(z.string()).describe('Ids of the workspaces it has clones of'),
  capacity: z.object({
    cpus: z.number().describe('Cores it offers cells (HIVE_HOST_CPUS, or detected)'),
    memoryMb: z.number().int().describe('MiB of memory it offers cells (HIVE_HOST_MEMORY_MB, or detected)'),
  }),
  reserved: z.object({
    cpus: z.number().describe("The resources its cells' templates declare, summed over its cells not ended"),
    memoryMb: z.number().int(),
  }),
  cells: z.number().int().describe('Its cells not ended (queued cells are on no host yet)'),
  freeMemoryMb: z.number().int().describe('At its last heartbeat'),
  freeDiskMb: z.number().int().describe('Under its data root, at its last heartbeat'),
  load: z.number().describe('1-minute load average at its last heartbeat'),
  heartbeatAt: z.string().describe('ISO 8601'),
  startedAt: z.string().describe('When its worker started (ISO 8601)'),
  lostAt: z.string().nullable().describe('When the host monitor declared it lost; null while it answers'),
});
export type HostView = z.infer<typeof HostView>;
