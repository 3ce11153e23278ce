// The names that contracts between the workflow, the activities, the API and clients hang on: step
// names and error types. One catalog, imported everywhere, so no contract is a string matched by
// hand in two files. Plain constants (no imports): the deterministic workflow bundle imports it.

/**
 * Every step a cell's records name: the provisioning steps, the compensation-only step `teardown`,
 * and `cleanup` (a clean-up whose residue names no step of its own).
 */
export const Step = {
  /** Choose the host (src/hosts/placement.ts); a cell waits here, `queued`, until one has room. */
  place: 'place',
  validate: 'validate',
  worktree: 'worktree',
  ports: 'ports',
  environment: 'environment',
  services: 'services',
  prompt: 'prompt',
  teardown: 'teardown',
  cleanup: 'cleanup',
} as const;
export type StepName = (typeof Step)[keyof typeof Step];

/** The provisioning steps after `place`, in the order they run (and clients list them). */
export const provisioningSteps = [
  Step.validate,
  Step.worktree,
  Step.ports,
  Step.environment,
  Step.services,
  Step.prompt,
] as const;
export type ProvisioningStep = (typeof provisioningSteps)[number];

/**
 * The compensation that undoes each provisioning step, where it has one of its own (`services` is
 * undone service by service: `serviceStep(name)`).
 */
export const undoneBy: Partial<Record<ProvisioningStep, StepName>> = {
  [Step.worktree]: Step.worktree,
  [Step.ports]: Step.ports,
  [Step.environment]: Step.teardown,
};

/**
 * What a service waits for: `ready` (its readiness probe passes) or `completed` (a one-shot that
 * exited 0). A dependency on another service names `started`, `healthy` (= that service is ready;
 * the word Hive's and compose's configs use) or `completed`.
 */
export type ServiceCondition = 'ready' | 'completed';
export const dependencyTarget = { started: 'started', healthy: 'ready', completed: 'completed' } as const;

/** The phases a service's sub-steps record, in order. */
export const servicePhases = ['start', 'ready', 'completed'] as const;
export type ServicePhase = (typeof servicePhases)[number];

/** A service's step: `services.<name>` (its stop, a compensation) or `services.<name>.<phase>`. */
export type ServiceStepName = `${typeof Step.services}.${string}`;
/** Any step name a Step row or event carries. */
export type RecordedStepName = StepName | ServiceStepName;

/**
 * Service sub-steps are recorded as `services.<name>.start`, `services.<name>.ready` or
 * `services.<name>.completed`; a service's compensation (stopping it) as `services.<name>`.
 */
export const serviceStep = (service: string, phase?: ServicePhase): ServiceStepName =>
  phase ? `${Step.services}.${service}.${phase}` : `${Step.services}.${service}`;

// Service names are letters, digits, `_` and `-` (src/templates/schema.ts): never a dot.
const serviceStepPattern = new RegExp(`^${Step.services}\\.([^.]+)(?:\\.(${servicePhases.join('|')}))?$`);

/** The service and phase a step name is about, or undefined for a step that is not a service's. */
export function parseServiceStep(name: string): { service: string; phase?: ServicePhase } | undefined {
  const match = serviceStepPattern.exec(name);
  if (!match?.[1]) return undefined;
  return match[2] ? { service: match[1], phase: match[2] as ServicePhase } : { service: match[1] };
}
export const isServiceStep = (name: string): name is ServiceStepName => parseServiceStep(name) !== undefined;

/**
 * What a re-plan (a retry) compares, each part with the steps it is an input of: those run again
 * when it changed. The prompt step always runs again; the re-plan copies included files itself.
 */
export const planParts = {
  services: [Step.ports, Step.environment],
  env: [Step.environment],
  setup: [Step.environment],
  dependencies: [Step.environment],
  databases: [Step.environment],
  teardown: [Step.environment],
  prompts: [],
  options: [Step.environment],
  includePatterns: [],
} as const satisfies Record<string, readonly StepName[]>;
export type PlanPart = keyof typeof planParts;
export const PLAN_PARTS = Object.keys(planParts) as PlanPart[];

/** The steps that must run again after a re-plan found these parts changed. */
export const stepsToRedo = (changed: readonly PlanPart[]): Set<StepName> =>
  new Set(changed.flatMap((part) => planParts[part]));

/**
 * Every error type an activity, the workflow or the API reports. Each is the `type` of a Temporal
 * ApplicationFailure and of the failure shown in GET /cells/:id; clients may match on them.
 */
export const ErrorType = {
  // validate
  WorkspaceUnknown: 'WorkspaceUnknown',
  TemplateInvalid: 'TemplateInvalid',
  BaseRefUnknown: 'BaseRefUnknown',
  // worktree
  GitLocked: 'GitLocked',
  GitFailed: 'GitFailed',
  WorktreeConflict: 'WorktreeConflict',
  WorktreeDirty: 'WorktreeDirty',
  // ports
  PortInUse: 'PortInUse',
  PortRangeExhausted: 'PortRangeExhausted',
  PortAllocated: 'PortAllocated',
  PortRaced: 'PortRaced',
  // environment and teardown
  /** A secret env value whose reference (env:NAME, file:PATH) does not resolve on this host. */
  SecretUnavailable: 'SecretUnavailable',
  /** A dependency set's install command failed; the cache was left as it was. */
  DependencyInstallFailed: 'DependencyInstallFailed',
  /** The workspace's PostgreSQL server could not be had (not installed, would not start). */
  DatabaseUnavailable: 'DatabaseUnavailable',
  /** A seed command building a template database failed; the half-built database was dropped. */
  DatabaseSeedFailed: 'DatabaseSeedFailed',
  SetupFailed: 'SetupFailed',
  TeardownFailed: 'TeardownFailed',
  // services
  PlanInvalid: 'PlanInvalid',
  ServiceSetupFailed: 'ServiceSetupFailed',
  ServiceSpawnFailed: 'ServiceSpawnFailed',
  ServiceExited: 'ServiceExited',
  /** Killed by its cell's memory limit (the template's resources.memoryMb): src/cgroups. */
  ServiceOOMKilled: 'ServiceOOMKilled',
  ServiceNotReady: 'ServiceNotReady',
  /** The service listens, but on none of its allocated ports (its command ignores $PORT). */
  ServiceWrongPort: 'ServiceWrongPort',
  /** A service with an `auto` port listens on several ports and none is named by its log. */
  ServicePortAmbiguous: 'ServicePortAmbiguous',
  // prompt
  PromptMissing: 'PromptMissing',
  /** A path from the config (prompt, include, cwd) that resolves outside its workspace or worktree. */
  PathOutside: 'PathOutside',
  // notifications (the cell's notify target)
  /** The receiver answered 3xx or 4xx (other than 408, 425, 429): Hive does not retry. */
  NotificationRejected: 'NotificationRejected',
  /** The receiver was not reached (connection error, timeout, 5xx, 408, 425, 429): retried. */
  NotificationUndelivered: 'NotificationUndelivered',
  // hosts
  /** The cell's host stopped heartbeating for the grace period (its worker, or the machine, is gone). */
  HostLost: 'HostLost',
  // the workflow itself
  ProvisioningFailed: 'ProvisioningFailed',
  CleanupFailed: 'CleanupFailed',
  /** A second archive of a cell whose archive is under way. */
  AlreadyArchiving: 'AlreadyArchiving',
  Cancelled: 'Cancelled',
  /** A failure that carried no type of ours (a bug, or an SDK/timeout failure). */
  Error: 'Error',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];
