import { describe, expect, it } from 'vitest';
import { type PoolCell, sortPoolCells, whyNoPool } from '../src/pools/reconcile.js';

// What one look at a pool decides, from the records alone (the activity applies it on the real stack:
// test/pool.test.ts). Cells are given oldest first, as the activity reads them.

const cell = (
  id: string,
  status: string,
  poolState = 'pooled',
  poolKey: string | null = 'k',
  poolReady: string | null = null,
): PoolCell => ({ id, status, poolState, poolKey, poolReady });

describe('one look at a pool', () => {
  it('keeps fresh cells, lets stale and broken ones go, and counts only the broken as failed', () => {
    const sorted = sortPoolCells(
      [
        cell('ready', 'ready'),
        cell('queued', 'queued'),
        cell('stale', 'ready', 'pooled', 'old'),
        cell('broken', 'failed'),
        cell('degraded', 'degraded'),
      ],
      'k',
      5,
    );
    expect(sorted.kept).toEqual([
      { id: 'ready', ready: true },
      { id: 'queued', ready: false },
    ]);
    expect(sorted.letGo).toEqual(['stale', 'broken', 'degraded']);
    expect(sorted.failed).toBe(1);
  });

  it('lets the newest go past its size, warming ones before ready ones', () => {
    const sorted = sortPoolCells(
      [cell('r1', 'ready'), cell('w1', 'provisioning'), cell('r2', 'ready'), cell('w2', 'pending')],
      'k',
      1,
    );
    expect(sorted.letGo).toEqual(['w2', 'w1', 'r2']);
    expect(sorted.kept).toEqual([{ id: 'r1', ready: true }]);
  });

  it('hands over claims still provisioning and forgets recycled cells that ended', () => {
    const sorted = sortPoolCells(
      [
        cell('lost-claim', 'provisioning', 'claimed'),
        cell('served', 'ready', 'claimed'),
        // Handed over by the API, its signal to the workflow lost: told again.
        cell('untold', 'ready', 'claimed', 'k', '{"plan":{}}'),
        // Archived before its workflow heard of the claim: nothing to tell any more.
        cell('archived-untold', 'archived', 'claimed', 'k', '{"plan":{}}'),
        cell('gone', 'archived', 'recycled'),
        cell('going', 'ready', 'recycled'),
      ],
      'k',
      2,
    );
    expect(sorted).toEqual({
      kept: [],
      letGo: [],
      unclaimed: ['lost-claim', 'untold'],
      ended: ['gone'],
      failed: 0,
    });
  });

  it('without a key (HEAD does not resolve) every pooled cell goes', () => {
    expect(sortPoolCells([cell('a', 'ready')], undefined, 0).letGo).toEqual(['a']);
  });

  it('says why a pool has nothing to keep: the first precondition that fails', () => {
    expect(whyNoPool({ size: 0 })).toBe('the workspace is not registered');
    expect(whyNoPool({ workspace: {}, loaded: { ok: false }, size: 0 })).toBe('the config does not load');
    expect(whyNoPool({ workspace: {}, loaded: { ok: true }, size: 0 })).toBe('the template is gone');
  });
});
