import type { FastifyPluginAsync, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { Problem, problemType, sendProblem } from '../api/problem.js';
import type { Db } from '../db/client.js';
import { CREATE_TOKEN_HINT, hostOfHeader, isLoopbackName } from './binding.js';
import { crossSiteRefusal } from './crossSite.js';
import {
  type Access,
  anonymousPrincipal,
  localPrincipal,
  type Principal,
  roleAllows,
  roleFor,
  tokensInUse,
  touchToken,
  verifyToken,
} from './tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: `public`, `read` (viewer), `operate` (operator), `admin`. None = admin. */
    access?: Access;
  }
  interface FastifyRequest {
    /** Who is asking; set by the auth hook before any handler runs. */
    principal: Principal;
  }
}

export interface AuthOptions {
  db: Db;
  /** The interface the API listens on: tokenless local use is allowed on loopback only. */
  host: string;
}

/** OpenAPI extension naming a route's declared access, so clients and tests can read it. */
export const ACCESS_EXTENSION = 'x-hive-access';

const REALM = 'Bearer realm="hive"';
const BEARER = /^Bearer +(\S+) *$/i;

const accessText: Record<Exclude<Access, 'public'>, string> = {
  read: 'Needs a token with role viewer, operator or admin.',
  operate: 'Needs a token with role operator or admin.',
  admin: 'Needs a token with role admin.',
};

/** A route's access as declared, and failing closed: a route that declares none is admin-only. */
export function accessOf(config: { access?: Access } | undefined): Access {
  return config?.access ?? 'admin';
}

/** Documents each route's access in OpenAPI: `security: []` when public, else the 401/403 answers. */
function documentAccess(route: { config?: { access?: Access }; schema?: FastifySchema }) {
  if (route.schema?.hide) return;
  const access = accessOf(route.config);
  const schema: FastifySchema & Record<string, unknown> = { ...route.schema, [ACCESS_EXTENSION]: access };
  if (access === 'public') {
    schema.security = [];
  } else {
    const responses = (route.schema?.response ?? {}) as Record<string, unknown>;
    schema.response = { 401: Problem, 403: Problem, ...responses };
    schema.description = [route.schema?.description, accessText[access]].filter(Boolean).join(' ');
  }
  route.schema = schema;
}

function unauthorized(
  request: FastifyRequest,
  reply: FastifyReply,
  detail: string,
  error?: 'invalid_token' | 'invalid_request',
) {
  reply.header('www-authenticate', error ? `${REALM}, error="${error}"` : REALM);
  return sendProblem(reply, request, {
    type: problemType('unauthorized'),
    title: 'Authentication required',
    status: 401,
    detail,
  });
}

const getOne = `Get a token from an administrator (${CREATE_TOKEN_HINT}) and send it as "Authorization: Bearer <secret>".`;

/**
 * Authentication and roles for every route, in one onRequest hook: who is asking (a token, or
 * `local` use of a loopback-bound API while no token exists), whether the route's declared access
 * allows them, and the DNS-rebinding and cross-site-request defences of a tokenless loopback API. Workspace scope is
 * enforced where resources are found (src/api/guards.ts), with `request.principal`.
 */
const plugin: FastifyPluginAsync<AuthOptions> = async (app, { db, host }) => {
  const loopback = isLoopbackName(host);
  app.decorateRequest('principal', null, []);
  app.addHook('onRoute', documentAccess);

  app.addHook('onRequest', async (request, reply) => {
    // A request no route matched: any valid caller may learn it does not exist, anonymous ones not.
    const access: Access = request.is404 ? 'read' : accessOf(request.routeOptions.config);
    let inUse: boolean | undefined;
    const usingTokens = async () => {
      inUse ??= await tokensInUse(db);
      return inUse;
    };

    if (loopback && !isLoopbackName(hostOfHeader(request.headers.host ?? '')) && !(await usingTokens())) {
      await sendProblem(reply, request, {
        type: problemType('host-not-allowed'),
        title: 'Host not allowed',
        status: 421,
        detail: `Host "${(request.headers.host ?? '').slice(0, 100)}" is not a loopback name. Without API tokens this API answers only requests addressed to localhost, 127.0.0.1 or [::1] (a defence against DNS rebinding). Use http://127.0.0.1:<port>, or create a token (${CREATE_TOKEN_HINT}) to use it under other names.`,
      });
      return reply;
    }

    if (access === 'public') {
      request.principal = anonymousPrincipal;
      return;
    }

    let principal: Principal;
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const secret = BEARER.exec(authorization)?.[1];
      if (!secret) {
        await unauthorized(
          request,
          reply,
          `The Authorization header must be "Bearer <secret>". ${getOne}`,
          'invalid_request',
        );
        return reply;
      }
      const verified = await verifyToken(db, secret);
      if (!verified.ok) {
        const why = {
          malformed:
            'This is not a Hive API token (they look like hive_… and are printed once when created).',
          unknown: 'This token is not known to this server.',
          revoked: `Token "${verified.name}" was revoked at ${verified.at?.toISOString()}.`,
          expired: `Token "${verified.name}" expired at ${verified.at?.toISOString()}.`,
        }[verified.reason];
        await unauthorized(request, reply, `${why} ${getOne}`, 'invalid_token');
        return reply;
      }
      principal = verified.principal;
      void touchToken(db, verified.id, verified.lastUsedAt);
    } else if (loopback && !(await usingTokens())) {
      // No credential is needed here, so a browser can be made to send one for another site.
      const forged = crossSiteRefusal(request);
      if (forged) {
        await sendProblem(reply, request, {
          type: problemType('cross-site-request'),
          title: 'Cross-site request refused',
          status: 403,
          detail: `${forged} Without API tokens this API acts for anyone who can reach it, so it refuses requests that change something when a browser says they come from another site (a defence against cross-site request forgery). Send it from the dashboard served by this API, or without an Origin header (curl, hive, the client), or create a token (${CREATE_TOKEN_HINT}) and send it as "Authorization: Bearer <secret>".`,
        });
        return reply;
      }
      principal = localPrincipal;
    } else {
      await unauthorized(
        request,
        reply,
        loopback || (await usingTokens())
          ? `This API requires a token. ${getOne}`
          : `No API token exists and this API listens on ${host}, which is not loopback, so every request is refused. Create a token: ${CREATE_TOKEN_HINT}, then send it as "Authorization: Bearer <secret>".`,
      );
      return reply;
    }

    const needed = roleFor[access];
    if (!principal.role || !roleAllows(principal.role, needed)) {
      reply.header('www-authenticate', `${REALM}, error="insufficient_scope"`);
      await sendProblem(reply, request, {
        type: problemType('forbidden'),
        title: 'Role too low',
        status: 403,
        detail: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]} needs the role ${needed}${
          needed === 'admin' ? '' : ' or higher'
        }; token "${principal.name}" has the role ${principal.role}. Ask an administrator for a token with the ${needed} role (hive tokens create --name <name> --role ${needed}).`,
      });
      return reply;
    }
    request.principal = principal;
  });
};

// Not encapsulated (what fastify-plugin does): the hooks and the decorator apply to the whole app.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'hive-auth',
});
export const authPlugin = plugin;
