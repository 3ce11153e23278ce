// Where one cell's provisioning time goes, read from its Temporal history: the API's accept, the
// wait from workflow start to the first activity, each activity's schedule-to-start and run time,
// the workflow's own turns between activities, and the lag until a client saw `ready`.
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { median } from './measure.js';

export interface Phase {
  phase: string;
  ms: number;
}

interface Timing {
  /** When the client sent POST /cells, and when it got its 202. */
  postedAt: number;
  acceptedAt: number;
  /** When the client saw the cell ready. */
  readySeenAt: number;
}

type HistoryEvent = NonNullable<
  Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']
>[number];

const at = (event: HistoryEvent) => tsToMs(event.eventTime);

/** A local activity's own completion time, from its marker's data (Core writes `complete_time`). */
function localActivityCompletedAt(event: HistoryEvent): number | undefined {
  const data = event.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    const marker = JSON.parse(Buffer.from(data).toString('utf8')) as {
      complete_time?: { seconds?: number | string; nanos?: number };
    };
    const time = marker.complete_time;
    return time ? Number(time.seconds ?? 0) * 1000 + (time.nanos ?? 0) / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The phases of one cell, in order, up to the activity that wrote `ready` (the live phase after it
 * is not provisioning). Wall-clock times of the client and of the dev server are on one host.
 */
export async function breakdown(client: Client, workflowId: string, timing: Timing): Promise<Phase[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const started = events[0] ? at(events[0]) : timing.acceptedAt;
  const phases: Phase[] = [{ phase: 'API: POST /cells until 202', ms: timing.acceptedAt - timing.postedAt }];
  const scheduled = new Map<number, { name: string; summary: string; at: number; startedAt?: number }>();
  let lastDone = started;
  let firstActivity = true;
  let readyWrittenAt: number | undefined;
  for (const event of events) {
    const id = Number(event.eventId);
    if (event.activityTaskScheduledEventAttributes) {
      const name = event.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      const summary = event.userMetadata?.summary?.data
        ? Buffer.from(event.userMetadata.summary.data).toString('utf8').replaceAll('"', '')
        : '';
      scheduled.set(id, { name, summary, at: at(event) });
      phases.push({
        phase: firstActivity
          ? 'workflow start → first activity scheduled'
          : '  workflow turn (completion → next scheduled)',
        ms: at(event) - lastDone,
      });
      firstActivity = false;
    } else if (
      event.markerRecordedEventAttributes &&
      event.markerRecordedEventAttributes.markerName !== 'core_patch'
    ) {
      // A local activity (status writes; on a host alone the short steps too): recorded as a marker
      // when its workflow task completes, so its own completion time is read from the marker's data.
      // (A patch's marker is not one: its turn is told by the next activity's.)
      const summary = event.userMetadata?.summary?.data
        ? Buffer.from(event.userMetadata.summary.data)
            .toString('utf8')
            .replaceAll('"', '')
            .replace(/:\d+/g, ':<port>')
        : '';
      const completed = localActivityCompletedAt(event) ?? at(event);
      phases.push({
        phase: `local activity${summary ? ` (${summary})` : ''} (since the last step)`,
        ms: Math.max(0, completed - lastDone),
      });
      lastDone = Math.max(lastDone, completed);
      firstActivity = false;
      if (summary.includes('→ ready')) {
        readyWrittenAt = completed;
        break;
      }
    } else if (event.activityTaskStartedEventAttributes) {
      const entry = scheduled.get(Number(event.activityTaskStartedEventAttributes.scheduledEventId));
      if (entry) entry.startedAt = at(event);
    } else if (event.activityTaskCompletedEventAttributes) {
      const entry = scheduled.get(Number(event.activityTaskCompletedEventAttributes.scheduledEventId));
      if (!entry) continue;
      // Cell ids and ports differ from run to run; the medians merge phases by label.
      const summary = entry.summary.replace(/\bc[0-9a-z]{11}\b/g, '<id>').replace(/:\d+/g, ':<port>');
      const label = `${entry.name}${summary ? ` (${summary})` : ''}`;
      phases.push({ phase: `${label}: schedule-to-start`, ms: (entry.startedAt ?? entry.at) - entry.at });
      phases.push({ phase: `${label}: run`, ms: at(event) - (entry.startedAt ?? entry.at) });
      lastDone = at(event);
      if (entry.summary.includes('→ ready')) {
        readyWrittenAt = at(event);
        break;
      }
    }
  }
  // Activities run in parallel (services) overlap: the phases then add up to more than the total.
  phases.push({
    phase: '`ready` written → seen by the client',
    ms: timing.readySeenAt - (readyWrittenAt ?? lastDone),
  });
  phases.push({ phase: 'total (POST → ready seen)', ms: timing.readySeenAt - timing.postedAt });
  return phases;
}

/** Phases of several cells merged by name (median of each), in the order of the first. */
export function medianPhases(runs: Phase[][]): Phase[] {
  const first = runs[0] ?? [];
  const seen = new Map<string, number>();
  return first.map(({ phase }) => {
    const n = seen.get(phase) ?? 0;
    seen.set(phase, n + 1);
    const values = runs
      .map((r) => r.filter((p) => p.phase === phase)[n]?.ms)
      .filter((v): v is number => v !== undefined);
    return { phase, ms: median(values) };
  });
}
