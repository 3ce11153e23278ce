// A small typed client of Hive's public HTTP API, for the `hive` command, agent hand-off (MCP) and
// anyone else: `createHiveClient({ url, token })`. Types come from the API's own zod schemas.
export { createHiveClient, type HiveClient, type WaitOptions } from './client.js';
export { type FieldError, HiveApiError, HiveUnreachableError } from './errors.js';
export type { FollowEventsOptions } from './events.js';
export { DEFAULT_HIVE_URL, type HiveClientOptions } from './http.js';
export type { FollowLogsOptions } from './logs.js';
export type * from './types.js';
