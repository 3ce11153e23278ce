import { ApplicationFailure } from '@temporalio/common';
import type { ErrorType } from '../cells/catalog.js';
import type { FailureDetails } from '../cells/schema.js';

/**
 * A permanent failure: retrying cannot help (invalid template, command exits non-zero, executable
 * missing). Temporal stops retrying; the workflow reports `type`, message and hint on the cell.
 */
export function permanent(
  type: ErrorType,
  message: string,
  details: FailureDetails = {},
): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: [details] });
}

/** A transient failure (git lock, port raced, probe not yet up): Temporal retries with backoff. */
export function transient(
  type: ErrorType,
  message: string,
  details: FailureDetails = {},
): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: false, details: [details] });
}

/** The type, message and details of any error, as the step records show it. */
export function failureOf(error: unknown): { type: string; message: string } & FailureDetails {
  if (error instanceof ApplicationFailure) {
    const [details] = (error.details ?? []) as Array<FailureDetails | undefined>;
    return { type: error.type ?? 'Error', message: error.message, ...details };
  }
  return { type: error instanceof Error ? error.name : 'Error', message: String(error) };
}

/** Last lines of a log, for failure reports. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
