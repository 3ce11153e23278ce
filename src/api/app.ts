import { fastifySSE } from '@fastify/sse';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyServerOptions } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { authPlugin } from '../auth/plugin.js';
import type { ApiDeps } from './deps.js';
import { diskFullProblem, isDiskFull } from './disk.js';
import { registerJsonBody } from './jsonBody.js';
import { problemFromError, problemType, sendProblem } from './problem.js';
import { aboutRoutes } from './routes/about.js';
import { cellActionRoutes } from './routes/cellActions.js';
import { cellFileRoutes } from './routes/cellFiles.js';
import { cellRoutes } from './routes/cells.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { hostRoutes } from './routes/hosts.js';
import { mcpRoutes } from './routes/mcp.js';
import { templateRoutes } from './routes/templates.js';
import { workspaceRoutes } from './routes/workspaces.js';

/** Requests are small JSON documents; anything larger is a mistake, not a cell request. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface BuildAppOptions {
  logger?: FastifyServerOptions['logger'];
}

/** Builds the HTTP API. Listening is the caller's job, so tests can use app.inject(). */
export async function buildApp(deps: ApiDeps, options: BuildAppOptions = {}) {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
  }).withTypeProvider<ZodTypeProvider>();
  // JSON only: a text/plain body is refused with 415 instead of reaching validation as a string.
  app.removeContentTypeParser(['text/plain']);
  registerJsonBody(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    // A write that failed for lack of space is the disk's state, not a bug: 503, naming it.
    const problem = isDiskFull(error) ? diskFullProblem(deps.dataDir) : problemFromError(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, request, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, {
      type: problemType('not-found'),
      title: 'Not found',
      status: 404,
      detail: `No route ${request.method} ${request.url.split('?')[0]}. The API is described at /docs.`,
    }),
  );

  // Before any route: every route registered after it is authenticated and documented by access.
  await app.register(authPlugin, { db: deps.db, host: deps.host ?? '127.0.0.1' });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Hive cells',
        description: 'Durable provisioning of isolated agent cells',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An API token (hive_…) from `hive tokens create --name <name> --role viewer|operator|admin`',
          },
        },
      },
      security: [{ bearerAuth: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // The docs (UI and the OpenAPI document) are public, like /healthz.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public' };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });

  await app.register(fastifySSE, { heartbeatInterval: 15_000 });
  await app.register(healthRoutes(deps));
  await app.register(workspaceRoutes(deps));
  await app.register(templateRoutes(deps));
  await app.register(cellRoutes(deps));
  await app.register(cellActionRoutes(deps));
  await app.register(eventRoutes(deps));
  await app.register(aboutRoutes(deps));
  await app.register(dashboardRoutes());
  await app.register(cellFileRoutes(deps));
  await app.register(hostRoutes(deps));
  await app.register(mcpRoutes());
  return app;
}

export type HiveApp = Awaited<ReturnType<typeof buildApp>>;
