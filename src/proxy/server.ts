import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { problemType } from '../api/problem.js';
import { inScope } from '../auth/tokens.js';
import type { Db } from '../db/client.js';
import { type Authentication, createProxyAuth, stripCredentials, TOKEN_PARAM } from './auth.js';
import { rewriteSetCookies } from './cookies.js';
import { type ProxyAddress, parseProxyHost } from './names.js';
import { type CellRoute, cellNotFoundProblem, createRouter, type ProxyProblem } from './route.js';

// Hive's reverse proxy: `http://<service>.<cell>.<domain>:<port>` reaches that service of that
// cell, `http://<cell>.<domain>:<port>` its main service, WebSockets and Server-Sent Events
// included (http-proxy-3). Its own port, not the API's: a cell's pages then never share an origin
// with the API or the dashboard (docs/proxy.md).

export interface ProxyOptions {
  db: Db;
  /** This host's id: cells placed elsewhere answer 502. */
  hostId: string;
  /** Interface to listen on (loopback by default; another needs API tokens, as the API). */
  host: string;
  port: number;
  domain: string;
  /** The template's services in declaration order, for the main service. */
  declaredServices?: (workspaceId: string, templateId: string) => Promise<string[] | undefined>;
  /** Ports of Hive's own (the API's): never forwarded to. The proxy's own is added. */
  forbiddenPorts?: () => number[];
}

/** Called before a request is forwarded to a cell (e.g. to wake a suspended cell); may take time. */
export type BeforeForward = (cellId: string) => Promise<void>;

export interface HiveProxy {
  /** The port and domain it answers on (the real port when 0 was asked). */
  address: ProxyAddress;
  /** When a request for this cell was last forwarded (this process's memory; undefined: never). */
  lastRequestAt(cellId: string): Date | undefined;
  /** Requests, event streams and WebSockets of this cell open right now (an open one is activity). */
  openRequests(cellId: string): number;
  /** Sets the hook run before each forward (undefined removes it). */
  setBeforeForward(hook: BeforeForward | undefined): void;
  close(): Promise<void>;
}

const REALM = 'Bearer realm="hive"';

/** What the proxy notes on a request it forwards, for its response. */
type Forwarded = IncomingMessage & { hiveCell?: string; hiveSetCookie?: string };

const TOKEN_IN_URL = new RegExp(`([?&]${TOKEN_PARAM}=)[^&#]*`, 'g');

function problemBody(problem: ProxyProblem, instance: string) {
  return JSON.stringify({
    type: problemType(problem.slug),
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    // A token in the address is not said back (nor kept in logs that keep answers).
    instance: instance.replace(TOKEN_IN_URL, '$1…'),
    ...problem.extra,
  });
}

function unauthorized(auth: Extract<Authentication, { ok: false }>): ProxyProblem {
  return { status: 401, slug: 'unauthorized', title: 'Authentication required', detail: auth.detail };
}

const wwwAuthenticate = (problem: ProxyProblem, auth?: Authentication) =>
  problem.status === 401
    ? auth && !auth.ok && auth.error
      ? `${REALM}, error="${auth.error}"`
      : REALM
    : undefined;

