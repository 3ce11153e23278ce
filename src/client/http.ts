import { HiveApiError, HiveUnreachableError } from './errors.js';

/** Where Hive is and who is asking. */
export interface HiveClientOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:4400 (the default). */
  url?: string;
  /** An API token (`hive tokens create`), sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
}

export const DEFAULT_HIVE_URL = 'http://127.0.0.1:4400';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The one place requests are made: URL, auth header, JSON in and out, problem+json to errors. */
export interface Transport {
  readonly baseUrl: string;
  json<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** A response whose body the caller reads (the event stream); a refusal is thrown as HiveApiError. */
  open(path: string, options?: RequestOptions): Promise<Response>;
}

export async function problemOf(response: Response): Promise<HiveApiError> {
  const text = await response.text().catch(() => '');
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not problem+json (a proxy's page, say): keep what it said as the detail.
    body = { title: response.statusText || `HTTP ${response.status}`, detail: text.slice(0, 500) };
  }
  return new HiveApiError(response.status, body);
}

export function createTransport(options: HiveClientOptions = {}): Transport {
  const baseUrl = (options.url ?? DEFAULT_HIVE_URL).replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;

  async function send(method: string, path: string, request: RequestOptions, accept: string) {
    const url = new URL(baseUrl + path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept, ...request.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: request.signal,
      });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      throw new HiveUnreachableError(baseUrl, error);
    }
    if (!response.ok) throw await problemOf(response);
    return response;
  }

  return {
    baseUrl,
    async json<T>(method: string, path: string, request: RequestOptions = {}): Promise<T> {
      const response = await send(method, path, request, 'application/json');
      // 204 (DELETE /workspaces/<id>): no body to parse.
      if (response.status === 204) return undefined as T;
      return (await response.json()) as T;
    },
    open(path: string, request: RequestOptions = {}) {
      return send('GET', path, request, 'text/event-stream');
    },
  };
}
