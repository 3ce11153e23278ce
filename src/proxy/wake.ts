// What the proxy does for idle cells (docs/lifecycle.md#idle-cells): every request through a cell's
// URLs is activity, noted in Cell.lastRequestAt (at most every few seconds per cell, and on and on
// while an event stream or WebSocket stays open), which the host's supervisor reads; and the first
// request to a suspended cell wakes it and is held until the cell serves again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { recordAction } from '../cells/events.js';
import { cellWorkflowId } from '../cells/workflowIds.js';
import type { Db } from '../db/client.js';
import { wakeSignal } from '../workflows/control.js';
import type { BeforeForward, HiveProxy } from './server.js';

/** Requests are noted at most this often per cell: a busy cell never looks idle for more than a second. */
const NOTE_EVERY_MS = 1_000;
/** How often a held request looks whether its cell serves again. */
const WAKE_POLL_MS = 20;
/** A held request gives up after this long (the proxy then answers 503 with the cell's state). */
const WAKE_TIMEOUT_MS = 120_000;

export interface WakerDeps {
  db: Db;
  client: Client;
  proxy: Pick<HiveProxy, 'openRequests'>;
}

export function createWaker({ db, client, proxy }: WakerDeps): {
  beforeForward: BeforeForward;
  stop(): void;
} {
  const noted = new Map<string, number>();
  const waking = new Map<string, Promise<void>>();

  async function note(cellId: string, now = Date.now()) {
    if (now - (noted.get(cellId) ?? 0) < NOTE_EVERY_MS) return;
    noted.set(cellId, now);
    await db.cell.update({ where: { id: cellId }, data: { lastRequestAt: new Date(now) } }).catch(() => {});
  }

  // An open stream or WebSocket is activity for as long as it stays open.
  const timer = setInterval(() => {
    for (const cellId of noted.keys()) {
      if (proxy.openRequests(cellId) > 0) void note(cellId);
    }
  }, NOTE_EVERY_MS);
  timer.unref();

  async function wake(cellId: string, workflowId: string) {
    await client.workflow.getHandle(workflowId).signal(wakeSignal);
    await recordAction(db, cellId, { action: 'resume', by: 'proxy' });
    const deadline = Date.now() + WAKE_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const cell = await db.cell.findUnique({ where: { id: cellId }, select: { status: true } });
      if (cell?.status !== 'suspended') return;
      await sleep(WAKE_POLL_MS);
    }
  }

  return {
    async beforeForward(cellId) {
      await note(cellId);
      const cell = await db.cell.findUnique({
        where: { id: cellId },
        select: { status: true, workflowId: true },
      });
      if (cell?.status !== 'suspended') return;
      // Requests arriving together wait on one wake.
      let pending = waking.get(cellId);
      if (!pending) {
        pending = wake(cellId, cell.workflowId ?? cellWorkflowId(cellId)).finally(() =>
          waking.delete(cellId),
        );
        waking.set(cellId, pending);
      }
      await pending;
    },
    stop: () => clearInterval(timer),
  };
}
