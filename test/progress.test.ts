import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellDetail } from '../src/cells/views.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';
import { readEvents } from './support/sse.js';
import { webService, workspaceFiles } from './support/templates.js';

const templates = {
  web: { label: 'Web', setup: ['sleep 1'], services: { web: webService } },
  declared: {
    label: 'Declared',
    setup: ['sleep 2'],
    resources: { provisionSeconds: 30 },
    services: { web: webService },
  },
};

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await createHarness('progress', workspaceFiles(templates));
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
});
afterAll(() => h?.close());

async function create(template: string) {
  const response = await fetch(`${base}/cells`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workspace: 'demo', template, brief: 'watch me' }),
  });
  expect(response.status).toBe(202);
  return (await response.json()) as { id: string };
}

describe('GET /cells/:id/events (Server-Sent Events)', () => {
  it('streams the transitions of a whole provisioning in order, with log lines, then ends', async () => {
    const { id } = await create('web');
    const events = await readEvents(`${base}/cells/${id}/events`);
    const statuses = events.filter((e) => e.event === 'status').map((e) => e.data.status);
    expect(statuses).toEqual(['pending', 'provisioning', 'ready']);
    const succeeded = events
      .filter((e) => e.event === 'step' && e.data.status === 'succeeded')
      .map((e) => e.data.name);
    // Worktree and ports run at once: either may finish first.
    expect(succeeded.slice(1, 3).sort()).toEqual(['ports', 'worktree']);
    expect(succeeded).toEqual([
      'validate',
      ...succeeded.slice(1, 3),
      'environment',
      'services.web.start',
      'services.web.ready',
      'prompt',
    ]);
    // Every step event of a step comes after its `running` event, and ids only grow.
    const ids = events.filter((e) => e.id).map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(events.some((e) => e.event === 'operation')).toBe(true);
    expect(
      events.some(
        (e) => e.event === 'log' && e.data.service === 'web' && /listening on/.test(e.data.line ?? ''),
      ),
    ).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'ready' } });
    // The end carries the cell as GET /cells/:id answers it then: a waiting client asks nothing more.
    const got = (await (await fetch(`${base}/cells/${id}`)).json()) as Record<string, unknown>;
    const ended = events.at(-1)?.data.cell;
    expect(ended).toMatchObject({ id, status: 'ready', prompt: got.prompt, ports: got.ports });
    expect(Object.keys(ended ?? {}).sort()).toEqual(Object.keys(got).sort());

    // Resuming from an event id replays exactly what came after it.
    const cut = ids[3];
    const resumed = await readEvents(`${base}/cells/${id}/events`, String(cut));
    const resumedIds = resumed.filter((e) => e.id).map((e) => Number(e.id));
    expect(resumedIds).toEqual(ids.filter((n) => n > (cut ?? 0)));
  });

  it('answers 404 for an unknown cell', async () => {
    const response = await fetch(`${base}/cells/c00000000000/events`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(response.status).toBe(404);
  });

  it('answers 400 problem+json for a Last-Event-ID that is no event id', async () => {
    const cell = (await h.db.cell.findFirstOrThrow()).id;
    for (const lastEventId of ['99999999999999999999999', 'abc', '-1']) {
      const response = await fetch(`${base}/cells/${cell}/events`, {
        headers: { accept: 'text/event-stream', 'last-event-id': lastEventId },
      });
      expect(response.status, lastEventId).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      await response.body?.cancel();
    }
  });
});

describe('progress and ETA in GET /cells/:id', () => {
  it('uses the declared estimate without history, then the measured medians of past cells', async () => {
    const first = await create('declared');
    const during = await eventually(async () => {
      const cell = await cellDetail(h.db, first.id, async () => 30);
      // The step records its operation a moment after it starts: wait for both.
      return cell?.progress.currentStep === 'environment' && cell.progress.operation ? cell : undefined;
    }, 'first cell in its environment step');
    expect(during.progress.eta).toMatchObject({ basis: 'declared', totalSeconds: 30 });
    expect(during.progress.eta?.remainingSeconds).toBeLessThanOrEqual(30);
    expect(during.progress.operation).toMatch(/setup 1\/1: sleep 2/);
    await waitForStatus(h, first.id, ['ready']);

    const second = await create('declared');
    const measured = await eventually(async () => {
      const response = await fetch(`${base}/cells/${second.id}`);
      const cell = (await response.json()) as Awaited<ReturnType<typeof cellDetail>>;
      return cell?.progress.currentStep === 'environment' ? cell : undefined;
    }, 'second cell in its environment step');
    const eta = measured.progress.eta;
    expect(eta).toMatchObject({ basis: 'measured', samples: 1 });
    const environment = eta?.steps.find((s) => s.name === 'environment');
    expect(environment?.expectedSeconds).toBeGreaterThanOrEqual(2);
    expect(environment?.remainingSeconds).toBeLessThanOrEqual(environment?.expectedSeconds ?? 0);
    expect(eta?.steps.find((s) => s.name === 'validate')?.remainingSeconds).toBe(0);
    // Bounded by the median total; on a loaded machine it may already be 0, never more than the total.
    expect(eta?.remainingSeconds).toBeGreaterThanOrEqual(0);
    expect(eta?.remainingSeconds).toBeLessThanOrEqual(eta?.totalSeconds ?? 0);
    await waitForStatus(h, second.id, ['ready']);
    expect((await cellDetail(h.db, second.id))?.progress.eta).toBeNull();
  });
});
