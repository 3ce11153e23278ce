import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CREATE_TOKEN_HINT } from '../auth/roles.js';
import {
  localPrincipal,
  type Principal,
  type Role,
  SECRET_PREFIX,
  tokensInUse,
  touchToken,
  verifyToken,
} from '../auth/tokens.js';
import type { Db } from '../db/client.js';

// Who may reach a cell's services through the proxy. The API's rule: while no API token exists (and
// the proxy listens on loopback only) anyone local may; once one exists, every request needs one —
// `Authorization: Bearer <secret>`, or `?hive_token=<secret>` once, which a browser trades for a
// short-lived signed cookie of this host only. Hive's credentials never reach the cell: the caller
// strips them (stripCredentials) before forwarding.

/** The cookie the proxy sets after `?hive_token=`: host-only, HttpOnly, signed, short-lived. */
export const PROXY_COOKIE = 'hive_proxy_session';
/** The query parameter a browser brings a token in (once: it is traded for the cookie). */
export const TOKEN_PARAM = 'hive_token';
/** How long the cookie lasts; renewed when half of it is gone, while its token still works. */
export const COOKIE_TTL_MS = 60 * 60 * 1000;
/** Whether tokens are in use is asked at most this often (every asset of a page is a request). */
const IN_USE_TTL_MS = 1_000;

export type Authentication =
  | {
      ok: true;
      principal: Principal;
      /** A Set-Cookie header to send (a token was traded for a cookie, or the cookie renewed). */
      setCookie?: string;
      /** The token came in the query: answer GET/HEAD with a redirect to this path without it. */
      redirectTo?: string;
    }
  | { ok: false; detail: string; error?: 'invalid_token' };

const BEARER = /^Bearer +(\S+) *$/i;

interface CookieBody {
  /** The token's id: looked up on every use, so revoking the token ends the cookie at once. */
  t: string;
  /** The host it was issued for (defence in depth: it is host-only already). */
  h: string;
  /** Expiry, ms since the epoch. */
  e: number;
}

export interface ProxyAuth {
  authenticate(request: IncomingMessage, host: string): Promise<Authentication>;
}

export function createProxyAuth(db: Db, now = () => Date.now()): ProxyAuth {
  // A key of this process: a restart of Hive ends every cookie (they are short-lived anyway).
  const key = randomBytes(32);
  const sign = (body: string) => createHmac('sha256', key).update(body).digest('base64url');
  let inUse: { value: boolean; at: number } | undefined;
  const usingTokens = async () => {
    if (!inUse || now() - inUse.at > IN_USE_TTL_MS) inUse = { value: await tokensInUse(db), at: now() };
    return inUse.value;
  };

  const issue = (tokenId: string, host: string) => {
    const body = Buffer.from(
      JSON.stringify({ t: tokenId, h: host, e: now() + COOKIE_TTL_MS } satisfies CookieBody),
    ).toString('base64url');
    const value = `${body}.${sign(body)}`;
    return `${PROXY_COOKIE}=${value}; Path=/; Max-Age=${COOKIE_TTL_MS / 1000}; HttpOnly; SameSite=Lax`;
  };

  const readCookie = (request: IncomingMessage, host: string): CookieBody | undefined => {
    const value = cookieValue(request.headers.cookie, PROXY_COOKIE);
    const [body, mac] = value?.split('.') ?? [];
    if (!body || !mac) return undefined;
    const expected = Buffer.from(sign(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as CookieBody;
      return parsed.h === host && parsed.e > now() && typeof parsed.t === 'string' ? parsed : undefined;
    } catch {
      return undefined;
    }
  };

  const bySecret = async (secret: string): Promise<Authentication & { id?: string }> => {
    const verified = await verifyToken(db, secret);
    if (verified.ok) {
      void touchToken(db, verified.id, verified.lastUsedAt);
      return { ok: true, principal: verified.principal, id: verified.id };
    }
    const why = {
      malformed: 'This is not a Hive API token (they look like hive_… and are printed once when created).',
      unknown: 'This token is not known to this server.',
      revoked: `Token "${verified.name}" was revoked at ${verified.at?.toISOString()}.`,
      expired: `Token "${verified.name}" expired at ${verified.at?.toISOString()}.`,
    }[verified.reason];
    return { ok: false, detail: why, error: 'invalid_token' };
  };

  return {
    async authenticate(request, host) {
      const url = new URL(request.url ?? '/', 'http://proxy');
      const fromQuery = url.searchParams.get(TOKEN_PARAM);
      const bearer = BEARER.exec(request.headers.authorization ?? '')?.[1];
      const hiveBearer = bearer?.startsWith(SECRET_PREFIX) ? bearer : undefined;
      // No token exists: local use is open (the proxy listens on loopback only then; a stray
      // ?hive_token= is stripped before forwarding like any other).
      if (!(await usingTokens())) return { ok: true, principal: localPrincipal };

      if (fromQuery !== null) {
        const result = await bySecret(fromQuery);
        if (!result.ok || !result.id) return result;
        url.searchParams.delete(TOKEN_PARAM);
        return {
          ok: true,
          principal: result.principal,
          setCookie: issue(result.id, host),
          redirectTo: `${url.pathname}${url.search}`,
        };
      }
      if (hiveBearer) {
        const result = await bySecret(hiveBearer);
        return result.ok ? { ok: true, principal: result.principal } : result;
      }
      const cookie = readCookie(request, host);
      if (cookie) {
        const row = await db.apiToken.findUnique({ where: { id: cookie.t } });
        if (row && !row.revokedAt && (!row.expiresAt || row.expiresAt.getTime() > now())) {
          const workspaces = JSON.parse(row.workspaces) as string[];
          return {
            ok: true,
            principal: {
              kind: 'token',
              name: row.name,
              role: row.role as Role,
              workspaces: workspaces.length ? workspaces : null,
            },
            // Renewed while in use, so an open tab keeps working; ends with its token.
            setCookie: cookie.e - now() < COOKIE_TTL_MS / 2 ? issue(row.id, host) : undefined,
          };
        }
        return {
          ok: false,
          error: 'invalid_token',
          detail: "The token this browser's session came from was revoked or expired.",
        };
      }
      return {
        ok: false,
        detail: `Hive's API tokens are in use, so a cell's services need one too. Send "Authorization: Bearer <secret>", or open the URL once with ?${TOKEN_PARAM}=<secret> (the browser then keeps a session for this host). Get a token from an administrator (${CREATE_TOKEN_HINT}).`,
      };
    },
  };
}

/** One cookie's value from a Cookie header. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Removes Hive's credentials from a request before it reaches a cell's service: the proxy's cookie,
 * an `Authorization: Bearer hive_…` header and the `hive_token` query parameter. Everything else
 * (the app's own cookies and auth) passes.
 */
export function stripCredentials(request: IncomingMessage): void {
  const cookie = request.headers.cookie;
  if (cookie !== undefined) {
    const kept = cookie
      .split(';')
      .filter((part) => part.split('=')[0]?.trim() !== PROXY_COOKIE)
      .map((part) => part.trim())
      .filter(Boolean);
    if (kept.length) request.headers.cookie = kept.join('; ');
    else delete request.headers.cookie;
  }
  const bearer = BEARER.exec(request.headers.authorization ?? '')?.[1];
  if (bearer?.startsWith(SECRET_PREFIX)) delete request.headers.authorization;
  if (request.url?.includes(TOKEN_PARAM)) {
    const url = new URL(request.url, 'http://proxy');
    url.searchParams.delete(TOKEN_PARAM);
    request.url = `${url.pathname}${url.search}`;
  }
}
