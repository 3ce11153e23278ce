import { Command } from 'commander';
import { registerMcpCommand } from '../mcp/command.js';
import { registerCellCommands } from './cells.js';
import { registerHostCommands } from './hosts.js';
import { registerInitCommand } from './init/command.js';
import { reportError } from './output.js';
import { registerServiceCommands } from './service.js';
import { registerTemplateCommands } from './templates.js';
import { registerTokenCommands } from './tokens.js';
import { registerWorkspaceCommands } from './workspaces.js';

const program = new Command('hive').description('Hive cells: durable provisioning of agent cells');

// Running Hive (up, api, worker, setup, schema) and its tokens: src/cli/service.ts, tokens.ts.
registerServiceCommands(program);
registerTokenCommands(program);
// The commands people and agents use, over the HTTP API (src/cli/cells.ts, templates.ts,
// workspaces.ts, hosts.ts),
// and init.
registerCellCommands(program);
registerTemplateCommands(program);
registerWorkspaceCommands(program);
registerHostCommands(program);
registerInitCommand(program);
registerMcpCommand(program);

program.parseAsync().catch((error: unknown) => {
  reportError(error);
  process.exit(process.exitCode ?? 1);
});
