import { randomUUID } from 'node:crypto';
import getPort, { portNumbers } from 'get-port';
import { ErrorType, Step } from '../cells/catalog.js';
import type { AllocatedPort, CellPlan, PortSpecPlan } from '../cells/plan.js';
import { type Db, isUniqueViolation } from '../db/client.js';
import { Prisma } from '../db/generated/client.js';
import { table } from '../db/rawSql.js';
import { isPortFree, portHolder } from '../templates/hostChecks.js';
import { permanent, transient } from './failures.js';
import type { StepRecorder } from './steps.js';

export interface PortsDeps {
  db: Db;
  steps: StepRecorder;
}

const MAX_RACES = 25;
/** Kernel-picked ports asked for before giving up on one nobody holds (tens of thousands exist). */
const ANY_ATTEMPTS = 50;

/** The registry key that makes a port active for one holder on a host (unique by constraint). */
export const activeKey = (host: string, port: number) => `${host}:${port}`;

/** How many ports a spec takes: a block its size, every other form one. */
const sizeOf = (spec: PortSpecPlan) => (typeof spec === 'object' && !Array.isArray(spec) ? spec.block : 1);

/** The name a block's port after the first is reserved under (not a placeholder: `$PORT` is the first). */
const blockPortName = (name: string, offset: number) => (offset === 0 ? name : `${name}+${offset}`);

/** Attempts at a block of free consecutive ports before giving up. */
const BLOCK_ATTEMPTS = 50;

/**
 * A port the kernel offers as free now and that is not in `exclude`. get-port applies `exclude` only
 * to ports it is asked to try, never to the one the kernel picks, so that is checked here.
 */
async function anyFreePort(exclude: number[]): Promise<number> {
  const excluded = new Set(exclude);
  for (let attempt = 0; attempt < ANY_ATTEMPTS; attempt++) {
    const port = await getPort();
    if (!excluded.has(port)) return port;
  }
  throw transient(
    ErrorType.PortRaced,
    `every free port offered was already allocated (${ANY_ATTEMPTS} tries)`,
  );
}

/**
 * The first of `size` consecutive ports, each free on the host and allocated to nobody (as Conductor
 * gives each workspace CONDUCTOR_PORT through CONDUCTOR_PORT+9).
 */
async function blockCandidate(size: number, exclude: number[], where: string): Promise<number> {
  const tried = [...exclude];
  for (let attempt = 0; attempt < BLOCK_ATTEMPTS; attempt++) {
    const first = await anyFreePort(tried);
    tried.push(first);
    const rest = Array.from({ length: size - 1 }, (_, i) => first + i + 1);
    if (first + size - 1 > 65535 || rest.some((p) => exclude.includes(p))) continue;
    let free = true;
    for (const port of rest) {
      free = await isPortFree(port);
      if (!free) break;
    }
    if (free) return first;
  }
  throw permanent(
    ErrorType.PortRangeExhausted,
    `${where}: no block of ${size} consecutive free ports found`,
    {
      hint: 'Free ports on this host, or ask for a smaller block.',
    },
  );
}

/** A candidate port for a spec: free on the real host right now and not allocated to anyone. */
async function candidate(
  spec: Exclude<PortSpecPlan, 'auto'>,
  exclude: number[],
  where: string,
): Promise<number> {
  if (typeof spec === 'number') {
    if (!(await isPortFree(spec))) {
      const holder = await portHolder(spec);
      throw permanent(
        ErrorType.PortInUse,
        `${where}: fixed port ${spec} is in use${holder ? ` by ${holder}` : ''}`,
        {
          hint: `Stop what holds ${spec}, or declare a range or "any" for this port.`,
        },
      );
    }
    return spec;
  }
  if (spec === 'any') return anyFreePort(exclude);
  if (!Array.isArray(spec)) return blockCandidate(spec.block, exclude, where);
  const [from, to] = spec;
  const port = await getPort({ port: portNumbers(from, to), exclude });
  if (port < from || port > to) {
    throw permanent(ErrorType.PortRangeExhausted, `${where}: no free port in ${from}-${to}`, {
      hint: 'Widen the range, free ports in it, or use "any".',
    });
  }
  return port;
}

