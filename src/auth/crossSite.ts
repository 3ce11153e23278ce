// Cross-site request forgery on the tokenless loopback API: with no token, being able to reach
// 127.0.0.1 is all it takes to act — and any web page the developer visits can make the browser send
// a POST there (one without a body needs no CORS preflight). Browsers say where such a request comes
// from (`Origin`, `Sec-Fetch-Site`); programs (curl, the CLI, the client) send neither. So a request
// that changes something is refused when a browser says it comes from another site.
import type { FastifyRequest } from 'fastify';

/** Methods that only read: never refused here. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Why this request looks forged by another site (a sentence for the 403), or undefined. */
export function crossSiteRefusal(request: FastifyRequest): string | undefined {
  if (SAFE_METHODS.has(request.method)) return undefined;
  const host = header(request, 'host') ?? '';
  const origin = header(request, 'origin');
  if (origin !== undefined && !sameOrigin(origin, host)) {
    return `It comes from the page at origin "${origin.slice(0, 100)}", not from this API's own (http://${host.slice(0, 100)}).`;
  }
  const site = header(request, 'sec-fetch-site')?.toLowerCase();
  if (site === 'cross-site' || site === 'same-site') {
    return `The browser says this ${request.method} comes from another site (Sec-Fetch-Site: ${site}).`;
  }
  return undefined;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The API's own origin is http://<Host header> (it serves plain HTTP on loopback). */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const parsed = new URL(origin);
    return parsed.protocol === 'http:' && parsed.host.toLowerCase() === host.trim().toLowerCase();
  } catch {
    // "null" (a sandboxed frame, a file:// page) or garbage: not this API.
    return false;
  }
}
