// Small real programs and templates the provisioning tests run.

/** An HTTP server on $PORT answering /health with 200. */
export const httpServer = `const http = require('node:http');
http
  .createServer((req, res) => res.end(req.url === '/health' ? 'ok' : 'hello from ' + process.env.HIVE_CELL_ID))
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
`;

export const webService = {
  run: 'node server.js',
  readiness: { type: 'http', path: '/health', periodMs: 100 },
  readyTimeoutMs: 20_000,
};

export const workspaceFiles = (templates: Record<string, unknown>) => ({
  'hive.config.json': JSON.stringify({ templates }, null, 2),
  'server.js': httpServer,
  '.gitignore': '.env.local\n',
  'prompts/role.md': 'You build small, careful changes. The API is at {{services.0.url}}.\n',
});
