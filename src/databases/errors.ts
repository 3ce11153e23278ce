/** Why the workspace's PostgreSQL server cannot be had: what happened, the fix, and its log's end. */
export class DatabaseServerError extends Error {
  override name = 'DatabaseServerError';
  constructor(
    readonly kind: 'not-installed' | 'failed',
    message: string,
    readonly hint: string,
    readonly logTail?: string,
  ) {
    super(message);
  }
}
