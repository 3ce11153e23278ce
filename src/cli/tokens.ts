import { type Command, Option } from 'commander';
import { CREATE_TOKEN_HINT, type Role, roles } from '../auth/roles.js';
import type { HiveConfig } from '../config/env.js';
import type { Db } from '../db/client.js';
import { configOrExit, log } from './service.js';

// `hive tokens create|ls|revoke`: on the service's database directly (also while `hive up` runs).
// Prisma is imported when a token command runs, not for every `hive` command.

/** Runs `fn` on the service's database (migrated first), which `hive up` may be using meanwhile. */
async function withDb(fn: (db: Db, config: HiveConfig) => Promise<void>): Promise<void> {
  const config = configOrExit();
  const [{ applyMigrations }, { createDb }, { TokenError }] = await Promise.all([
    import('../db/migrate.js'),
    import('../db/client.js'),
    import('../auth/tokens.js'),
  ]);
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

/** `hive tokens …`. */
export function registerTokenCommands(program: Command): void {
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
        // HIVE_WORKSPACES, and those added while running (stored: src/config/workspaces.ts).
        const stored = (await db.workspace.findMany({ select: { id: true } })).map((w) => w.id);
        const known = [...new Set([...config.workspaces.map((w) => w.id), ...stored])];
        const unknown = (options.workspace ?? []).filter((id) => !known.includes(id));
        const { createToken, parseDuration, TokenError } = await import('../auth/tokens.js');
        if (unknown.length) {
          throw new TokenError(
            `unknown workspace ${unknown.map((id) => `"${id}"`).join(', ')}: use one of ${known.join(', ') || '(none: hive workspaces add <id> <path>)'}`,
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
        const { listTokens } = await import('../auth/tokens.js');
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
        const { revokeToken } = await import('../auth/tokens.js');
        log(
          (await revokeToken(db, name)) ? `Token "${name}" revoked.` : `Token "${name}" was already revoked.`,
        );
      }),
    );
}
