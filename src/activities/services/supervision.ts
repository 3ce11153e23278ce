import type { ReadyCell, ServiceEvent } from '../../cells/plan.js';
import type { Db } from '../../db/client.js';
import { idleWatch } from '../../supervision/idle.js';
import { lookAt, servicesToWatch } from '../../supervision/look.js';
import type { HostSupervisor } from '../../supervision/supervisor.js';
import { mountCellWorktree } from '../../worktree/methods.js';
import type { ExitRegistry } from '../processes.js';
import { inActivity } from '../steps.js';
import { DEFAULT_LOG_MAX_BYTES } from './logRotation.js';

export interface SupervisionDeps {
  db: Db;
  exits: ExitRegistry;
  /** This worker's supervisor: watches the cells placed on this host (src/supervision). */
  supervisor: HostSupervisor;
  /** A service log past this size is rotated (HIVE_LOG_MAX_MB). */
  logMaxBytes?: number;
}

/** How long one legacy supervision activity watches before handing back to the workflow. */
const WATCH_SPAN_MS = 5 * 60_000;

/** How often the legacy activity looks (as the host's supervisor does). */
const WATCH_EVERY_MS = 1_000;

export function createSupervision({
  db,
  exits,
  supervisor,
  logMaxBytes = DEFAULT_LOG_MAX_BYTES,
}: SupervisionDeps) {
  const look = { db, exits, logMaxBytes };
  return {
    /**
     * The live phase asks this host to watch the cell's services (except those a person stopped),
     * as watch number `watch`. Returns at once: the host's supervisor tells the workflow when one
     * needs attention, and nothing while all is well. Asked again after every event and command, and
     * when a worker of this host starts (its supervisor knows no cell yet): it first reconciles the
     * records with reality, so a recorded process that no longer runs is reported at its first look.
     */
    async superviseServices(
      call: ReadyCell & { ignore: string[]; watch: number },
    ): Promise<{ watching: number }> {
      // An overlay worktree whose mount a host restart took: mounted again before its services are
      // looked at (and restarted by their policy). Nothing for a plain worktree, or a mounted one.
      await mountCellWorktree(call.plan.workspacePath, call.plan.worktreePath);
      const services = await servicesToWatch(db, call);
      // Asked after every command: the watch's start counts as the last thing that went on.
      supervisor.watch(call.plan.cellId, call.watch, services, idleWatch(call.plan.idle));
      return { watching: services.length };
    },

    /**
     * For workflow runs from before the host's supervisor (Patch.hostSupervision): watches the
     * cell's services in this activity, heartbeating every second, and returns as soon as one needs
     * attention, or empty-handed after a while (the workflow starts it again). Cancelled when the
     * workflow has other work. Drop it with the patch's old branch.
     */
    async watchServices(call: ReadyCell & { ignore: string[] }): Promise<ServiceEvent | null> {
      const activity = inActivity();
      const until = Date.now() + WATCH_SPAN_MS;
      const watched = await servicesToWatch(db, call);
      for (let count = 0; Date.now() < until; count++) {
        for (const service of watched) {
          const event = await lookAt(look, service, count);
          if (event) return event;
        }
        activity?.heartbeat();
        await (activity ? activity.sleep(WATCH_EVERY_MS) : new Promise((r) => setTimeout(r, WATCH_EVERY_MS)));
      }
      return null;
    },
  };
}
