import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { inScope, type Principal } from '../../auth/tokens.js';
import { DEFAULT_HOST_GRACE_MS, listHosts, setDrained } from '../../hosts/registry.js';
import { HostId, HostView } from '../../hosts/schema.js';
import type { ApiDeps } from '../deps.js';
import { hostNotFound, Problem } from '../problem.js';

const HostParams = z.object({ id: HostId });

/** A host as this principal may see it: the workspaces outside its scope are left out. */
const visible = (principal: Principal, host: HostView): HostView =>
  principal.workspaces === null
    ? host
    : { ...host, workspaces: host.workspaces.filter((w) => inScope(principal, w)) };

/** The hosts resource: the machines whose workers take cells, their room, and draining them. */
export function hostRoutes(deps: ApiDeps): FastifyPluginAsyncZod {
  const graceMs = deps.hostGraceMs ?? DEFAULT_HOST_GRACE_MS;
  const drainRoute = (drained: boolean) => ({
    config: { access: 'admin' as const },
    schema: {
      summary: drained
        ? 'Drain a host: it takes no new cells; its cells live on'
        : 'Undrain a host: it takes new cells again',
      description: drained
        ? 'Placement no longer chooses the host for new cells; the cells it has keep running there until they end. Draining a drained host changes nothing. `POST /hosts/:id/undrain` reverses it.'
        : 'Placement considers the host again (when it is live and has room). Undraining a host that is not drained changes nothing.',
      tags: ['hosts'],
      params: HostParams,
      response: { 200: HostView, 400: Problem, 404: Problem },
    },
  });

  return async (app) => {
    app.get(
      '/hosts',
      {
        config: { access: 'read' },
        schema: {
          summary: 'Registered hosts: state, capacity, what their cells reserve, free disk and load',
          description:
            'A host registers when its worker starts (`hive worker --host <id>`) and heartbeats from then on. `state` is `live`, `drained` (takes no new cells), `unresponsive` (no heartbeat within HIVE_HOST_GRACE_MS) or `lost` (declared lost; its cells were told).',
          tags: ['hosts'],
          response: { 200: z.object({ hosts: z.array(HostView) }) },
        },
      },
      async (request) => ({
        hosts: (await listHosts(deps.db, graceMs)).map((h) => visible(request.principal, h)),
      }),
    );

    for (const drained of [true, false]) {
      app.post(`/hosts/:id/${drained ? 'drain' : 'undrain'}`, drainRoute(drained), async (request) => {
        const host = await setDrained(deps.db, request.params.id, drained, graceMs);
        if (!host) throw hostNotFound(request.params.id);
        return visible(request.principal, host);
      });
    }
  };
}