export function createPortsActivities({ db, steps }: PortsDeps) {
  const allocations = table(db, 'PortAllocation');
  async function allocateOne(
    plan: CellPlan,
    service: string,
    name: string,
    spec: Exclude<PortSpecPlan, 'auto'>,
  ) {
    // Raw SQL (src/db/rawSql.ts): the step runs beside the worktree's on the one event loop.
    const [held] = await db.$queryRaw<{ port: number }[]>`SELECT "port" FROM ${allocations}
      WHERE "cellId" = ${plan.cellId} AND "service" = ${service} AND "name" = ${name}
        AND "activeKey" IS NOT NULL LIMIT 1`;
    if (held) return Number(held.port); // a re-run adopts what the first run allocated
    const where = `${service}.${name}`;
    for (let race = 0; race < MAX_RACES; race++) {
      // Ports promised to cells whose services may not listen yet: the kernel would offer them again.
      // A range is the host's own scarce set, shared only there; a port the kernel picks ("any", a
      // block) is never promised twice across hosts, since hosts may share a machine (several
      // `hive worker --host` on one box) and there are tens of thousands to pick from.
      const taken = await db.$queryRaw<{ port: number }[]>`SELECT "port" FROM ${allocations}
        WHERE "activeKey" IS NOT NULL ${Array.isArray(spec) ? Prisma.sql`AND "host" = ${plan.host}` : Prisma.empty}`;
      const port = await candidate(
        spec,
        taken.map((t) => Number(t.port)),
        where,
      );
      try {
        // A block's ports are allocated together or not at all (a re-run adopts the whole block): one
        // statement, which a unique violation on any of its rows refuses whole.
        const now = new Date();
        const rows = Array.from(
          { length: sizeOf(spec) },
          (_, offset) =>
            Prisma.sql`(${randomUUID()}, ${plan.cellId}, ${service}, ${blockPortName(name, offset)},
              ${plan.host}, ${port + offset}, ${activeKey(plan.host, port + offset)}, ${now})`,
        );
        await db.$executeRaw`INSERT INTO ${allocations}
          ("id", "cellId", "service", "name", "host", "port", "activeKey", "createdAt")
          VALUES ${Prisma.join(rows, ', ')}`;
        return port;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // Another cell took this port between our probe and insert: the constraint said no.
        if (typeof spec === 'number') {
          throw permanent(
            ErrorType.PortAllocated,
            `${where}: fixed port ${spec} is allocated to another cell`,
            {
              hint: 'Archive that cell, or do not fix the port.',
            },
          );
        }
      }
    }
    throw transient(ErrorType.PortRaced, `${where}: lost ${MAX_RACES} races for a free port`);
  }

  return {
    /** Step 3: allocate every port the plan needs; duplicates are impossible by constraint. */
    async allocatePorts(plan: CellPlan): Promise<AllocatedPort[]> {
      return steps.withStep(
        { cellId: plan.cellId, name: Step.ports },
        async () => {
          const allocated: AllocatedPort[] = [];
          for (const service of plan.services) {
            for (const [name, spec] of Object.entries(service.ports)) {
              // Not allocated: adopted once the service listens (services/adoption.ts).
              if (spec === 'auto') continue;
              allocated.push({
                service: service.name,
                name,
                port: await allocateOne(plan, service.name, name, spec),
              });
            }
          }
          return allocated;
        },
        (ports) => ports.map((p) => `${p.service}.${p.name}=${p.port}`),
      );
    },

    /** Compensation of step 3: release the cell's active allocations (a no-op when none are left). */
    async releasePorts(plan: CellPlan): Promise<{ released: number }> {
      return steps.withStep({ cellId: plan.cellId, name: Step.ports, kind: 'compensation' }, async () => {
        const { count } = await db.portAllocation.updateMany({
          where: { cellId: plan.cellId, activeKey: { not: null } },
          data: { activeKey: null, releasedAt: new Date() },
        });
        return { released: count };
      });
    },
  };
}
