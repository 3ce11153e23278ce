import type { IncomingHttpHeaders } from 'node:http';
import { PROXY_COOKIE } from './auth.js';

// Cells must not share cookies through the proxy's names. A cookie without Domain is host-only
// (`web.<cell>.localhost` keeps it); one a service sets for `localhost` (or `.localhost`) would
// reach every cell, so its Domain is dropped and it stays on the host that set it. A Domain within
// the cell (`<cell>.localhost`: shared by that cell's services) is kept. A service cannot set the
// proxy's own session cookie.

const DOMAIN_ATTRIBUTE = /;\s*domain\s*=\s*([^;]*)/gi;

/** Rewrites a response's Set-Cookie headers in place (see above). */
export function rewriteSetCookies(headers: IncomingHttpHeaders, cellId: string, domain: string): void {
  const cookies = headers['set-cookie'];
  if (!cookies?.length) return;
  const cellDomain = `${cellId}.${domain}`;
  const kept = cookies
    .filter((cookie) => cookie.split('=')[0]?.trim() !== PROXY_COOKIE)
    .map((cookie) =>
      cookie.replace(DOMAIN_ATTRIBUTE, (attribute, value: string) => {
        const name = value.trim().toLowerCase().replace(/^\./, '');
        return name === cellDomain || name.endsWith(`.${cellDomain}`) ? attribute : '';
      }),
    );
  headers['set-cookie'] = kept;
}
