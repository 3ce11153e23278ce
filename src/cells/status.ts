// Plain constants (no zod) so workflow code can import them without pulling validation into the
// deterministic sandbox bundle.
export const cellStatuses = [
  'pending',
  'provisioning',
  'ready',
  'rolling_back',
  'rolled_back',
  'failed',
] as const;
export type CellStatus = (typeof cellStatuses)[number];
