import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorType, PLAN_PARTS, type PlanPart, Step } from '../cells/catalog.js';
import { ArchiveColumn, OptionsColumn, readColumn, TextListColumn } from '../cells/columns.js';
import { recordEvent } from '../cells/events.js';
import type { CellPlan, OptionValues, RestorePoint, ServicePlan } from '../cells/plan.js';
import type { Workspace } from '../config/env.js';
import { databaseTarget } from '../databases/cellDatabases.js';
import { serverPaths } from '../databases/server.js';
import type { Cell, Db } from '../db/client.js';
import { resolveCommit } from '../templates/hostChecks.js';
import type { ConfigLoader } from '../templates/loader.js';
import { enabledServices, portsOf, primaryPortName } from '../templates/model.js';
import type { IdlePolicy, ServiceSpec, Template } from '../templates/schema.js';
import { validateTemplate } from '../templates/validate.js';
import { permanent } from './failures.js';
import { copyIncludedFiles, type IncludeOutcome } from './includes.js';
import { inActivity, type StepRecorder } from './steps.js';

export interface ValidateDeps {
  db: Db;
  steps: StepRecorder;
  workspaces: Workspace[];
  configs: ConfigLoader;
  host: string;
  /** Where the workspaces' database servers keep their data. */
  dataDir: string;
  /** This host's idle policy for templates without their own (HIVE_IDLE_AFTER_MS). */
  idle?: IdlePolicy;
}

/** How long the API's dry run of a request counts as the host checks of its first plan. */
const HOST_CHECKS_FRESH_MS = 10_000;

/** Without a declared bound, a service gets this long to become ready. */
export const DEFAULT_READY_TIMEOUT_MS = 120_000;

function servicePlan(name: string, spec: ServiceSpec, databases: string[]): ServicePlan {
  return {
    name,
    run: spec.run,
    setup: spec.setup,
    cwd: spec.cwd,
    env: spec.env,
    stop: spec.stop,
    ports: portsOf(spec),
    primaryPort: primaryPortName(spec),
    readiness: spec.readiness,
    readyTimeoutMs: spec.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    settleMs: spec.settleMs,
    // Databases are ready before any service starts (the environment step provides them).
    dependsOn: Object.fromEntries(Object.entries(spec.dependsOn).filter(([dep]) => !databases.includes(dep))),
    restart: spec.restart,
    maxRestarts: spec.maxRestarts,
    restartBackoffMs: spec.restartBackoffMs,
  };
}

/** What the plan is made from: the cell's record, its workspace, and the template as validated. */
interface PlanInputs {
  cell: Cell;
  workspace: Workspace;
  template: Template;
  options: OptionValues;
  baseCommit: string;
  restore?: RestorePoint;
}

/** The plan of a cell on this host: pure assembly of what was loaded and validated. */
function assemblePlan(
  { host, dataDir, idle }: Pick<ValidateDeps, 'host' | 'dataDir' | 'idle'>,
  { cell, workspace, template: t, options, baseCommit, restore }: PlanInputs,
): CellPlan {
  const cellId = cell.id;
  return {
    cellId,
    workspaceId: workspace.id,
    workspacePath: workspace.path,
    templateId: t.id,
    host,
    baseRef: cell.baseRef,
    baseCommit,
    branch: `cell/${cellId}`,
    worktreePath: path.join(workspace.path, '.cells', cellId),
    brief: cell.brief,
    constraints: readColumn('Cell.constraints', TextListColumn, cell.constraints),
    successCriteria: readColumn('Cell.successCriteria', TextListColumn, cell.successCriteria),
    options,
    env: t.env,
    setup: t.setup,
    dependencies: t.dependencies,
    teardown: t.teardown,
    prompts: t.prompts,
    includePatterns: t.includePatterns,
    ignorePatterns: t.ignorePatterns,
    resources: { cpu: t.resources.cpu, memoryMb: t.resources.memoryMb },
    // The template's idle policy, else this host's (HIVE_IDLE_AFTER_MS), else none.
    ...((t.idle ?? idle) ? { idle: t.idle ?? idle } : {}),
    services: enabledServices(t, options).map(([name, spec]) =>
      servicePlan(name, spec, Object.keys(t.databases)),
    ),
    databases: Object.entries(t.databases).map(([name, spec]) => {
      const server = serverPaths(dataDir, workspace.id);
      return {
        ...databaseTarget(server, cellId, name),
        serverRoot: server.root,
        seed: spec.seed,
        inputs: spec.inputs,
      };
    }),
    ...(restore ? { restore } : {}),
  } satisfies CellPlan;
}

const baseRefUnknown = (ref: string) =>
  permanent(ErrorType.BaseRefUnknown, `"${ref}" does not name a commit`);

/**
 * The first plan of a cell, made where its request was accepted (issue 23, lever 2): the API of a
 * process that is also this host's worker plans right after its dry run passed, from that dry run's
 * template and options, and records the `validate` step as the activity would. The plan travels in
 * the workflow's input (so it is in the history), and the workflow's first attempt skips its
 * `validate` activity when the cell was placed on this host. A retry or a restore plans again.
 */
