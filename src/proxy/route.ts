import { liveStatuses, statusIn } from '../cells/status.js';
import type { Db } from '../db/client.js';
import { mainService, type ProxyAddress, type ProxyName, serviceLabel, servicePublicUrl } from './names.js';

// Where a request for a cell's service goes, from Hive's records only: the cell, its host, its
// status and its services' recorded ports. Nothing a request says reaches the target but the cell
// and service names, each looked up; the target is always a recorded port of that cell's service.

/** A problem the proxy answers with (problem+json), before anything is forwarded. */
export interface ProxyProblem {
  status: number;
  slug: string;
  title: string;
  detail: string;
  extra?: Record<string, unknown>;
}

export interface CellRoute {
  cellId: string;
  workspaceId: string;
  service: string;
  port: number;
}

export interface CellRecordForProxy {
  id: string;
  status: string;
  host: string | null;
  workspaceId: string;
  templateId: string;
  services: Array<{ name: string; status: string; port: number | null }>;
}

export interface RouteDeps {
  db: Db;
  /** This host's id: a cell placed on another host is not reachable from here. */
  hostId: string;
  address: ProxyAddress;
  /** The template's services in declaration order (for the main service); undefined if unknown. */
  declaredServices?: (workspaceId: string, templateId: string) => Promise<string[] | undefined>;
  /** Ports never forwarded to, whatever the records say: Hive's API and the proxy itself. */
  forbiddenPorts: () => number[];
}

/** How long a cell's record is reused: a page's assets come in a burst; a new port is seen soon. */
const CACHE_MS = 1_000;
/** A service that is being (re)started may be listening already: forward, a refusal is a 502. */
const REACHABLE = ['starting', 'running', 'ready'];

export function createRouter(deps: RouteDeps) {
  const cache = new Map<string, { at: number; cell: CellRecordForProxy | null }>();

  async function lookup(cellId: string, fresh = false): Promise<CellRecordForProxy | null> {
    const hit = cache.get(cellId);
    if (!fresh && hit && Date.now() - hit.at < CACHE_MS) return hit.cell;
    const cell = await deps.db.cell.findUnique({
      where: { id: cellId },
      select: {
        id: true,
        status: true,
        host: true,
        workspaceId: true,
        templateId: true,
        services: { select: { name: true, status: true, port: true }, orderBy: { name: 'asc' } },
      },
    });
    if (cache.size > 1_000) cache.clear();
    cache.set(cellId, { at: Date.now(), cell });
    return cell;
  }

  const listing = (cell: CellRecordForProxy) =>
    cell.services
      .filter((s) => s.port !== null)
      .map((s) => `${s.name} (${servicePublicUrl(deps.address, cell.id, s.name)})`)
      .join(', ') || '(none with a port)';

  /** The route of a request for `name` in an existing cell, or the problem to answer. */
  async function route(name: ProxyName, cell: CellRecordForProxy): Promise<CellRoute | ProxyProblem> {
    if (cell.host !== null && cell.host !== deps.hostId) {
      return {
        status: 502,
        slug: 'cell-on-other-host',
        title: 'Cell runs on another host',
        detail: `Cell ${cell.id} runs on host "${cell.host}", and this proxy (host "${deps.hostId}") reaches only its own host's cells: Hive's records hold no address for "${cell.host}". Reach its services on that host.`,
      };
    }
    if (!statusIn(liveStatuses, cell.status)) {
      return {
        status: 503,
        slug: 'cell-not-live',
        title: 'Cell is not live',
        detail: `Cell ${cell.id} is ${cell.status}; its services are reached only while it is ready or degraded. GET /cells/${cell.id} says more.`,
        extra: { currentState: cell.status },
      };
    }
    const service = name.service
      ? cell.services.find((s) => serviceLabel(s.name) === name.service)
      : mainService(cell.services, await deps.declaredServices?.(cell.workspaceId, cell.templateId));
    if (!service || service.port === null) {
      const asked = name.service
        ? `no service "${name.service}"${service ? ' with a port' : ''}`
        : 'no main service (the first service of its template with a port)';
      return {
        status: 404,
        slug: 'service-not-found',
        title: 'Service not found',
        detail: `Cell ${cell.id} has ${asked}. Its services: ${listing(cell)}.`,
        extra: { services: cell.services.map((s) => s.name) },
      };
    }
    if (!REACHABLE.includes(service.status)) {
      return {
        status: 503,
        slug: 'service-not-running',
        title: 'Service is not running',
        detail: `Service ${service.name} of cell ${cell.id} is ${service.status}. Start it: hive cells start ${cell.id} ${service.name}.`,
        extra: { currentState: service.status },
      };
    }
    if (deps.forbiddenPorts().includes(service.port)) {
      return {
        status: 502,
        slug: 'port-refused',
        title: 'Port refused',
        detail: `Service ${service.name} of cell ${cell.id} is recorded on port ${service.port}, which is Hive's own; the proxy never forwards there.`,
      };
    }
    return { cellId: cell.id, workspaceId: cell.workspaceId, service: service.name, port: service.port };
  }

  return {
    lookup,
    route,
    /** Forget a cell's record (its service refused a connection: it may be on a new port). */
    forget: (cellId: string) => cache.delete(cellId),
  };
}

export type Router = ReturnType<typeof createRouter>;

export const cellNotFoundProblem = (cellId: string): ProxyProblem => ({
  status: 404,
  slug: 'cell-not-found',
  title: 'Cell not found',
  detail: `No cell has id "${cellId}". GET /cells (hive cells ls) lists them.`,
});
