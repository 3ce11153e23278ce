import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, type HiveConfig, loadConfig } from '../config/env.js';
import { packageRoot } from '../config/paths.js';
import type { StackParts } from '../runtime/stack.js';
import { jsonSchemaFile as JSON_SCHEMA_FILE } from '../templates/schema.js';

// The commands that run Hive itself (up, api, worker, setup, schema). What they need — the whole
// server, Prisma, Temporal — is imported when one of them runs, so the commands people and agents
// use every day (cells, templates) start fast.

export const log = (line: string) => process.stdout.write(`${line}\n`);

export function configOrExit(): HiveConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hive: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Runs parts of the stack until SIGINT/SIGTERM, then stops them all (no orphan processes). */
async function serve(parts: StackParts): Promise<void> {
  const config = configOrExit();
  const { startStack } = await import('../runtime/stack.js');
  const stack = await startStack(config, parts, log).catch((error: unknown) => {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`hive: ${error.message}\n`);
    process.exit(2);
  });
  // Said once: whether this host enforces cells' resources (src/cgroups), or why not.
  const limits = parts.worker ? await (await import('../cgroups/notice.js')).cgroupNotice() : undefined;
  const lines = [
    'Hive cells is up',
    stack.apiUrl && `  API          ${stack.apiUrl}`,
    stack.apiUrl && `  API docs     ${stack.apiUrl}/docs`,
    stack.proxyUrl && `  Cells        ${stack.proxyUrl} (Hive's proxy; docs/proxy.md)`,
    stack.temporalUiUrl && `  Temporal UI  ${stack.temporalUiUrl}`,
    `  Temporal     ${stack.temporalAddress} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`,
    parts.worker &&
      `  Host         ${config.hostId} (task queue ${config.temporal.taskQueue}@${config.hostId})`,
    limits && `  Limits       ${limits}`,
    `  Data         ${config.dataDir}`,
    `  Workspaces   ${stack.workspaces.map((w) => `${w.id}=${w.path}`).join(', ') || '(none: hive workspaces add <id> <path>, or HIVE_WORKSPACES)'}`,
  ];
  log(lines.filter(Boolean).join('\n'));
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down…`);
    // Cells' services are not Hive's to end on the way out: they keep running, unsupervised until
    // Hive is back (it adopts them then). Say so, and how to end them, rather than "stopped".
    const live = await stack.liveCells().catch(() => []);
    await stack.stop();
    log('stopped Hive (API, worker, Temporal)');
    if (live.length > 0) {
      const services = live.reduce((n, c) => n + c.services, 0);
      log(
        [
          `${live.length} cell${live.length === 1 ? '' : 's'} keep${live.length === 1 ? 's' : ''} running ${services} service${services === 1 ? '' : 's'}, unsupervised until Hive starts again (it adopts them then):`,
          ...live.map((c) => `  ${c.id} (${c.services} service${c.services === 1 ? '' : 's'})`),
          'To end them: start Hive again and archive them (hive cells archive <id>), or stop them there',
          '(hive cells stop <id> <service>).',
        ].join('\n'),
      );
    }
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** `hive up|api|worker|setup|schema`. */
export function registerServiceCommands(program: Command): void {
  program
    .command('up')
    .description('API + worker + embedded Temporal dev server (with Web UI) + SQLite, in one process')
    .action(() => serve({ api: true, worker: true, embeddedTemporal: true }));

  program
    .command('api')
    .description('Only the HTTP API (Temporal at TEMPORAL_ADDRESS)')
    .action(() => serve({ api: true, worker: false, embeddedTemporal: false }));

  program
    .command('worker')
    .description('Only the Temporal worker (Temporal at TEMPORAL_ADDRESS): one host of several')
    .option('--host <id>', "This host's id (HIVE_HOST_ID; default: the machine's name)")
    .action((options: { host?: string }) => {
      // One setting, one source: the flag is HIVE_HOST_ID, validated with the rest of the config.
      if (options.host) process.env.HIVE_HOST_ID = options.host;
      return serve({ api: false, worker: true, embeddedTemporal: false });
    });

  program
    .command('setup')
    .description(
      'Install what the service needs: the Temporal CLI (built with Go if missing) and the database',
    )
    .option('--no-db', 'skip database migrations')
    .option(
      '--temporal-server',
      'also the production Temporal server and temporal-sql-tool (built with Go if missing; several hosts)',
    )
    .action(async (options: { db: boolean; temporalServer?: boolean }) => {
      const config = configOrExit();
      const { ensureTemporalCli } = await import('../temporal/cli.js');
      const cli = await ensureTemporalCli(config.temporal.cliPath, log);
      log(
        cli ? `Temporal CLI: ${cli.path} (${cli.source})` : 'Temporal CLI: none (the SDK will download one)',
      );
      if (options.temporalServer) {
        const { ensureTemporalServer } = await import('../temporal/productionServer.js');
        const server = await ensureTemporalServer(log).catch((error: Error) => {
          process.stderr.write(`hive: ${error.message}\n`);
          process.exit(1);
        });
        log(`Temporal server: ${server.server}, ${server.sqlTool} (${server.source})`);
      }
      if (options.db) {
        const { applyMigrations, redact } = await import('../db/migrate.js');
        await applyMigrations(config.databaseUrl);
        log(`Database: ${redact(config.databaseUrl)} migrated`);
      }
    });

  program
    .command('schema')
    .description('Print the JSON Schema of hive.config.json (or write it with --write)')
    .option('--write', `write ${JSON_SCHEMA_FILE}`)
    .action(async (options: { write?: boolean }) => {
      const { hiveConfigJsonSchema } = await import('../templates/schema.js');
      const text = `${JSON.stringify(hiveConfigJsonSchema(), null, 2)}\n`;
      if (!options.write) return void process.stdout.write(text);
      await writeFile(path.join(packageRoot, JSON_SCHEMA_FILE), text);
      log(`wrote ${JSON_SCHEMA_FILE}`);
    });
}
