import select from '@inquirer/select';
import type { CellDetail, CellEvent, HiveClient, WaitOptions } from '../client/index.js';
import { print } from './output.js';
import { createProgressView } from './progress.js';

export type FollowResult = { kind: 'rested'; cell: CellDetail } | { kind: 'detached'; id: string };

/** How often the live view re-reads the cell (timings, operations, ETA) between events. */
const REFRESH_MS = 1_000;

/**
 * Ctrl-C while following: on a terminal, ask whether to cancel the cell or detach from it (the cell
 * goes on in Hive either way unless cancelled); without one, detach.
 */
async function askOnInterrupt(id: string): Promise<'cancel' | 'detach' | 'watch'> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return 'detach';
  try {
    return await select({
      message: `Cell ${id} is still being provisioned. What now?`,
      choices: [
        { name: 'Detach: it goes on without me', value: 'detach' as const },
        { name: 'Cancel the cell: stop and roll it back', value: 'cancel' as const },
        { name: 'Keep watching', value: 'watch' as const },
      ],
    });
  } catch {
    // A second Ctrl-C (inquirer's ExitPromptError): leave the cell alone.
    return 'detach';
  }
}

/**
 * Follows a cell until it rests, showing its progress unless `quiet`. Ctrl-C asks to cancel or
 * detach. `done` says which resting state is the one awaited (see WaitOptions).
 */
export async function followCell(
  client: HiveClient,
  id: string,
  options: { quiet?: boolean; done?: WaitOptions['done'] } = {},
): Promise<FollowResult> {
  const view = options.quiet ? undefined : createProgressView(process.stdout, id);
  const abort = new AbortController();
  let detached = false;
  let refreshing = false;
  const refresh = () => {
    if (!view || refreshing) return;
    refreshing = true;
    client
      .getCell(id)
      .then((cell) => view.snapshot(cell))
      .catch(() => undefined)
      .finally(() => {
        refreshing = false;
      });
  };
  const ticker = view && process.stdout.isTTY ? setInterval(refresh, REFRESH_MS) : undefined;
  refresh();

  let asking = false;
  const onInterrupt = async () => {
    if (asking) return;
    asking = true;
    view?.pause();
    const answer = await askOnInterrupt(id);
    asking = false;
    if (answer === 'detach') {
      detached = true;
      abort.abort();
      return;
    }
    if (answer === 'cancel') {
      print(`Cancelling cell ${id}…`);
      await client.cancel(id).catch((error: unknown) => print(`could not cancel: ${String(error)}`));
    }
    view?.resume();
  };
  process.on('SIGINT', onInterrupt);
  try {
    const cell = await client.waitForCell(id, {
      signal: abort.signal,
      done: options.done,
      onEvent: (event: CellEvent) => {
        view?.event(event);
        if (event.id) refresh();
      },
      onReconnect: (attempt) => {
        if (!view) return;
        view.pause();
        print(`connection lost; reconnecting (attempt ${attempt})…`);
        view.resume();
      },
    });
    if (view) view.snapshot(cell);
    return { kind: 'rested', cell };
  } catch (error) {
    if (detached) return { kind: 'detached', id };
    throw error;
  } finally {
    clearInterval(ticker);
    process.off('SIGINT', onInterrupt);
    view?.stop();
  }
}
