import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { recordEvent } from '../src/cells/events.js';
import { createDb, type Db } from '../src/db/client.js';

// A cell's event log is best effort (it never fails the step or request that writes it), but a
// write that fails is logged, never dropped unseen (issue #24).

let dir: string;
let db: Db;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hive-events-'));
  const file = path.join(dir, 'hive.db');
  await copyFile(inject('templateDbPath'), file);
  db = createDb(`file:${file}`);
});
afterAll(async () => {
  await db?.$disconnect();
  await rm(dir, { recursive: true, force: true });
});

describe('the event log', () => {
  it('a failed event write does not fail its caller, and is logged with the cell and the kind', async () => {
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      // No such cell: the foreign key refuses the row.
      await expect(recordEvent(db, 'cnosuchcell0', 'status', { status: 'pending' })).resolves.toBeUndefined();
      expect(warned).toHaveBeenCalledWith(
        'could not record a cell event',
        expect.objectContaining({ cellId: 'cnosuchcell0', type: 'status', error: expect.any(String) }),
      );
      expect(await db.cellEvent.count({ where: { cellId: 'cnosuchcell0' } })).toBe(0);
    } finally {
      warned.mockRestore();
    }
  });
});
