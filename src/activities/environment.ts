import path from 'node:path';
import { type PruneLimits, pruneDependencyCache } from '../cache/dependencies.js';
import { ErrorType, Step } from '../cells/catalog.js';
import { writeCellFile } from '../cells/containedFiles.js';
import type { AllocatedPort, CellEnvironment, CellPlan, ServicePlan } from '../cells/plan.js';
import { redactor } from '../secrets/redact.js';
import { isSecret, resolveSecrets, SecretUnavailable } from '../secrets/refs.js';
import { optionVariable, resolvePlaceholders } from '../templates/placeholders.js';
import { readLogText, runCommands } from './commands.js';
import { databaseEnv, dropCellDatabases, provideDatabases } from './databases.js';
import { provideDependencies } from './dependencies.js';
import { permanent } from './failures.js';
import { fingerprintOf, runOnce } from './markers.js';
import { heartbeat, type StepRecorder, warn } from './steps.js';
import { CELL_META_DIR, metaPath } from './worktree.js';

export interface EnvironmentDeps {
  steps: StepRecorder;
  /** Bound on each setup and teardown command (and each dependency install). */
  setupTimeoutMs: number;
  /** How far a workspace's dependency cache is pruned after an entry is added. */
  dependencyCache: PruneLimits;
}

/** A service's name as it appears in variable names (WEB_PORT). */
export const envName = (service: string) => service.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/**
 * One line of `.hive/env`. Values come from requests too, so they are single-quoted (a `'` inside
 * written as `'\''`): sourcing the file with `. .hive/env` never expands or runs anything, and
 * dotenv parsers read single-quoted values literally.
 */
export function dotenvLine(key: string, value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? `${key}=${value}` : `${key}='${value.replaceAll("'", "'\\''")}'`;
}

/** The environment one service runs with: the cell's, then what is its own. */
export const serviceEnvironment = (env: CellEnvironment, service: string): Record<string, string> => ({
  ...env.env,
  ...env.services[service]?.env,
});

/** Secret references a process of the cell gets (a service's own on top of the cell's). */
export const secretRefs = (
  env: Pick<CellEnvironment, 'secrets' | 'services'>,
  service?: string,
): Record<string, string> => ({
  ...env.secrets,
  ...(service ? env.services[service]?.secrets : {}),
});

/**
 * Secret values, resolved where a process is about to start, and a redactor for what that process
 * writes. A reference that does not resolve fails the step with a hint (no process starts without
 * its secrets).
 */
export async function revealSecrets(plan: CellPlan, refs: Record<string, string>) {
  try {
    const values = await resolveSecrets(refs, { workspacePath: plan.workspacePath });
    return { values, redact: redactor(values) };
  } catch (error) {
    if (!(error instanceof SecretUnavailable)) throw error;
    throw permanent(ErrorType.SecretUnavailable, error.message, { hint: error.hint });
  }
}

/** Where a service's commands run: its `cwd`, relative to the worktree. */
export const serviceDir = (plan: CellPlan, service: ServicePlan) =>
  path.resolve(plan.worktreePath, service.cwd ?? '.');

