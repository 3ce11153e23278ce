// Every patch of the cell's workflows, in one place. The code in src/workflows is the baseline (the
// replay corpus in test/histories/ was recorded from it); a change that would replay an existing
// history differently ships behind `patched(<a constant here>)` instead, and comes with
//   - its constant below (id = the constant's value, never reused),
//   - a line in docs/lifecycle.md (Patches), saying what it changed and when it may be dropped,
//   - a history in the corpus recorded with it (test/support/histories.ts).
// A patch is dropped (its old branch deleted, `deprecatePatch` first if runs that saw it are still
// open) once no open workflow can need the old branch; record the corpus again then.
// (The patches made before the first release were collapsed into the baseline.)
export const Patch = {
  /**
   * The live phase asks the host's supervisor to watch the cell and waits for its reports (signals),
   * instead of running a heartbeating supervision activity all the time.
   */
  hostSupervision: 'host-supervision',
  /**
   * The worktree and ports steps run at once (neither needs the other; each keeps its compensation),
   * instead of ports after worktree.
   */
  parallelSteps: 'parallel-steps',
  /**
   * A service nothing depends on is ready once its probe passed; the rest of its settle window is
   * confirmed (`confirmSettled`) beside the prompt and the worktree baseline, instead of inside its
   * readiness wait before them.
   */
  settleBeside: 'settle-beside',
  /**
   * A claimed pool cell's hand-over runs as a local activity also when its host's queue is the
   * workflow's own (a host alone, `hive up`), not only when it has no host.
   */
  localHandover: 'local-handover',
  /**
   * Placement writes the placed cell's status `provisioning` in its own local activity, instead of
   * a status activity after it (one workflow turn less before the first step).
   */
  placeProvisioning: 'place-provisioning',
  /**
   * On a host that runs alone (its queue is the workflow's own), the short steps on the way to ready
   * (environment without setup, a start without service setup, prompt, baseline, the settle
   * window's end) run as local activities instead of ordinary ones (src/workflows/activities.ts).
   */
  localSteps: 'local-steps',
} as const;
