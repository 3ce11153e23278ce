import { createHash } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { Db } from '../db/client.js';
import { resolvePlaceholders } from '../templates/placeholders.js';
import type { AllocatedPort, CellPlan, PreparedEnvironment } from '../workflows/types.js';
import { runCommand } from './commands.js';
import { permanent, tail } from './failures.js';
import { reportOperation, withStep } from './steps.js';
import { CELL_META_DIR } from './worktree.js';

export interface EnvironmentDeps {
  db: Db;
  /** Bound on each setup command. */
  setupTimeoutMs: number;
}

const envName = (service: string) => service.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** dotenv quoting: values with spaces, quotes or `#` are double-quoted with escapes. */
function dotenvLine(key: string, value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? `${key}=${value}` : `${key}=${JSON.stringify(value)}`;
}

/** Resolves every placeholder of the plan against the allocated ports and option values. */
export function resolveEnvironment(
  plan: CellPlan,
  ports: AllocatedPort[],
): Omit<PreparedEnvironment, 'envFile'> {
  const portOf = (service: string, name?: string) => {
    const svc = plan.services.find((s) => s.name === service);
    const wanted = name ?? svc?.primaryPort;
    return ports.find((p) => p.service === service && p.name === wanted)?.port;
  };
  const values = (self?: string) => ({
    self,
    port: portOf,
    option: (name: string) => plan.options[name],
  });
  const env: Record<string, string> = {
    HIVE_CELL_ID: plan.cellId,
    HIVE_CELL_DIR: plan.worktreePath,
    HIVE_WORKSPACE_DIR: plan.workspacePath,
    HIVE_BRANCH: plan.branch,
  };
  for (const service of plan.services) {
    const primary = portOf(service.name);
    if (primary === undefined) continue;
    env[`${envName(service.name)}_PORT`] = String(primary);
    env[`${envName(service.name)}_URL`] = `http://127.0.0.1:${primary}`;
    for (const p of ports.filter((x) => x.service === service.name && x.name !== service.primaryPort)) {
      env[`${envName(service.name)}_${envName(p.name)}_PORT`] = String(p.port);
    }
  }
  for (const [key, value] of Object.entries(plan.env)) env[key] = resolvePlaceholders(value, values());
  const services: PreparedEnvironment['services'] = {};
  for (const service of plan.services) {
    const own: Record<string, string> = { ...env };
    const primary = portOf(service.name);
    // Many servers read PORT; set it to the service's own primary port.
    if (primary !== undefined) own.PORT = String(primary);
    for (const [key, value] of Object.entries(service.env))
      own[key] = resolvePlaceholders(value, values(service.name));
    services[service.name] = {
      env: own,
      run: resolvePlaceholders(service.run, values(service.name)),
      setup: service.setup.map((cmd) => resolvePlaceholders(cmd, values(service.name))),
    };
  }
  return { env, services };
}

export function createEnvironmentActivities({ db, setupTimeoutMs }: EnvironmentDeps) {
  return {
    /**
     * Step 4: resolve the environment, write it to `.hive/env`, and run the template's setup commands
     * in the worktree. Idempotent: setup is skipped when it already succeeded with the same commands
     * and environment.
     */
    async prepareEnvironment({
      plan,
      ports,
    }: {
      plan: CellPlan;
      ports: AllocatedPort[];
    }): Promise<PreparedEnvironment> {
      return withStep(
        db,
        { cellId: plan.cellId, name: 'environment' },
        async () => {
          const resolved = resolveEnvironment(plan, ports);
          const meta = path.join(plan.worktreePath, CELL_META_DIR);
          const envFile = path.join(meta, 'env');
          await writeFile(
            envFile,
            `${Object.entries(resolved.env)
              .map(([k, v]) => dotenvLine(k, v))
              .join('\n')}\n`,
          );
          const fingerprint = createHash('sha256')
            .update(JSON.stringify([plan.setup, resolved.env]))
            .digest('hex');
          const marker = path.join(meta, 'setup.done');
          if ((await readFile(marker, 'utf8').catch(() => '')) !== fingerprint) {
            const logFile = path.join(meta, 'logs', 'setup.log');
            for (const [i, command] of plan.setup.entries()) {
              await reportOperation(
                db,
                plan.cellId,
                'environment',
                `setup ${i + 1}/${plan.setup.length}: ${command}`,
              );
              await appendFile(logFile, `$ ${command}\n`);
              const result = await runCommand({
                command,
                cwd: plan.worktreePath,
                env: resolved.env,
                logFile,
                timeoutMs: setupTimeoutMs,
                onTick: () => Context.current().heartbeat({ command }),
              });
              if (result.exitCode !== 0) {
                throw permanent(
                  'SetupFailed',
                  result.timedOut
                    ? `setup command timed out after ${setupTimeoutMs} ms: ${command}`
                    : `setup command exited with code ${result.exitCode}: ${command}`,
                  {
                    hint: `Run it by hand in ${plan.worktreePath} to see why; full log: ${logFile}`,
                    logTail: result.logTail,
                  },
                );
              }
            }
            await writeFile(marker, fingerprint);
          }
          const setupLog = await readFile(path.join(meta, 'logs', 'setup.log'), 'utf8').catch(() => '');
          return { ...resolved, envFile, setupLogTail: tail(setupLog) };
        },
        // The step record carries the setup output too, not only the log file.
        ({ envFile, env, setupLogTail }) => ({ envFile, variables: Object.keys(env).length, setupLogTail }),
      );
    },
  };
}
