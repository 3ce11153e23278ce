import type { Finding } from './types.js';

/** One offending field of a refused request: a JSON pointer into it (RFC 9457's `errors`). */
export interface FieldError {
  pointer: string;
  detail: string;
}

/**
 * The API refused a request: its RFC 9457 problem details, typed. `detail` says what was wrong and
 * how to fix it; `findings` are the dry run's when a template is the cause; `currentState` and
 * `allowedActions` when the cell's state did not allow the action.
 */
export class HiveApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[];
  readonly findings: Finding[];
  readonly currentState?: string;
  readonly allowedActions?: string[];

  constructor(status: number, problem: Record<string, unknown>) {
    const title = typeof problem.title === 'string' ? problem.title : `HTTP ${status}`;
    const detail = typeof problem.detail === 'string' ? problem.detail : '';
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'HiveApiError';
    this.status = status;
    this.type = typeof problem.type === 'string' ? problem.type : 'about:blank';
    this.title = title;
    this.detail = detail;
    this.errors = Array.isArray(problem.errors) ? (problem.errors as FieldError[]) : [];
    this.findings = Array.isArray(problem.findings) ? (problem.findings as Finding[]) : [];
    if (typeof problem.currentState === 'string') this.currentState = problem.currentState;
    if (Array.isArray(problem.allowedActions)) this.allowedActions = problem.allowedActions as string[];
  }
}

/** Hive could not be reached at all (refused connection, DNS, TLS): no answer to interpret. */
export class HiveUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : '';
    super(
      `cannot reach Hive at ${url}${why ? ` (${why})` : ''}: is it running (hive up)? Set --url or HIVE_URL`,
    );
    this.name = 'HiveUnreachableError';
    this.cause = cause;
  }
}
