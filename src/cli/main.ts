import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { CREATE_TOKEN_HINT } from '../auth/binding.js';
import {
  createToken,
  listTokens,
  parseDuration,
  type Role,
  revokeToken,
  roles,
  TokenError,
} from '../auth/tokens.js';
import { ConfigError, type HiveConfig, loadConfig } from '../config/env.js';
import { packageRoot } from '../config/paths.js';
import { createDb, type Db } from '../db/client.js';
import { applyMigrations } from '../db/migrate.js';
import { type StackParts, startStack } from '../runtime/stack.js';
import { hiveConfigJsonSchema, jsonSchemaFile } from '../templates/schema.js';
import { ensureTemporalCli } from '../temporal/cli.js';

const log = (line: string) => process.stdout.write(`${line}\n`);

function configOrExit(): HiveConfig {
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
  const stack = await startStack(config, parts, log).catch((error: unknown) => {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`hive: ${error.message}\n`);
    process.exit(2);
  });
  const lines = [
    'Hive cells is up',
    stack.apiUrl && `  API          ${stack.apiUrl}`,
    stack.apiUrl && `  API docs     ${stack.apiUrl}/docs`,
    stack.temporalUiUrl && `  Temporal UI  ${stack.temporalUiUrl}`,
    `  Temporal     ${stack.temporalAddress} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`,
    `  Data         ${config.dataDir}`,
    `  Workspaces   ${config.workspaces.map((w) => `${w.id}=${w.path}`).join(', ') || '(none: set HIVE_WORKSPACES)'}`,
  ];
  log(lines.filter(Boolean).join('\n'));
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down…`);
    await stack.stop();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

const program = new Command('hive').description('Hive cells: durable provisioning of agent cells');

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
  .description('Only the Temporal worker (Temporal at TEMPORAL_ADDRESS)')
  .action(() => serve({ api: false, worker: true, embeddedTemporal: false }));

program
  .command('setup')
  .description('Install what the service needs: the Temporal CLI (built with Go if missing) and the database')
  .option('--no-db', 'skip database migrations')
  .action(async (options: { db: boolean }) => {
    const config = configOrExit();
    const cli = await ensureTemporalCli(config.temporal.cliPath, log);
    log(cli ? `Temporal CLI: ${cli.path} (${cli.source})` : 'Temporal CLI: none (the SDK will download one)');
    if (options.db) {
      await applyMigrations(config.databaseUrl);
      log(`Database: ${config.databaseUrl} migrated`);
    }
  });

program
  .command('schema')
  .description('Print the JSON Schema of hive.config.json (or write it with --write)')
  .option('--write', `write ${jsonSchemaFile}`)
  .action(async (options: { write?: boolean }) => {
    const text = `${JSON.stringify(hiveConfigJsonSchema(), null, 2)}\n`;
    if (!options.write) return void process.stdout.write(text);
    await writeFile(path.join(packageRoot, jsonSchemaFile), text);
    log(`wrote ${jsonSchemaFile}`);
  });

/** Runs `fn` on the service's database (migrated first), which `hive up` may be using meanwhile. */
async function withDb(fn: (db: Db, config: HiveConfig) => Promise<void>): Promise<void> {
  const config = configOrExit();
  await applyMigrations(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  try {
    await fn(db, config);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    process.stderr.write(`hive: ${error.message}\n`);
    process.exitCode = 2;
  } finally {
    await db.$disconnect();
  }
}

const when = (date: Date | null) => (date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

const tokens = program
  .command('tokens')
  .description(`API tokens: the API requires one as soon as one exists (${CREATE_TOKEN_HINT})`);

tokens
  .command('create')
  .description('Create a token and print its secret, once (only its SHA-256 is stored)')
  .requiredOption('--name <name>', 'unique name; actions done with the token are recorded under it')
  .addOption(new Option('--role <role>', 'what it may do').choices(roles).makeOptionMandatory())
  .option('--workspace <id...>', 'limit it to these workspaces (default: every workspace)')
  .option('--expires-in <duration>', 'lifetime, e.g. 30d, 12h, 2w (default: no expiry)')
  .action((options: { name: string; role: Role; workspace?: string[]; expiresIn?: string }) =>
    withDb(async (db, config) => {
      const known = config.workspaces.map((w) => w.id);
      const unknown = (options.workspace ?? []).filter((id) => !known.includes(id));
      if (unknown.length) {
        throw new TokenError(
          `unknown workspace ${unknown.map((id) => `"${id}"`).join(', ')}: use one of ${known.join(', ') || '(none: set HIVE_WORKSPACES)'}`,
        );
      }
      const { secret, token } = await createToken(db, {
        name: options.name,
        role: options.role,
        workspaces: options.workspace,
        expiresInMs: options.expiresIn ? parseDuration(options.expiresIn) : undefined,
      });
      // The secret alone on stdout (SECRET=$(hive tokens create …)); the explanation on stderr.
      process.stderr.write(
        [
          `Token "${token.name}" created: role ${token.role}, workspaces ${token.workspaces.join(', ') || 'all'}, expires ${when(token.expiresAt)}.`,
          'Its secret is shown this once and cannot be recovered; send it as "Authorization: Bearer <secret>":',
          '',
        ].join('\n'),
      );
      log(secret);
    }),
  );

tokens
  .command('ls')
  .description('List tokens (never their secrets)')
  .action(() =>
    withDb(async (db) => {
      const rows = (await listTokens(db)).map((t) => [
        t.name,
        t.role,
        t.workspaces.join(',') || 'all',
        t.state,
        when(t.createdAt),
        when(t.expiresAt),
        when(t.lastUsedAt),
      ]);
      if (rows.length === 0) {
        log(`No tokens: the API is open to anonymous callers on loopback only. ${CREATE_TOKEN_HINT}`);
        return;
      }
      const table = [['NAME', 'ROLE', 'WORKSPACES', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED'], ...rows];
      const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
      for (const row of table)
        log(
          row
            .map((cell, i) => cell.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd(),
        );
    }),
  );

tokens
  .command('revoke <name>')
  .description('Revoke a token: requests with it are refused from now on')
  .action((name: string) =>
    withDb(async (db) => {
      log(
        (await revokeToken(db, name)) ? `Token "${name}" revoked.` : `Token "${name}" was already revoked.`,
      );
    }),
  );

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`hive: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
