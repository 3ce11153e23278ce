// Notifications as the outside sees them: the signature of a webhook delivery, as Hive writes it and
// as a receiver checks it (the same code, so docs/handoff.md's example and the sender cannot drift
// apart), and a target URL as people may see it.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'Hive-Signature';
/** The delivery id (the same on every retry of one event): receivers deduplicate on it. */
export const DELIVERY_HEADER = 'Hive-Delivery';
/** The event: ready, failed, rolled_back, cancelled, archived or cleanup_failed. */
export const EVENT_HEADER = 'Hive-Event';

/** The header value for `body` sent at `at` (unix seconds), signed with `secret`. */
export function signDelivery(secret: string, body: string, at = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${at}.${body}`).digest('hex');
  return `t=${at},v1=${mac}`;
}

/**
 * Checks a delivery the way a receiver should: the HMAC over `<t>.<raw body>` with the shared
 * secret, compared in constant time, and `t` no older than `toleranceSeconds` (a replayed old
 * delivery is refused). `body` must be the raw request body, not re-serialized JSON.
 */
export function verifyDelivery(
  secret: string,
  header: string | undefined,
  body: string,
  { toleranceSeconds = 300, now = Math.floor(Date.now() / 1000) } = {},
): boolean {
  if (!header) return false;
  const parts = new Map(
    header.split(',').map((part) => {
      const eq = part.indexOf('=');
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()] as const;
    }),
  );
  const at = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isInteger(at) || Math.abs(now - at) > toleranceSeconds || !/^[0-9a-f]{64}$/.test(given)) {
    return false;
  }
  const expected = createHmac('sha256', secret).update(`${at}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

/** A URL as people may see it: no credentials, no query string (either may carry a secret). */
export function displayUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
}
