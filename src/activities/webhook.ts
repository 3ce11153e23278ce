// One POST of a webhook delivery, made so that it cannot be turned against Hive's own network: the
// address connected to is checked (src/cells/notifyAddress.ts) as the connection is made, redirects
// are not followed, and what comes back is reduced to a status code — a receiver's answer body is
// never kept, since it would be shown to everyone who can see the cell (a server-side request
// forgery then reads internal pages through Hive).
import http, { STATUS_CODES } from 'node:http';
import https from 'node:https';
import { guardedLookup, notifyUrlProblem } from '../cells/notifyAddress.js';

export interface WebhookAnswer {
  /** The HTTP status, or 0 when no answer came. */
  status: number;
  /** Why it failed, safe to show: "HTTP 503 Service Unavailable", "ECONNREFUSED", … (no URL, no body). */
  error?: string;
  /** The target may not be reached (its address is refused): trying again cannot help. */
  refused?: boolean;
}

/** POSTs `body` to `url`; never throws (the answer says what went wrong). */
export function postWebhook(
  url: string,
  {
    body,
    headers,
    signal,
    timeoutMs,
  }: { body: string; headers: Record<string, string>; signal: AbortSignal; timeoutMs: number },
): Promise<WebhookAnswer> {
  const refused = notifyUrlProblem(url);
  if (refused) return Promise.resolve({ status: 0, error: `refused: ${refused}`, refused: true });
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: WebhookAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        lookup: guardedLookup(target.hostname),
        signal,
        // A fresh connection per delivery: an agent's pooled socket would skip the lookup's check.
        agent: false,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        settle(
          status >= 200 && status < 300
            ? { status }
            : { status, error: `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}` },
        );
        // Not read: nothing of the answer is kept (and an endless one cannot hold the delivery).
        response.destroy();
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      settle({ status: 0, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    request.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'EADDRREFUSED')
        settle({ status: 0, error: `refused: ${error.message}`, refused: true });
      else if (signal.aborted) {
        const timedOut = (signal.reason as Error | undefined)?.name === 'TimeoutError';
        settle({ status: 0, error: timedOut ? `no answer within ${timeoutMs} ms` : 'cancelled' });
      }
      // The code only: a message may quote the URL (and its query, which may hold a token).
      else settle({ status: 0, error: error.code ?? error.name });
    });
    request.end(body);
  });
}
