import { CellFeedEvent } from '../../cells/eventShapes.js';
import { followStream, type StreamState } from './sse.js';

type Listener = (event: string, data: CellFeedEvent) => void;
const listeners = new Set<Listener>();
const stateListeners = new Set<(state: StreamState) => void>();
let started = false;
let state: StreamState = 'connecting';

/**
 * One connection to GET /events?follow=true for the whole page: every recorded event of every cell
 * the person may see. The cell list and cell pages subscribe to it.
 */
export function subscribeFeed(listener: Listener): () => void {
  listeners.add(listener);
  if (started) return () => listeners.delete(listener);
  started = true;
  followStream('/events?follow=true', {
    onEvent(event, data) {
      if (event === 'end') return;
      const parsed = CellFeedEvent.safeParse(data);
      if (!parsed.success) return;
      for (const l of listeners) l(event, parsed.data);
    },
    onState(next) {
      state = next;
      for (const l of stateListeners) l(next);
    },
  });
  return () => listeners.delete(listener);
}

export function onFeedState(listener: (state: StreamState) => void): () => void {
  stateListeners.add(listener);
  listener(state);
  return () => stateListeners.delete(listener);
}
