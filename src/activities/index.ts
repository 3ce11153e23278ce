import { createRecordsActivities, type RecordsDeps } from './records.js';

export type ActivityDeps = RecordsDeps;

/** All activities the worker registers, built from their dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRecordsActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
