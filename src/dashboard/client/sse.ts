import { createParser } from 'eventsource-parser';
import { type CellEvent, parseCellEvent } from '../../cells/eventShapes.js';
import { authHeaders, onAuthChange, requireToken } from './auth.js';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

export interface StreamHandlers {
  onEvent(event: string, data: unknown, id: string | undefined): void;
  onState?(state: StreamState, detail?: string): void;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * Follows a Server-Sent Events stream of the API. EventSource cannot send an Authorization header,
 * so this reads the stream with fetch and parses it with eventsource-parser. It reconnects after a
 * drop with Last-Event-ID (the server resumes after the last event seen) and stops at an `end`
 * event, a 4xx answer, or close().
 */
export function followStream(path: string, handlers: StreamHandlers): () => void {
  const controller = new AbortController();
  let lastId: string | undefined;
  let ended = false;
  let refused: string | undefined;
  let attempt = 0;

  const waitForToken = () =>
    new Promise<void>((resolve) => {
      const off = onAuthChange(() => {
        off();
        resolve();
      });
      controller.signal.addEventListener('abort', () => {
        off();
        resolve();
      });
    });

  const connectOnce = async () => {
    const response = await fetch(path, {
      headers: {
        accept: 'text/event-stream',
        ...authHeaders(),
        ...(lastId ? { 'last-event-id': lastId } : {}),
      },
      signal: controller.signal,
    });
    if (response.status === 401) {
      requireToken();
      handlers.onState?.('reconnecting', 'waiting for an API token');
      await waitForToken();
      return;
    }
    if (!response.ok || !response.body) {
      const problem = (await response.json().catch(() => ({}))) as { detail?: string };
      if (response.status < 500) {
        ended = true;
        refused = problem.detail ?? `HTTP ${response.status}`;
        return;
      }
      throw new Error(problem.detail ?? `HTTP ${response.status}`);
    }
    attempt = 0;
    handlers.onState?.('live');
    const parser = createParser({
      onEvent(message) {
        if (message.id) lastId = message.id;
        const name = message.event ?? 'message';
        if (name === 'end') ended = true;
        handlers.onEvent(name, JSON.parse(message.data), message.id);
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
  };

  void (async () => {
    handlers.onState?.('connecting');
    while (!ended && !controller.signal.aborted) {
      try {
        await connectOnce();
      } catch (error) {
        if (controller.signal.aborted) return;
        handlers.onState?.('reconnecting', error instanceof Error ? error.message : String(error));
      }
      if (ended || controller.signal.aborted) break;
      handlers.onState?.('reconnecting');
      attempt++;
      await new Promise((r) => setTimeout(r, Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt, 5))));
    }
    if (refused) handlers.onState?.('failed', refused);
    else if (ended) handlers.onState?.('ended');
  })();

  return () => controller.abort();
}

/**
 * Follows one cell's stream (GET /cells/:id/events), each event checked against its kind's shape
 * (src/cells/eventShapes.ts): an event this page does not know, or one that does not fit, is skipped.
 */
export function followCellEvents(
  cellId: string,
  handlers: { onEvent(event: CellEvent): void; onState?: StreamHandlers['onState'] },
): () => void {
  return followStream(`/cells/${encodeURIComponent(cellId)}/events`, {
    onEvent(name, data, id) {
      const event = parseCellEvent(name, data, id);
      if (event) handlers.onEvent(event);
    },
    onState: handlers.onState,
  });
}