export async function startProxy(options: ProxyOptions): Promise<HiveProxy> {
  const server = createServer();
  const address: ProxyAddress = { port: options.port, domain: options.domain };
  const router = createRouter({
    db: options.db,
    hostId: options.hostId,
    address,
    declaredServices: options.declaredServices,
    forbiddenPorts: () => [address.port, ...(options.forbiddenPorts?.() ?? [])],
  });
  const auth = createProxyAuth(options.db);
  const lastRequest = new Map<string, Date>();
  const open = new Map<string, number>();
  /** Counts a forwarded exchange from now until `done` closes; both ends count as a request. */
  const track = (cellId: string, done: { once(event: 'close', listener: () => void): unknown }) => {
    lastRequest.set(cellId, new Date());
    open.set(cellId, (open.get(cellId) ?? 0) + 1);
    done.once('close', () => {
      lastRequest.set(cellId, new Date());
      const left = (open.get(cellId) ?? 1) - 1;
      if (left > 0) open.set(cellId, left);
      else open.delete(cellId);
    });
  };
  let beforeForward: BeforeForward | undefined;
  // xfwd: the service sees X-Forwarded-For/Host/Proto; the Host header is passed as it came, so a
  // service builds its own links with the public name; autoRewrite turns a redirect to its
  // 127.0.0.1:<port> into one to that name.
  const proxy = createProxyServer({ xfwd: true, ws: true, autoRewrite: true });
  proxy.on('proxyRes', (proxyRes, req) => {
    const { hiveCell, hiveSetCookie } = req as Forwarded;
    if (hiveCell) rewriteSetCookies(proxyRes.headers, hiveCell, address.domain);
    // The proxy's own session cookie, beside the service's (which replace the response's headers).
    if (hiveSetCookie)
      proxyRes.headers['set-cookie'] = [...(proxyRes.headers['set-cookie'] ?? []), hiveSetCookie];
  });

  /** What a request asks for, checked: the route to forward to, or the problem to answer. */
  async function resolve(
    req: IncomingMessage,
  ): Promise<
    | { route: CellRoute; auth: Authentication & { ok: true } }
    | { problem: ProxyProblem; auth?: Authentication }
  > {
    const name = parseProxyHost(req.headers.host, address.domain);
    if (!name) {
      return {
        problem: {
          status: 404,
          slug: 'not-a-cell-name',
          title: 'Not a cell',
          detail: `Host "${(req.headers.host ?? '').slice(0, 200)}" names no cell. This is Hive's proxy to cells' services: use http://<service>.<cell>.${address.domain}:${address.port} or http://<cell>.${address.domain}:${address.port} (GET /cells/<id> shows each service's publicUrl).`,
        },
      };
    }
    const host = (req.headers.host ?? '').toLowerCase();
    const authentication = await auth.authenticate(req, host);
    if (!authentication.ok) return { problem: unauthorized(authentication), auth: authentication };
    let cell = await router.lookup(name.cellId);
    // Out of a token's workspace scope, a cell does not exist (as in the API).
    if (!cell || !inScope(authentication.principal, cell.workspaceId)) {
      return { problem: cellNotFoundProblem(name.cellId), auth: authentication };
    }
    if (beforeForward) {
      await beforeForward(cell.id);
      cell = (await router.lookup(cell.id, true)) ?? cell;
    }
    const route = await router.route(name, cell);
    if ('slug' in route) return { problem: route, auth: authentication };
    return { route, auth: authentication };
  }

  function answer(res: ServerResponse, req: IncomingMessage, problem: ProxyProblem, auth?: Authentication) {
    const challenge = wwwAuthenticate(problem, auth);
    res.writeHead(problem.status, {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      ...(challenge ? { 'www-authenticate': challenge } : {}),
    });
    res.end(problemBody(problem, req.url ?? '/'));
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    resolve(req)
      .then((resolved) => {
        if ('problem' in resolved) return answer(res, req, resolved.problem, resolved.auth);
        const { route, auth: authentication } = resolved;
        if (authentication.redirectTo && (req.method === 'GET' || req.method === 'HEAD')) {
          if (authentication.setCookie) res.setHeader('set-cookie', authentication.setCookie);
          // The token leaves the address bar (and history, and Referer) at once.
          res.writeHead(303, { location: authentication.redirectTo, 'cache-control': 'no-store' });
          return res.end();
        }
        (req as Forwarded).hiveSetCookie = authentication.setCookie;
        forward(req, res, route);
      })
      .catch((error: unknown) => {
        answer(res, req, {
          status: 500,
          slug: 'proxy-failed',
          title: 'Proxy failed',
          detail: `The proxy could not route this request: ${String(error)}`,
        });
      });
  });

  function forward(req: IncomingMessage, res: ServerResponse, route: CellRoute, retried = false) {
    if (!retried) {
      stripCredentials(req);
      (req as Forwarded).hiveCell = route.cellId;
      track(route.cellId, res);
    }
    // A retried request's (empty) body was read by the first attempt: it gets an empty one.
    const body = retried ? { buffer: Readable.from([]) } : {};
    proxy.web(req, res, { target: `http://127.0.0.1:${route.port}`, ...body }, (error) => {
      router.forget(route.cellId);
      if (res.headersSent) return void res.destroy();
      if (!retried && (error as NodeJS.ErrnoException).code === 'ECONNREFUSED' && bodiless(req)) {
        // Refused: the service may have been restarted on another port since its record was read.
        return void retry(req, res, route, error).catch((failure: unknown) =>
          answer(res, req, unreachable(route, failure as Error)),
        );
      }
      answer(res, req, unreachable(route, error));
    });
  }

  async function retry(req: IncomingMessage, res: ServerResponse, route: CellRoute, error: Error) {
    const name = parseProxyHost(req.headers.host, address.domain);
    const cell = await router.lookup(route.cellId, true);
    const next = name && cell ? await router.route(name, cell) : undefined;
    if (next && !('slug' in next) && next.port !== route.port) return forward(req, res, next, true);
    answer(res, req, next && 'slug' in next ? next : unreachable(route, error));
  }

  // Upgraded connections leave the server's own bookkeeping: closing ends them here.
  const upgraded = new Set<Socket>();
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    resolve(req)
      .then((resolved) => {
        if ('problem' in resolved) {
          const { problem } = resolved;
          const challenge = wwwAuthenticate(problem, resolved.auth);
          const body = problemBody(problem, req.url ?? '/');
          socket.end(
            `HTTP/1.1 ${problem.status} ${problem.title}\r\ncontent-type: application/problem+json\r\n${
              challenge ? `www-authenticate: ${challenge}\r\n` : ''
            }content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
          );
          return;
        }
        const { route } = resolved;
        stripCredentials(req);
        track(route.cellId, socket);
        proxy.ws(req, socket, head, { target: `http://127.0.0.1:${route.port}` }, () => {
          router.forget(route.cellId);
          socket.destroy();
        });
      })
      .catch(() => socket.destroy());
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  address.port = (server.address() as AddressInfo).port;

  return {
    address,
    lastRequestAt: (cellId) => lastRequest.get(cellId),
    openRequests: (cellId) => open.get(cellId) ?? 0,
    setBeforeForward: (hook) => {
      beforeForward = hook;
    },
    close: () =>
      new Promise<void>((done) => {
        proxy.close();
        server.close(() => done());
        // Open WebSockets and event streams would hold close() forever.
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }),
  };
}

/** A request without a body (GET, HEAD…): safe to send again. */
const bodiless = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] === undefined && Number(req.headers['content-length'] ?? 0) === 0;

function unreachable(route: CellRoute, error: Error): ProxyProblem {
  return {
    status: 502,
    slug: 'service-unreachable',
    title: 'Service unreachable',
    detail: `Service ${route.service} of cell ${route.cellId} did not answer on its port ${route.port} (${
      (error as NodeJS.ErrnoException).code ?? error.message
    }). Its log: hive cells logs ${route.cellId} ${route.service}.`,
  };
}
