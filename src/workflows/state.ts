// Shapes crossing the workflow boundary, and what the workflow keeps between steps. Types only:
// this file is bundled into the deterministic sandbox.
import type { CellPlan, NotifyRoute, OnFailure, ReadyCell, ServiceEvent } from '../cells/plan.js';
import type { Failure } from '../cells/schema.js';
import type { CellStatus } from '../cells/status.js';

export interface ProvisionCellInput {
  cellId: string;
  workspaceId: string;
  templateId: string;
  /**
   * Task queue of the worker on the cell's host (worktree, ports, services run there): set by
   * placement (the `place` step) and carried across continue-as-new; unset, the shared queue.
   */
  hostTaskQueue?: string;
  /**
   * The host's queue is this workflow's own (a host that runs alone serves the shared queue), as the
   * placer saw it: its short steps may run as local activities (Patch.localSteps). Carried with
   * `hostTaskQueue`; compared here rather than with the worker's queue, which a replay renames.
   */
  ownQueue?: boolean;
  /** On a provisioning failure: keep the cell for inspection (default) or roll back at once. */
  onFailure?: OnFailure;
  /** A preserved failed cell with no action for this long rolls back by itself. */
  preserveForMs?: number;
  /** After ready, continue as new past this many history events (default 2,000). */
  historyLimit?: number;
  /** Set when an archived (or rolled back) cell is brought back: its worktree from what was saved. */
  restore?: boolean;
  /**
   * A warm pool's cell (started by the pool's workflow): only such a cell obeys the pool's signals
   * (claim, recycle). Unset on a cell requested for itself.
   */
  pool?: boolean;
  /** Where the cell's events go (ready, failed, cancelled, archived …); none: nobody is told. */
  notify?: NotifyRoute;
  /**
   * The first plan, made by the API that accepted the request on the host it runs on (its dry run
   * had just passed). Used when placement chooses that host; otherwise `validate` plans as ever.
   */
  plan?: CellPlan;
  /**
   * The host the API that accepted the request placed the cell on (`hostTaskQueue` is its queue): its
   * `place` step is recorded and its status is `provisioning` already, so the workflow's first task
   * schedules the first steps at once.
   */
  placedOn?: string;
  /** Set when the workflow continues as new: the live cell the previous run handed over. */
  resume?: LiveState;
}

export interface ProvisionCellResult {
  cellId: string;
  status: CellStatus;
  failure?: Failure;
}

/** What provisioning has done so far; a retry after a preserved failure skips what is here. */
export interface Progress {
  plan?: CellPlan;
  worktree?: boolean;
  ports?: ReadyCell['ports'];
  env?: ReadyCell['env'];
  servicesReady?: boolean;
  /** Set by a retry: plan again from the current config before going on. */
  replan?: boolean;
}

/** What the live phase knows of its cell; carried across continue-as-new. */
export interface LiveState {
  cell: ReadyCell;
  /** Restarts so far, per service. */
  restarts: Record<string, number>;
  /** Services a person stopped (or left exited by their policy): supervision leaves them alone. */
  stopped: string[];
  /** A pool cell a request claimed: the claim has been handed over (brief, prompt, ready). */
  handedOver?: boolean;
  /** The number of the host supervisor's latest watch of the cell (events of older ones are stale). */
  watch?: number;
  /** Set while the cell is suspended for being idle: how (its processes frozen, or its services stopped). */
  suspended?: 'freeze' | 'stop';
}

export type ServiceAction = 'stop' | 'start' | 'restart';

/** What people asked for, as the signal and update handlers record it. */
export interface Control {
  cancel: boolean;
  retry: boolean;
  cleanup: boolean;
  archive: boolean;
  /** Archive without keeping the worktree's uncommitted work. */
  discard: boolean;
  commands: Array<{ service: string; action: ServiceAction }>;
  /** Set once the cell is provisioned (or resumed live): the live phase's cell. */
  live?: ReadyCell;
  /** Cancels the running provisioning attempt (set while one runs). */
  interruptProvisioning?: () => void;
  /** The live phase's state, once it runs (a claim of a pool cell is handed over to it). */
  state?: LiveState;
  /** Set while the host monitor says the cell's host is lost (cleared when it is back). */
  hostLost?: { host: string; since: string };
  /** What the host's supervisor reported, not yet acted on. */
  serviceEvents: Array<ServiceEvent & { watch: number }>;
  /** A worker of the cell's host started: its supervisor must be asked to watch the cell again. */
  rewatch: boolean;
  /** Someone asked a suspended cell to wake (a request through its URLs, `resume`). */
  wake: boolean;
}
