import { ApplicationFailure } from '@temporalio/common';

/** Details every failure carries so a person can act on it (shown in GET /cells/:id). */
export interface FailureDetails {
  hint?: string;
  logTail?: string;
}

/**
 * A permanent failure: retrying cannot help (invalid template, command exits non-zero, executable
 * missing). Temporal stops retrying; the workflow rolls back and reports `type`, message and hint.
 */
export function permanent(type: string, message: string, details: FailureDetails = {}): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: [details] });
}

/** A transient failure (git lock, port raced, probe not yet up): Temporal retries with backoff. */
export function transient(type: string, message: string, details: FailureDetails = {}): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: false, details: [details] });
}

/** Last lines of a log, for failure reports. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
