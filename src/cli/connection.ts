import type { Command } from 'commander';
import { createHiveClient, DEFAULT_HIVE_URL, type HiveClient } from '../client/index.js';

// Which Hive a command talks to: --url/--token, else HIVE_URL/HIVE_TOKEN, else the local default.

/** Adds --url and --token to a command group; its subcommands read them with `clientOf`. */
export function withConnection(command: Command): Command {
  return command
    .option('--url <url>', `Hive's API (env HIVE_URL, default ${DEFAULT_HIVE_URL})`)
    .option('--token <token>', 'API token, when the API requires one (env HIVE_TOKEN)');
}

export function clientOf(command: Command): HiveClient {
  const options = command.optsWithGlobals<{ url?: string; token?: string }>();
  return createHiveClient({
    url: options.url ?? process.env.HIVE_URL ?? DEFAULT_HIVE_URL,
    token: options.token ?? (process.env.HIVE_TOKEN || undefined),
  });
}

/** Runs an action with the client of its command; errors reach main's reporter. */
export const act =
  <A extends unknown[]>(fn: (client: HiveClient, ...args: A) => Promise<void>) =>
  async (...args: A) => {
    const command = args.at(-1) as Command;
    await fn(clientOf(command), ...args);
  };
