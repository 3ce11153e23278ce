// Warm pools, the workflow bundle's entry for pools (re-exported by src/workflows/index.ts): the
// pool's own workflow, and the handlers a pool cell's workflow registers. Deterministic code.

export { listenForPool } from './handover.js';
export { type KeepPoolInput, keepPool } from './keepPool.js';