/** Resolves every placeholder of the plan against the allocated ports and option values. */
export function resolveEnvironment(plan: CellPlan, ports: AllocatedPort[]): Omit<CellEnvironment, 'envFile'> {
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
  const command = (text: string, self?: string) => resolvePlaceholders(text, values(self), 'command');
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
  // Each database by its name; the first also as DATABASE_URL and libpq's PG* variables.
  for (const [i, database] of (plan.databases ?? []).entries()) {
    Object.assign(env, databaseEnv(database, envName(database.name), i === 0));
  }
  // Option values reach commands only through these variables (see templates/placeholders.ts).
  for (const [name, value] of Object.entries(plan.options)) env[optionVariable(name)] = String(value);
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(plan.env)) {
    if (isSecret(value)) secrets[key] = value.secret;
    else env[key] = resolvePlaceholders(value, values());
  }
  const services: CellEnvironment['services'] = {};
  for (const service of plan.services) {
    // Only what differs from the cell-wide env, so history does not carry it once per service.
    const own: Record<string, string> = {};
    const primary = portOf(service.name);
    // Many servers read PORT; set it to the service's own primary port.
    if (primary !== undefined) own.PORT = String(primary);
    const ownSecrets: Record<string, string> = {};
    for (const [key, value] of Object.entries(service.env)) {
      if (isSecret(value)) ownSecrets[key] = value.secret;
      else own[key] = resolvePlaceholders(value, values(service.name));
    }
    services[service.name] = {
      env: own,
      ...(Object.keys(ownSecrets).length ? { secrets: ownSecrets } : {}),
      run: command(service.run, service.name),
      setup: service.setup.map((cmd) => command(cmd, service.name)),
      stop: service.stop === undefined ? undefined : command(service.stop, service.name),
    };
  }
  return {
    env,
    ...(Object.keys(secrets).length ? { secrets } : {}),
    services,
    setup: plan.setup.map((cmd) => command(cmd)),
    teardown: plan.teardown.map((cmd) => command(cmd)),
  };
}

