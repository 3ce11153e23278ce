// What a warm pool is keyed on and what a request must be to be served from it. Shared by the API
// (the claim) and the pool's activities (refill, recycling); never imported by workflow code.
import { createHash } from 'node:crypto';
import { poolWorkflowIdOf } from '../cells/workflowIds.js';
import { type OptionValues, optionsSchema } from '../templates/model.js';
import type { Template } from '../templates/schema.js';

/** The long-lived workflow that owns the pool of one template of one workspace. */
export const poolWorkflowId = poolWorkflowIdOf;

/** Cells the pool keeps ready; 0 when the template has no pool (or its options have no defaults). */
export function poolSize(template: Template | undefined): number {
  if (!template?.pool?.size) return 0;
  return defaultOptions(template) ? template.pool.size : 0;
}

/** The template's options with nothing given: what pool cells are built with (undefined: a required option). */
export function defaultOptions(template: Template): OptionValues | undefined {
  const parsed = optionsSchema(template).safeParse({});
  return parsed.success ? (parsed.data as OptionValues) : undefined;
}

/** The same option values, whatever their key order. */
export function sameOptions(a: OptionValues, b: OptionValues): boolean {
  const keys = Object.keys(a).sort();
  return JSON.stringify(keys) === JSON.stringify(Object.keys(b).sort()) && keys.every((k) => a[k] === b[k]);
}

/**
 * What a pool cell was built from: the template as loaded (without `pool`: resizing a pool keeps its
 * cells) and the base commit. A pool cell whose key is not the current one is stale: recycled, never
 * claimed.
 */
export function poolKey(template: Template, baseCommit: string): string {
  const { pool: _pool, ...built } = template;
  return createHash('sha256').update(JSON.stringify(built)).update('\n').update(baseCommit).digest('hex');
}
