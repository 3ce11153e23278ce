import { closeSync, fstatSync, readSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import type { Db } from '../db/client.js';
import { table } from '../db/rawSql.js';
import { warn } from '../log.js';
import { FileReplacedError, openContainedSync } from './containedFiles.js';
import { type CellEvent, parseCellEvent } from './eventShapes.js';
import { nextEvent, readEventsAfter } from './events.js';
import { restingStatuses } from './status.js';

export type { CellEvent as StreamedEvent } from './eventShapes.js';

const POLL_MS = 250;

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * New complete lines appended to a log file of the cell whose worktree is `root` since `offset`;
 * returns them and the new offset. A log its agent replaced by a link is not followed: one line says
 * so, and the offset moves past everything (nothing more is read from it). Synchronous syscalls (at
 * most 256 KiB read): a stream tails each log every round, and the last round before `end` is on
 * the way to a waiting client.
 */
function readNewLines(root: string, file: string, offset: number): { lines: string[]; offset: number } {
  let fd: number | undefined;
  try {
    fd = openContainedSync(root, file, 'read');
  } catch (error) {
    if (!(error instanceof FileReplacedError)) throw error;
    return { lines: [`(${error.message})`], offset: Number.POSITIVE_INFINITY };
  }
  if (fd === undefined) return { lines: [], offset: 0 };
  try {
    const { size } = fstatSync(fd);
    if (size <= offset) return { lines: [], offset: Math.min(offset, size) };
    const buffer = Buffer.alloc(Math.min(size - offset, 256 * 1024));
    const bytesRead = readSync(fd, buffer, 0, buffer.length, offset);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const end = text.lastIndexOf('\n');
    if (end < 0) return { lines: [], offset };
    return {
      lines: text.slice(0, end).split('\n'),
      offset: offset + Buffer.byteLength(text.slice(0, end + 1)),
    };
  } finally {
    closeSync(fd);
  }
}

interface StreamedService {
  name: string;
  logPath: string | null;
}

/** The cell's services, as a stream tails their logs (raw SQL, src/db/rawSql.ts: read every round). */
const servicesOf = (db: Db, cellId: string) =>
  db.$queryRaw<StreamedService[]>`SELECT "name", "logPath" FROM ${table(db, 'ServiceInstance')}
    WHERE "cellId" = ${cellId}`;

/** What a stream asks of the cell's row: its status, and where its logs are. */
async function cellColumns(db: Db, cellId: string) {
  const rows = await db.$queryRaw<{ status: string; worktreePath: string | null }[]>`
    SELECT "status", "worktreePath" FROM ${table(db, 'Cell')} WHERE "id" = ${cellId}`;
  return rows[0];
}

/**
 * A cell's story as it happens: the recorded status, step and operation events after `afterId`
 * (each with its id, so a client resumes with Last-Event-ID), and service log lines as they are
 * written (live only, without ids), with known secret values masked by `redact`. Ends with an
 * `end` event once the cell rests.
 */
export async function* cellEventStream(
  db: Db,
  cellId: string,
  afterId: number,
  connected: () => boolean,
  redact: (line: string) => string = (line) => line,
  /** The cell as GET /cells/:id answers, sent with the `end` event. */
  restingCell?: () => Promise<{ id: string; status: string } | undefined>,
): AsyncGenerator<CellEvent> {
  let last = afterId;
  const logOffsets = new Map<string, number>();
  // The worktree the logs must be in; known once the worktree step has run.
  let root: string | null | undefined;
  // A round runs for each event the cell records (a provisioning records ~20): the services and the
  // status are read again only when they can have changed, not in every round (issue #23: these
  // reads were half of a provisioning's queries with one client watching). The services at most
  // once a poll period (and once more before the end); the status when a status event came, on a
  // timed poll (another process, or a change without an event), and in the first round.
  let services: StreamedService[] = [];
  let servicesReadAt = Number.NEGATIVE_INFINITY;
  const tailLogs = async function* (first: boolean, refresh: boolean): AsyncGenerator<CellEvent> {
    if (refresh) {
      services = await servicesOf(db, cellId);
      servicesReadAt = Date.now();
    }
    if (services.length && !root) {
      root = (await cellColumns(db, cellId))?.worktreePath;
    }
    for (const service of services) {
      if (!service.logPath || !root) continue;
      // Live tail: a service that already ran when the client connected starts at the end of its log
      // (no replay on reconnect); one that appeared since is read from its first line, at once, so
      // nothing is lost if the cell comes to rest in this same round.
      const known =
        logOffsets.get(service.name) ??
        (first ? ((await lstat(service.logPath).catch(() => undefined))?.size ?? 0) : 0);
      if (known === Number.POSITIVE_INFINITY) continue; // replaced by a link: said once, not followed
      const { lines, offset } = readNewLines(root, service.logPath, known);
      logOffsets.set(service.name, offset);
      for (const line of lines) yield { event: 'log', data: { service: service.name, line: redact(line) } };
    }
  };
  let polled = false;
  for (let first = true; connected(); first = false) {
    const rows = await readEventsAfter(db, cellId, last, 500);
    let statusChanged = false;
    /** The status the round's last status event told, when there was one. */
    let told: string | undefined;
    for (const row of rows) {
      last = row.id;
      if (row.type === 'status') statusChanged = true;
      // Through its kind's shape: what a client receives is what the shapes say, never a raw row.
      const event = parseCellEvent(row.type, parseJson(row.data), String(row.id));
      if (event?.event === 'status') told = event.data.status;
      if (event) yield event;
      else warn('a recorded event fits no event shape; skipped', { cellId, eventId: row.id, type: row.type });
    }
    const refreshed = first || Date.now() - servicesReadAt >= POLL_MS;
    yield* tailLogs(first, refreshed);
    if (rows.length < 500) {
      if (first || polled || statusChanged) {
        // The last status event of the round says it, or the record does (first round, timed poll).
        const status = (statusChanged && told) || ((await cellColumns(db, cellId))?.status ?? 'archived');
        const resting = restingStatuses.find((s) => s === status);
        if (resting) {
          // A service started since the services were last read still has its lines told.
          if (!refreshed) yield* tailLogs(false, true);
          const detail = await restingCell?.();
          // Only the cell as it rests now: one that moved on since is the client's to ask for.
          const cellNow = detail?.status === resting ? { ...detail, status: resting } : undefined;
          yield { event: 'end', data: cellNow ? { status: resting, cell: cellNow } : { status: resting } };
          return;
        }
      }
      polled = !(await nextEvent(cellId, POLL_MS));
    }
  }
}
