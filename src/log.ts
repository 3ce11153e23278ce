// Hive's one logger for what is tolerated but must not go unseen (a failed best-effort write):
// inside an activity, Temporal's activity logger (the line carries the activity's and workflow's
// ids); anywhere else (the API, plain calls from tests), the console.
import { Context } from '@temporalio/activity';

/** The activity context when called from an activity (undefined in plain calls, e.g. from tests). */
export function inActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Logs a warning through the activity's logger, or the console outside an activity. */
export function warn(message: string, meta: Record<string, unknown>): void {
  const activity = inActivity();
  if (activity) activity.log.warn(message, meta);
  else console.warn(message, meta);
}
