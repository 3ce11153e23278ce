import path from 'node:path';
import { type PruneLimits, pruneDependencyCache } from '../cache/dependencies.js';
import { ErrorType, Step } from '../cells/catalog.js';
import { writeCellFile } from '../cells/containedFiles.js';
import { dotenvLine } from '../cells/envFile.js';
import type { AllocatedPort, CellEnvironment, CellPlan } from '../cells/plan.js';
import type { ProxyAddress } from '../proxy/names.js';
import { readLogText, runCommands } from './commands.js';
import { databaseEnv, dropCellDatabases, provideDatabases } from './databases.js';
import { provideDependencies } from './dependencies.js';
import { permanent } from './failures.js';
import { fingerprintOf, runOnce } from './markers.js';
import { envName, resolveEnvironment, revealSecrets, secretRefs } from './resolveEnvironment.js';
import { heartbeat, type StepRecorder, warn } from './steps.js';
import { CELL_META_DIR, metaPath } from './worktree.js';

export interface EnvironmentDeps {
  steps: StepRecorder;
  /** Bound on each setup and teardown command (and each dependency install). */
  setupTimeoutMs: number;
  /** How far a workspace's dependency cache is pruned after an entry is added. */
  dependencyCache: PruneLimits;
  /** The cells' proxy: each service's stable `<SVC>_PUBLIC_URL` (src/proxy). */
  publicUrls?: ProxyAddress;
}

/** One command run of the environment step, and how it fails. */
interface StepCommands {
  /** Names its log (`.hive/logs/<name>.log`) and its spawn note (`.hive/<name>.pid`). */
  name: string;
  commands: string[];
  env: Record<string, string>;
  redact: (text: string) => string;
  /** What runs, as a failure message starts: "setup command", "dependency install"… */
  what: string;
  type: ErrorType;
  /** How to find out why, given the log file. */
  hint: (logFile: string) => string;
  onCommand?: (command: string, index: number) => Promise<void>;
}

/**
 * Runs commands of the environment step in the worktree: bounded by the setup timeout, logged,
 * heartbeating, and failing permanently with the log's tail and a hint (a retry runs them again
 * once the cause is fixed).
 */
function runStepCommands(plan: CellPlan, timeoutMs: number, run: StepCommands): Promise<void> {
  const logFile = metaPath(plan, 'logs', `${run.name}.log`);
  return runCommands({
    commands: run.commands,
    cwd: plan.worktreePath,
    env: run.env,
    redact: run.redact,
    spawnNote: metaPath(plan, `${run.name}.pid`),
    logFile,
    timeoutMs,
    onTick: heartbeat,
    onCommand: run.onCommand,
    failure: (command, result) =>
      permanent(
        run.type,
        result.timedOut
          ? `${run.what} timed out after ${timeoutMs} ms: ${command}`
          : `${run.what} exited with code ${result.exitCode}: ${command}`,
        { hint: run.hint(logFile), logTail: result.logTail },
      ),
  });
}

export function createEnvironmentActivities({
  steps,
  setupTimeoutMs,
  dependencyCache,
  publicUrls,
}: EnvironmentDeps) {
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
          const resolved = resolveEnvironment(plan, ports, publicUrls);
          const secrets = await revealSecrets(plan, secretRefs(resolved));
          const envFile = metaPath(plan, 'env');
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
          const report = (operation: string) =>
            steps.reportOperation(plan.cellId, Step.environment, operation);
          const byHand = (logFile: string) =>
            `Run it by hand in ${plan.worktreePath} to see why; full log: ${logFile}`;
          // Dependencies before setup: setup commands may use what they provide.
          const dependencies = await provideDependencies({
            plan,
            report,
            install: (command) =>
              runStepCommands(plan, setupTimeoutMs, {
                name: 'dependencies',
                commands: [command],
                env: commandEnv,
                redact: secrets.redact,
                what: 'dependency install',
                type: ErrorType.DependencyInstallFailed,
                hint: (log) => `${byHand(log)}. Nothing was added to the cache.`,
              }),
          });
          // Databases after dependencies (a seed may run the project's own migration tool).
          const databases = await provideDatabases({
            plan,
            report,
            seed: (database, target, commands) =>
              runStepCommands(plan, setupTimeoutMs, {
                name: `seed-${database.name}`,
                commands,
                // The seed builds the template database: every variable of this database points there.
                env: {
                  ...commandEnv,
                  ...databaseEnv(target, envName(database.name), database === plan.databases?.[0]),
                },
                redact: secrets.redact,
                what: `seed of database ${database.name}`,
                type: ErrorType.DatabaseSeedFailed,
                hint: (log) =>
                  `Fix the seed (full log: ${log}); the half-built template database was dropped.`,
              }),
          });
          if (dependencies.some((d) => d.source === 'installed')) {
            await pruneDependencyCache(plan.workspacePath, dependencyCache).catch((error: unknown) =>
              warn('dependency cache prune failed', { error: String(error) }),
            );
          }
          await runOnce(metaPath(plan, 'setup.done'), fingerprintOf([resolved.setup, resolved.env]), () =>
            runStepCommands(plan, setupTimeoutMs, {
              name: 'setup',
              commands: resolved.setup,
              env: commandEnv,
              redact: secrets.redact,
              what: 'setup command',
              type: ErrorType.SetupFailed,
              hint: byHand,
              onCommand: (command, i) => report(`setup ${i + 1}/${plan.setup.length}: ${command}`),
            }),
          );
          const setupLog = await readLogText(metaPath(plan, 'logs', 'setup.log'));
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
