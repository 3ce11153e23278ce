import type { Command } from 'commander';
import { clientOf, withConnection } from '../cli/connection.js';

/**
 * `hive mcp`: Hive's MCP server on stdin/stdout, for agent runners that start their MCP servers as
 * processes (Claude Code, Cursor, VS Code …). It talks to a running Hive over its HTTP API
 * (--url/HIVE_URL, --token/HIVE_TOKEN); stdout carries only the protocol, messages go to stderr.
 */
export function registerMcpCommand(program: Command): void {
  withConnection(
    program
      .command('mcp')
      .description("Serve Hive's tools to an agent runner over MCP (stdio); see docs/handoff.md"),
  ).action(async (_options: unknown, command: Command) => {
    // The MCP SDK is loaded for this command only, not for every `hive` command.
    const [{ StdioServerTransport }, { createHiveMcpServer }] = await Promise.all([
      import('@modelcontextprotocol/sdk/server/stdio.js'),
      import('./server.js'),
    ]);
    const hive = clientOf(command);
    const server = createHiveMcpServer(hive);
    const transport = new StdioServerTransport();
    // The runner closing our stdin is the end of the session.
    process.stdin.once('end', () => void server.close().finally(() => process.exit(0)));
    await server.connect(transport);
    process.stderr.write(`hive mcp: serving Hive at ${hive.url} over stdio\n`);
  });
}
