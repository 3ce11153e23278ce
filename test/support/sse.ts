import { expect } from 'vitest';

export interface Sse {
  id?: string;
  event: string;
  data: {
    status?: string;
    name?: string;
    kind?: string;
    service?: string;
    line?: string;
    /** On `end`: the cell as GET /cells/:id answers it. */
    cell?: Record<string, unknown>;
  };
}

/** A real SSE client over HTTP: reads events until the server ends the stream. */
export async function readEvents(url: string, lastEventId?: string): Promise<Sse[]> {
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: AbortSignal.timeout(60_000),
  });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: Sse[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let split = buffer.indexOf('\n\n');
    while (split >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      split = buffer.indexOf('\n\n');
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((l) => l && !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
      );
      if (!fields.data) continue;
      events.push({ id: fields.id, event: fields.event ?? 'message', data: JSON.parse(fields.data) });
    }
  }
  return events;
}
