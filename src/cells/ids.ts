import { randomInt } from 'node:crypto';
import { cellIdFrom } from './workflowIds.js';

// A cell's id, made where a request is recorded; its conventions (alphabet, pattern, workflow id)
// are plain code in workflowIds.ts, which a pool's workflow uses too.

export { cellIdPattern } from './workflowIds.js';

/** A new cell id from crypto's randomness. */
export const newCellId = (): string => cellIdFrom((n) => randomInt(n));
