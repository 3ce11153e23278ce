// Warm pools, the API's entry: claiming a pool cell for a request, starting or waking a pool, and
// what the catalog shows of one. The pool's activities are src/pools/activities.ts (the worker's
// entry), its workflows src/pools/workflows/ (the workflow bundle's entry); all three share
// key.ts (what a pool is keyed on) and messages.ts (what they say to each other).
export { type ClaimDeps, claimFromPool } from './claim.js';
export { ensurePool, ensurePools, type PoolDeps } from './ensure.js';
export { PoolView, poolView } from './views.js';
