import { authHeaders, requireToken } from './auth.js';
import type { ProblemBody } from './types.js';

/** An error answer of the API, with its problem details (title, detail, findings). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemBody,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(path, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...authHeaders(),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) requireToken();
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, (parsed ?? {}) as ProblemBody);
  return parsed as T;
}

/** The public HTTP API, nothing else: the same endpoints the CLI and scripts use. */
export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
    request<T>('POST', path, body ?? {}, headers),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

export const errorText = (error: unknown) =>
  error instanceof ApiError
    ? `${error.problem.title ?? `HTTP ${error.status}`}: ${error.problem.detail ?? ''}`.trim()
    : error instanceof Error
      ? error.message
      : String(error);
