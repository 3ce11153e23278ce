import { setTimeout as sleep } from 'node:timers/promises';
import { createParser } from 'eventsource-parser';
import { type CellEvent, parseCellEvent } from '../cells/eventShapes.js';
import { HiveApiError } from './errors.js';
import type { Transport } from './http.js';

export interface FollowEventsOptions {
  /** Resume after this event id; without it the stream starts with the cell's whole story. */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Failed connection attempts in a row before giving up (default 10). */
  maxReconnects?: number;
  /** Told before each reconnection, e.g. to show "reconnecting…". */
  onReconnect?: (attempt: number, error: unknown) => void;
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

/** Refusals that a reconnection cannot fix (bad id, no access, no such cell). */
const isFinal = (error: unknown) =>
  error instanceof HiveApiError && error.status < 500 && error.status !== 408 && error.status !== 429;

/**
 * A cell's events as they happen (`GET /cells/:id/events`), parsed by eventsource-parser. A dropped
 * connection is reopened with `Last-Event-ID` so no recorded event is lost or repeated (live `log`
 * lines written meanwhile are); the iteration ends after the `end` event, when the cell rests, or
 * quietly when `signal` aborts.
 */
export async function* followCellEvents(
  transport: Transport,
  cellId: string,
  options: FollowEventsOptions = {},
): AsyncGenerator<CellEvent> {
  let lastEventId = options.lastEventId;
  let failures = 0;
  let delay = FIRST_DELAY_MS;
  const maxReconnects = options.maxReconnects ?? 10;
  while (!options.signal?.aborted) {
    const queue: CellEvent[] = [];
    const parser = createParser({
      onEvent: (message) => {
        if (!message.event) return;
        // Checked against its kind's shape: an event of a kind this client does not know (a newer
        // server) is skipped rather than handed on mistyped.
        const event = parseCellEvent(message.event, message.data ? JSON.parse(message.data) : {}, message.id);
        if (event) queue.push(event);
      },
      onRetry: (ms) => {
        delay = ms;
      },
    });
    let error: unknown = new Error('the event stream ended before the cell came to rest');
    try {
      const response = await transport.open(`/cells/${encodeURIComponent(cellId)}/events`, {
        headers: lastEventId ? { 'last-event-id': lastEventId } : {},
        signal: options.signal,
      });
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        for (const event of queue.splice(0)) {
          if (event.id) lastEventId = event.id;
          failures = 0;
          yield event;
          if (event.event === 'end') return;
        }
      }
    } catch (caught) {
      if (options.signal?.aborted) return;
      if (isFinal(caught)) throw caught;
      error = caught;
    }
    failures++;
    if (failures > maxReconnects) throw error;
    options.onReconnect?.(failures, error);
    await sleep(Math.min(delay * 2 ** (failures - 1), MAX_DELAY_MS), undefined, {
      signal: options.signal,
    }).catch(() => undefined);
  }
}
