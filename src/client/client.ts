import { restingStatuses } from '../cells/status.js';
import { type FollowEventsOptions, followCellEvents } from './events.js';
import { createTransport, type HiveClientOptions } from './http.js';
import { type FollowLogsOptions, followServiceLogs } from './logs.js';
import type {
  CellAccepted,
  CellDetail,
  CellEnv,
  CellEvent,
  CellRecord,
  CellRequest,
  CellStatus,
  Host,
  ServiceAction,
  ServiceLogs,
  TemplateDetail,
  TemplateSummary,
  ValidationReport,
  Workspace,
} from './types.js';

export interface WaitOptions extends FollowEventsOptions {
  /** Every event on the way (steps, operations, log lines), e.g. to show progress. */
  onEvent?: (event: CellEvent) => void;
  /**
   * Whether a resting cell is the one awaited. Default: any resting state. After a retry, say, the
   * cell still rests as `failed` for a moment: wait for a state recorded after the request instead.
   */
  done?: (cell: CellDetail) => boolean;
}

const path = (...parts: string[]) => `/${parts.map(encodeURIComponent).join('/')}`;

/**
 * A typed client of Hive's public HTTP API. Every method throws `HiveApiError` (the problem details:
 * title, detail, field errors, template findings) when the API refuses, and `HiveUnreachableError`
 * when there is no answer.
 *
 * ```ts
 * const hive = createHiveClient({ url: 'http://127.0.0.1:4400', token: process.env.HIVE_TOKEN });
 * const { id } = await hive.createCell({ workspace: 'main', template: 'web', brief: 'Add /health' });
 * const cell = await hive.waitForCell(id); // ready, failed, … with worktree, services and prompt
 * ```
 */
