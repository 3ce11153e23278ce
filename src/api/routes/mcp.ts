import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { createHiveClient } from '../../client/index.js';
import { createHiveMcpServer } from '../../mcp/server.js';
import { problemType, sendProblem } from '../problem.js';

/**
 * Where this API can reach itself: the address it listens on (a wildcard one through loopback).
 * Undefined while it is not listening (app.inject in tests), when /mcp cannot serve.
 */
function selfUrl(app: FastifyInstance): string | undefined {
  const address = app.server.address() as AddressInfo | string | null;
  if (!address || typeof address === 'string') return undefined;
  const host =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/**
 * `/mcp`: Hive's MCP tools (src/mcp/server.ts) over streamable HTTP, stateless — each POST is one
 * JSON-RPC exchange with a server of its own, answered as JSON or, while a tool reports progress
 * (wait_for_cell), as an event stream. The tools call this same API over loopback HTTP with the
 * caller's own bearer token, so every tool call is authorized, scoped and recorded (`by`) exactly
 * like the route it uses, and waits stream events as they happen. Reaching /mcp needs the viewer
 * role (reads); what a tool changes needs what its route needs (a viewer's create_cell gets 403).
 * Not in the OpenAPI document: it is JSON-RPC, described by the tools themselves (tools/list).
 */
export function mcpRoutes(): FastifyPluginAsync {
  return async (app) => {
    app.route({
      method: ['GET', 'DELETE'],
      url: '/mcp',
      config: { access: 'read' },
      schema: { hide: true },
      // Stateless: no session to resume (GET) or end (DELETE).
      handler: (_request, reply) =>
        reply
          .code(405)
          .header('allow', 'POST')
          .send({
            jsonrpc: '2.0',
            error: { code: -32000, message: 'Method not allowed: this MCP endpoint is stateless; POST only' },
            id: null,
          }),
    });

    app.post('/mcp', { config: { access: 'read' }, schema: { hide: true } }, async (request, reply) => {
      const url = selfUrl(app);
      if (!url) {
        return sendProblem(reply, request, {
          type: problemType('not-listening'),
          title: 'MCP needs a listening API',
          status: 503,
          detail: 'The MCP tools call this API over HTTP, and it is not listening on a port.',
        });
      }
      const bearer = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1];
      const server = createHiveMcpServer(createHiveClient({ url, token: bearer }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      reply.hijack();
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    });
  };
}