export function createFirstPlanner(deps: Pick<ValidateDeps, 'steps' | 'host' | 'dataDir' | 'idle'>) {
  return async (
    cell: Cell,
    workspace: Workspace,
    {
      template,
      options,
      baseCommit: resolved,
    }: { template: Template; options: OptionValues; baseCommit?: string },
  ): Promise<CellPlan> =>
    deps.steps.withStep(
      { cellId: cell.id, name: Step.validate },
      async () => {
        // The dry run resolved the base ref a moment ago: the plan starts from that same commit.
        const baseCommit = resolved ?? (await resolveCommit(workspace.path, cell.baseRef));
        if (!baseCommit) throw baseRefUnknown(cell.baseRef);
        return assemblePlan(deps, { cell, workspace, template, options, baseCommit });
      },
      planSummary,
    );
}

export type FirstPlanner = ReturnType<typeof createFirstPlanner>;

const planSummary = (plan: CellPlan) => ({
  services: plan.services.map((s) => s.name),
  baseCommit: plan.baseCommit,
});

export function createValidateActivities({
  db,
  steps,
  workspaces,
  configs,
  host,
  dataDir,
  idle,
}: ValidateDeps) {
  /** The request (from its record) against the workspace's current config: the plan, or why not. */
  async function planCell(cellId: string, restoring = false, fresh = false): Promise<CellPlan> {
    const cell = await db.cell.findUniqueOrThrow({ where: { id: cellId } });
    // A restored cell starts from the commit its archive was made on, not from where baseRef is now.
    const archive =
      restoring && cell.archive ? readColumn('Cell.archive', ArchiveColumn, cell.archive) : undefined;
    const restore: RestorePoint | undefined = archive && {
      commit: archive.commit,
      headCommit: archive.headCommit,
      detached: archive.detached,
      headBranch: archive.headBranch ?? null,
      index: archive.index ?? null,
    };
    const workspace = workspaces.find((w) => w.id === cell.workspaceId);
    if (!workspace) {
      throw permanent(ErrorType.WorkspaceUnknown, `workspace "${cell.workspaceId}" is no longer registered`, {
        hint: 'Register it again in HIVE_WORKSPACES and retry.',
      });
    }
    const result = await validateTemplate({
      workspace,
      loaded: await configs.load(workspace.path),
      templateId: cell.templateId,
      options: readColumn('Cell.options', OptionsColumn, cell.options),
      baseRef: cell.baseRef,
      // The API ran the host checks for this request a moment ago (its dry run must pass before the
      // record exists): a first plan right after does not repeat them. A retry, a restore or a late
      // start checks everything again.
      hostChecks: !(fresh && Date.now() - cell.createdAt.getTime() < HOST_CHECKS_FRESH_MS),
    });
    if (!result.ok || !result.template || !result.options) {
      const errors = result.findings.filter((f) => f.severity === 'error');
      throw permanent(ErrorType.TemplateInvalid, errors.map((f) => `${f.path}: ${f.message}`).join('; '), {
        hint: errors.map((f) => f.hint).join(' '),
      });
    }
    const baseCommit = archive?.baseCommit ?? (await resolveCommit(workspace.path, cell.baseRef));
    if (!baseCommit) throw baseRefUnknown(cell.baseRef);
    return assemblePlan(
      { host, dataDir, idle },
      { cell, workspace, template: result.template, options: result.options, baseCommit, restore },
    );
  }

  return {
    /**
     * Step 1: the template validation again, at run time, producing the plan the steps follow. The
     * only step that reads the request from the database: every later one reads the plan.
     */
    async validateCell({ cellId, restore }: { cellId: string; restore?: boolean }): Promise<CellPlan> {
      return steps.withStep(
        { cellId, name: Step.validate },
        () => planCell(cellId, restore, !restore && (inActivity()?.info.attempt ?? 1) === 1),
        planSummary,
      );
    },

    /**
     * On retry: plan again from the workspace's current config (a fix to the config takes), and say
     * what changed, so the workflow reruns the failed step and what depends on changed inputs. The
     * worktree, branch and base commit stay those of the first plan. The included files are copied
     * again here (the worktree step that copied them is not redone): a file the person added to the
     * workspace, or changed there, reaches the cell; what the cell changed itself is kept.
     */
    async replanCell({ previous }: { previous: CellPlan }): Promise<{ plan: CellPlan; changed: PlanPart[] }> {
      const fresh = await planCell(previous.cellId, previous.restore !== undefined);
      const plan = { ...fresh, baseCommit: previous.baseCommit, baseRef: previous.baseRef };
      const changed = PLAN_PARTS.filter(
        (part) => JSON.stringify(plan[part] ?? []) !== JSON.stringify(previous[part] ?? []),
      );
      // Only into a worktree that exists: when the worktree step failed, it runs again and copies.
      const worktree = await stat(path.join(plan.worktreePath, '.git')).catch(() => undefined);
      const includes: IncludeOutcome | undefined = worktree ? await copyIncludedFiles(plan) : undefined;
      await recordEvent(db, previous.cellId, 'plan', {
        changed,
        message: changed.length
          ? `the config changed since the last attempt: ${changed.join(', ')}`
          : 'the config is unchanged',
        ...(includes && { includes }),
      });
      return { plan, changed };
    },
  };
}