export function createEnvironmentActivities({ steps, setupTimeoutMs, dependencyCache }: EnvironmentDeps) {
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
    }): Promise<CellEnvironment> {
      return steps.withStep(
        { cellId: plan.cellId, name: Step.environment },
        async () => {
          const resolved = resolveEnvironment(plan, ports);
          const secrets = await revealSecrets(plan, secretRefs(resolved));
          const envFile = metaPath(plan, 'env');
          const logFile = metaPath(plan, 'logs', 'setup.log');
          // The agent sources this file, secrets included: readable by Hive's user only.
          // Written without following a link an agent may have put in its place (a retry rewrites it).
          await writeCellFile(
            envFile,
            `${Object.entries({ ...resolved.env, ...secrets.values })
              .map(([k, v]) => dotenvLine(k, v))
              .join('\n')}\n`,
            0o600,
          );
          const commandEnv = { ...resolved.env, ...secrets.values };
          // Dependencies before setup: setup commands may use what they provide.
          const dependencies = await provideDependencies({
            plan,
            report: (operation) => steps.reportOperation(plan.cellId, Step.environment, operation),
            install: (command) =>
              runCommands({
                commands: [command],
                cwd: plan.worktreePath,
                env: commandEnv,
                redact: secrets.redact,
                spawnNote: metaPath(plan, 'dependencies.pid'),
                logFile: metaPath(plan, 'logs', 'dependencies.log'),
                timeoutMs: setupTimeoutMs,
                onTick: heartbeat,
                failure: (failed, result) =>
                  permanent(
                    ErrorType.DependencyInstallFailed,
                    result.timedOut
                      ? `dependency install timed out after ${setupTimeoutMs} ms: ${failed}`
                      : `dependency install exited with code ${result.exitCode}: ${failed}`,
                    {
                      hint: `Run it by hand in ${plan.worktreePath} to see why; full log: ${metaPath(plan, 'logs', 'dependencies.log')}. Nothing was added to the cache.`,
                      logTail: result.logTail,
                    },
                  ),
              }),
          });
          // Databases after dependencies (a seed may run the project's own migration tool).
          const databases = await provideDatabases({
            plan,
            report: (operation) => steps.reportOperation(plan.cellId, Step.environment, operation),
            seed: (database, target, commands) =>
              runCommands({
                commands,
                cwd: plan.worktreePath,
                // The seed builds the template database: every variable of this database points there.
                env: {
                  ...commandEnv,
                  ...databaseEnv(target, envName(database.name), database === plan.databases?.[0]),
                },
                redact: secrets.redact,
                spawnNote: metaPath(plan, `seed-${database.name}.pid`),
                logFile: metaPath(plan, 'logs', `seed-${database.name}.log`),
                timeoutMs: setupTimeoutMs,
                onTick: heartbeat,
                failure: (failed, result) =>
                  permanent(
                    ErrorType.DatabaseSeedFailed,
                    `seed of database ${database.name} exited with code ${result.exitCode}: ${failed}`,
                    {
                      hint: `Fix the seed (full log: ${metaPath(plan, 'logs', `seed-${database.name}.log`)}); the half-built template database was dropped.`,
                      logTail: result.logTail,
                    },
                  ),
              }),
          });
          if (dependencies.some((d) => d.source === 'installed')) {
            await pruneDependencyCache(plan.workspacePath, dependencyCache).catch((error: unknown) =>
              warn('dependency cache prune failed', { error: String(error) }),
            );
          }
          await runOnce(metaPath(plan, 'setup.done'), fingerprintOf([resolved.setup, resolved.env]), () =>
            runCommands({
              commands: resolved.setup,
              cwd: plan.worktreePath,
              env: { ...resolved.env, ...secrets.values },
              redact: secrets.redact,
              spawnNote: metaPath(plan, 'setup.pid'),
              logFile,
              timeoutMs: setupTimeoutMs,
              onTick: heartbeat,
              onCommand: (command, i) =>
                steps.reportOperation(
                  plan.cellId,
                  Step.environment,
                  `setup ${i + 1}/${plan.setup.length}: ${command}`,
                ),
              failure: (command, result) =>
                permanent(
                  ErrorType.SetupFailed,
                  result.timedOut
                    ? `setup command timed out after ${setupTimeoutMs} ms: ${command}`
                    : `setup command exited with code ${result.exitCode}: ${command}`,
                  {
                    hint: `Run it by hand in ${plan.worktreePath} to see why; full log: ${logFile}`,
                    logTail: result.logTail,
                  },
                ),
            }),
          );
          const setupLog = await readLogText(logFile);
          return {
            ...resolved,
            envFile,
            setupLogTail: secrets.redact(setupLog),
            ...(dependencies.length ? { dependencies } : {}),
            ...(databases.length ? { databases } : {}),
          };
        },
        // The step record carries the setup output too, not only the log file.
        ({ envFile, env, setupLogTail, dependencies, databases }) => ({
          envFile,
          variables: Object.keys(env).length,
          setupLogTail,
          ...(dependencies ? { dependencies } : {}),
          ...(databases ? { databases } : {}),
        }),
      );
    },

    /**
     * Compensation of step 4 (and part of archive): the template's teardown commands, with the
     * environment the cell ran with. When the environment step failed before returning it, the
     * same environment is resolved again from the plan and the ports.
     */
    async runTeardown({
      plan,
      ports,
      env,
    }: {
      plan: CellPlan;
      ports: AllocatedPort[];
      env?: CellEnvironment;
    }): Promise<{ commands: number }> {
      return steps.withStep({ cellId: plan.cellId, name: Step.teardown, kind: 'compensation' }, async () => {
        // A cell provisioned before teardown commands were part of the environment resolves them now.
        const resolved = env?.teardown ? env : resolveEnvironment(plan, ports);
        const secrets = await revealSecrets(plan, secretRefs(resolved));
        await runCommands({
          commands: resolved.teardown,
          cwd: plan.worktreePath,
          env: { ...resolved.env, ...secrets.values },
          redact: secrets.redact,
          spawnNote: metaPath(plan, 'teardown.pid'),
          logFile: path.join(plan.worktreePath, CELL_META_DIR, 'logs', 'teardown.log'),
          timeoutMs: setupTimeoutMs,
          failure: (command, result) =>
            permanent(ErrorType.TeardownFailed, `teardown exited with code ${result.exitCode}: ${command}`, {
              logTail: result.logTail,
            }),
        });
        // The cell's databases go with it (after teardown, which may still use them).
        const dropped = await dropCellDatabases(plan);
        return { commands: plan.teardown.length, ...(dropped.length ? { dropped } : {}) };
      });
    },
  };
}
