// How the cell's workflow hears people: the signal and update handlers, recording what was asked in
// the `Control` the phases read. Deterministic code: no I/O.
import { ApplicationFailure, log, setHandler } from '@temporalio/workflow';
import { ErrorType } from '../cells/catalog.js';
import type { ReadyCell } from '../cells/plan.js';
import {
  archiveUpdate,
  cancelSignal,
  cleanupSignal,
  hostSignal,
  retrySignal,
  serviceEventSignal,
  serviceSignal,
  superviseSignal,
  wakeSignal,
} from './control.js';
import type { Control } from './state.js';

/**
 * Registers the handlers. Commands are queued whatever the phase: one sent the moment the record
 * says `ready` can reach the workflow in the same task as the ready transition's completion
 * (signals are handled first), and must not be lost; the live phase obeys them.
 */
export function listen(resumed: ReadyCell | undefined): Control {
  const control: Control = {
    cancel: false,
    retry: false,
    cleanup: false,
    archive: false,
    discard: false,
    commands: [],
    live: resumed,
    serviceEvents: [],
    rewatch: false,
    wake: false,
  };
  setHandler(cancelSignal, () => {
    if (control.live) {
      // A live cell whose host is lost may be cancelled: it is archived (its work saved) once back.
      if (control.hostLost) control.archive = true;
      else log.warn('cancel of a live cell ignored (archive it instead)');
      return;
    }
    control.cancel = true;
    control.interruptProvisioning?.();
  });
  setHandler(retrySignal, () => {
    control.retry = true;
  });
  setHandler(cleanupSignal, () => {
    control.cleanup = true;
  });
  setHandler(hostSignal, ({ host, state, since }) => {
    if (state === 'back') {
      control.hostLost = undefined;
      return;
    }
    control.hostLost = { host, since };
    // Provisioning stops where it is; the live phase sees it in its supervision loop.
    control.interruptProvisioning?.();
  });
  setHandler(serviceSignal, (command) => {
    control.commands.push(command);
  });
  setHandler(serviceEventSignal, (event) => {
    control.serviceEvents.push(event);
  });
  setHandler(superviseSignal, () => {
    control.rewatch = true;
  });
  setHandler(wakeSignal, () => {
    control.wake = true;
  });
  setHandler(
    archiveUpdate,
    // Accepted at once (no await first), so a second archive's validator already sees it.
    ({ discard = false }) => {
      control.archive = true;
      control.discard = discard;
      return { discard };
    },
    {
      validator: (_request: { discard?: boolean }) => {
        if (control.archive) {
          throw ApplicationFailure.create({
            type: ErrorType.AlreadyArchiving,
            message: 'the cell is already being archived',
            nonRetryable: true,
          });
        }
      },
    },
  );
  return control;
}
