import { randomUUID } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { ErrorType } from '../../cells/catalog.js';
import { dotenvLine } from '../../cells/envFile.js';
import type { AllocatedPort, ServiceCall } from '../../cells/plan.js';
import { type Db, isUniqueViolation } from '../../db/client.js';
import { permanent } from '../failures.js';
import { activeKey } from '../ports.js';
import { envName } from '../resolveEnvironment.js';
import { metaPath } from '../worktree.js';

/** What adopting an `auto` port adds to the cell: the port, and the variables that name it. */
export interface AdoptedPort {
  port: AllocatedPort;
  env: Record<string, string>;
}

/** The name of a service's `auto` port, if it has one. */
export const autoPortName = (call: ServiceCall): string | undefined =>
  Object.entries(call.service.ports).find(([, spec]) => spec === 'auto')?.[0];

/** Sets (or replaces) variables in `.hive/env`, keeping every other line and the file's mode. */
async function setEnvLines(file: string, values: Record<string, string>) {
  const keep = (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter((line) => line !== '' && !Object.keys(values).some((key) => line.startsWith(`${key}=`)));
  const lines = [...keep, ...Object.entries(values).map(([k, v]) => dotenvLine(k, v))];
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

/**
 * Records the port an `auto` service chose as if it had been allocated: the cell's row in the port
 * registry (so no other cell is given it), the service's port and URL, and `<SERVICE>_PORT` /
 * `<SERVICE>_URL` in `.hive/env`. Idempotent: adopting the same port again changes nothing; a port
 * that another cell or service holds fails the wait.
 */
export async function adoptPort(db: Db, call: ServiceCall, name: string, port: number): Promise<AdoptedPort> {
  const { plan, service } = call;
  const key = activeKey(plan.host, port);
  const url = `http://127.0.0.1:${port}`;
  const claimedElsewhere = async () => {
    const holder = await db.portAllocation.findUnique({ where: { activeKey: key } });
    if (!holder || (holder.cellId === plan.cellId && holder.service === service.name && holder.name === name))
      return;
    throw permanent(
      ErrorType.PortAllocated,
      `${service.name} listens on :${port}, which is allocated to ${holder.cellId === plan.cellId ? 'this cell' : `cell ${holder.cellId}`} (${holder.service}.${holder.name})`,
      {
        hint: `An auto port is adopted only when no one else holds it: archive that cell, or give ${service.name} its port with --port $PORT instead of "auto".`,
      },
    );
  };
  await claimedElsewhere();
  const held = await db.portAllocation.findFirst({
    where: { cellId: plan.cellId, service: service.name, name, activeKey: { not: null } },
  });
  if (held?.port !== port) {
    try {
      await db.$transaction([
        // An earlier run adopted another port: that one is released.
        db.portAllocation.updateMany({
          where: { cellId: plan.cellId, service: service.name, name, activeKey: { not: null } },
          data: { activeKey: null, releasedAt: new Date() },
        }),
        db.portAllocation.create({
          data: {
            id: randomUUID(),
            cellId: plan.cellId,
            service: service.name,
            name,
            host: plan.host,
            port,
            activeKey: key,
          },
        }),
      ]);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await claimedElsewhere(); // taken between the look and the insert
      throw error;
    }
  }
  await db.serviceInstance.update({
    where: { cellId_name: { cellId: plan.cellId, name: service.name } },
    data: { port, url },
  });
  const env = { [`${envName(service.name)}_PORT`]: String(port), [`${envName(service.name)}_URL`]: url };
  await setEnvLines(metaPath(plan, 'env'), env);
  return { port: { service: service.name, name, port }, env };
}