export function createHiveClient(options: HiveClientOptions = {}) {
  const http = createTransport(options);

  const client = {
    /** The API's base URL, without a trailing slash. */
    url: http.baseUrl,

    /** Registered workspaces and whether their config loads. */
    async listWorkspaces(): Promise<Workspace[]> {
      return (await http.json<{ workspaces: Workspace[] }>('GET', '/workspaces')).workspaces;
    },

    /** Registers a git repository (absolute path on the API's machine) as a workspace (admin). */
    addWorkspace(id: string, repositoryPath: string): Promise<Workspace> {
      return http.json('POST', '/workspaces', { body: { id, path: repositoryPath } });
    },

    /** Unregisters a workspace; refused (409) while it has cells that are not ended (admin). */
    async removeWorkspace(id: string): Promise<void> {
      await http.json('DELETE', path('workspaces', id));
    },

    /** The hosts whose workers take cells, and draining them (admin). */
    hosts: {
      /** Every registered host: state (live, drained, unresponsive, lost), capacity, reservations. */
      async list(): Promise<Host[]> {
        return (await http.json<{ hosts: Host[] }>('GET', '/hosts')).hosts;
      },
      /** Drains a host: it takes no new cells; its cells live on. */
      drain(id: string): Promise<Host> {
        return http.json('POST', path('hosts', id, 'drain'));
      },
      /** Undrains a host: it takes new cells again. */
      undrain(id: string): Promise<Host> {
        return http.json('POST', path('hosts', id, 'undrain'));
      },
    },

    /** Templates of a workspace, with requirements, resources and measured times. */
    async listTemplates(workspace: string): Promise<TemplateSummary[]> {
      return (
        await http.json<{ templates: TemplateSummary[] }>('GET', '/templates', { query: { workspace } })
      ).templates;
    },

    /** One template: options as JSON Schema, services with ports, probes, dependencies. */
    getTemplate(workspace: string, template: string): Promise<TemplateDetail> {
      return http.json('GET', path('templates', template), { query: { workspace } });
    },

    /** The dry run: could this template be provisioned here, with these options? Changes nothing. */
    validateTemplate(
      workspace: string,
      template: string,
      request: { options?: Record<string, unknown>; baseRef?: string } = {},
    ): Promise<ValidationReport> {
      return http.json('POST', path('templates', template, 'validate'), { body: { workspace, ...request } });
    },

    /**
     * Requests a cell and returns at once (provisioning runs in Hive's workflow). The same
     * `idempotencyKey` returns the same cell instead of a second one. A template that cannot work
     * here is refused with a 422 whose `findings` say why.
     */
    createCell(request: CellRequest, opts: { idempotencyKey?: string } = {}): Promise<CellAccepted> {
      return http.json('POST', '/cells', {
        body: request,
        headers: opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {},
      });
    },

    /** Cells, newest first. */
    async listCells(
      filter: { workspace?: string; status?: CellStatus; limit?: number } = {},
    ): Promise<CellRecord[]> {
      return (await http.json<{ cells: CellRecord[] }>('GET', '/cells', { query: filter })).cells;
    },

    /** One cell: steps, ports, services with URLs, prompt, progress (ETA) and any failure. */
    getCell(id: string): Promise<CellDetail> {
      return http.json('GET', path('cells', id));
    },

    /** Cancels provisioning (then rolls back), or rolls back a preserved failed cell. */
    cancel(id: string): Promise<CellAccepted> {
      return http.json('POST', path('cells', id, 'cancel'));
    },

    /** Resumes a preserved failed cell at its failed step. */
    retry(id: string): Promise<CellAccepted> {
      return http.json('POST', path('cells', id, 'retry'));
    },

    /** Wakes a suspended cell (its processes thawed, or its services started again). */
    resume(id: string): Promise<CellAccepted> {
      return http.json('POST', path('cells', id, 'resume'));
    },

    /** Runs a failed clean-up again. */
    cleanup(id: string): Promise<CellAccepted> {
      return http.json('POST', path('cells', id, 'cleanup'));
    },

    /**
     * Archives a cell: services stopped, the work in its worktree saved to refs/hive/archive/<id>
     * (dropped only with `discard`), worktree removed, ports released.
     */
    archive(id: string, opts: { discard?: boolean } = {}): Promise<CellAccepted> {
      return http.json('DELETE', path('cells', id), {
        query: { discard: opts.discard ? 'true' : undefined },
      });
    },

    /** Brings an archived, rolled back or cancelled cell back, with its saved work in place. */
    restore(id: string): Promise<CellAccepted> {
      return http.json('POST', path('cells', id, 'restore'));
    },

    /** Stops, starts or restarts one service of a ready cell. */
    serviceAction(id: string, service: string, action: ServiceAction): Promise<CellAccepted> {
      return http.json('POST', path('cells', id, 'services', service, action));
    },

    /** The last `lines` lines of a service's log, known secret values masked. */
    serviceLogs(id: string, service: string, opts: { lines?: number } = {}): Promise<ServiceLogs> {
      return http.json('GET', path('cells', id, 'services', service, 'logs'), {
        query: { lines: opts.lines },
      });
    },

    /** A service's log as it grows: the tail first, then new lines until `signal` aborts. */
    followServiceLogs(id: string, service: string, opts: FollowLogsOptions = {}): AsyncGenerator<string> {
      return followServiceLogs((lines) => client.serviceLogs(id, service, { lines }), opts);
    },

    /** The cell's environment (`.hive/env`), secret values null. */
    cellEnv(id: string): Promise<CellEnv> {
      return http.json('GET', path('cells', id, 'env'));
    },

    /** The cell's events as they happen, resumed after dropped connections; ends when it rests. */
    followEvents(id: string, opts: FollowEventsOptions = {}): AsyncGenerator<CellEvent> {
      return followCellEvents(http, id, opts);
    },

    /**
     * Follows the cell until it rests (ready, degraded, failed, rolled back, cancelled, archived,
     * cleanup failed) and returns it then. Aborting `signal` rejects with its reason.
     */
    async waitForCell(id: string, opts: WaitOptions = {}): Promise<CellDetail> {
      let lastEventId = opts.lastEventId;
      for (;;) {
        // The stream's `end` carries the cell as it rests (a server that does not send it: asked for).
        let ended: CellDetail | undefined;
        for await (const event of followCellEvents(http, id, { ...opts, lastEventId })) {
          if (event.id) lastEventId = event.id;
          if (event.event === 'end' && event.data.cell) ended = event.data.cell as unknown as CellDetail;
          opts.onEvent?.(event);
        }
        opts.signal?.throwIfAborted();
        const cell = ended ?? (await client.getCell(id));
        const rests = (restingStatuses as readonly string[]).includes(cell.status);
        if (rests && (opts.done?.(cell) ?? true)) return cell;
        // Not the state awaited yet: listen again from where the stream left off.
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
  };
  return client;
}

export type HiveClient = ReturnType<typeof createHiveClient>;
