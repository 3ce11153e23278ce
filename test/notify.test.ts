import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyDelivery } from '../src/cells/notifications.js';
import type { CellDetail, CellNotification } from '../src/cells/schema.js';
import { awaitCellEvent } from '../src/workflows/notify.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';
import { webService, workspaceFiles } from './support/templates.js';

// A cell's notify target hears about it coming to rest — over HTTP, retried until the receiver is
// back, signed with the request's secret; or as a signal to a Temporal workflow — all on the real
// stack: worker, API, git, a real HTTP receiver and a real receiving workflow.

const SECRET = 'a-shared-secret-of-some-length';

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A receiver: `/flaky` refuses the first two deliveries with 503, `/reject` answers 400, else 204. */
function startReceiver(): Promise<{ server: Server; url: string; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const previous = deliveries.filter((d) => d.path === path).length;
      const answered = path === '/reject' ? 400 : path === '/flaky' && previous < 2 ? 503 : 204;
      deliveries.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      res.statusCode = answered;
      res.end(answered === 400 ? 'unknown hook' : '');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, deliveries }),
    ),
  );
}

let h: Harness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  // The receiver is on loopback, which webhooks may reach only when an administrator allows it (this
  // file's process only: API and worker read the setting as they check a target).
  process.env.HIVE_NOTIFY_ALLOW = '127.0.0.1';
  receiver = await startReceiver();
  h = await createHarness(
    'notify',
    workspaceFiles({
      web: { label: 'Web', services: { web: webService } },
      bare: { label: 'Worktree only' },
      broken: { label: 'Broken setup', setup: ['echo "no database"; exit 3'] },
    }),
    // Retries a fifth of a second apart (doubling): the receiver's downtime passes in a second.
    { notifyRetryMs: 200 },
  );
});
afterAll(async () => {
  await h?.close();
  receiver?.server.close();
});

async function request(body: Record<string, unknown>) {
  const response = await h.app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'demo', brief: 'notify me', ...body },
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json() as { id: string; workflowId: string };
}

const detail = async (id: string) =>
  (await h.app.inject({ method: 'GET', url: `/cells/${id}` })).json() as CellDetail;

/** Waits until the cell shows a notification for `event` in `state`. */
const notification = (id: string, event: string, state: 'delivered' | 'failed') =>
  eventually(async () => {
    const found = (await detail(id)).notifications.find((n) => n.event === event);
    return found?.state === state ? found : undefined;
  }, `${event} notification ${state}`);

describe('notifications', () => {
  it('a webhook refusing the first two deliveries gets the ready event once, signed, then archived', async () => {
    const { id, workflowId } = await request({
      template: 'web',
      notify: { url: `${receiver.url}/flaky`, secret: SECRET },
    });
    await waitForStatus(h, id, ['ready']);
    const sent = await notification(id, 'ready', 'delivered');
    expect(sent).toMatchObject({ attempts: 3, lastError: null, target: `${receiver.url}/flaky` });

    const ready = receiver.deliveries.filter((d) => d.path === '/flaky');
    expect(ready.map((d) => d.answered)).toEqual([503, 503, 204]);
    // The same event each time: one delivery id, the same bytes; each attempt signed anew.
    expect(new Set(ready.map((d) => d.headers['hive-delivery'])).size).toBe(1);
    expect(new Set(ready.map((d) => d.body)).size).toBe(1);
    for (const d of ready) {
      expect(verifyDelivery(SECRET, d.headers['hive-signature'] as string, d.body)).toBe(true);
      expect(verifyDelivery('another-secret-entirely', d.headers['hive-signature'] as string, d.body)).toBe(
        false,
      );
      expect(verifyDelivery(SECRET, d.headers['hive-signature'] as string, `${d.body} `)).toBe(false);
    }
    const delivered = ready.at(-1) as Delivery;
    expect(delivered.headers['hive-event']).toBe('ready');
    expect(delivered.headers['content-type']).toBe('application/json');
    const event = JSON.parse(delivered.body) as CellNotification;
    const cell = await detail(id);
    expect(event).toMatchObject({
      id: sent.id,
      event: 'ready',
      failure: null,
      cell: {
        id,
        status: 'ready',
        workspace: 'demo',
        template: 'web',
        worktree: cell.worktreePath,
        branch: `cell/${id}`,
        envFile: `${cell.worktreePath}/.hive/env`,
        promptFile: `${cell.worktreePath}/.hive/prompt.md`,
        services: [{ name: 'web', status: 'ready', url: cell.services[0]?.url }],
        href: `/cells/${id}`,
      },
    });
    expect(existsSync(event.cell.envFile as string)).toBe(true);
    expect(existsSync(event.cell.promptFile as string)).toBe(true);
    // The delivery is a workflow of its own, found with the cell's, and visible on the cell.
    expect(sent.id.startsWith(`${workflowId}-notify-ready-`)).toBe(true);
    expect(cell.notify).toEqual({ url: `${receiver.url}/flaky`, signed: true });

    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    await notification(id, 'archived', 'delivered');
    // Settled: no late duplicate of the ready event.
    await new Promise((r) => setTimeout(r, 1_000));
    const accepted = receiver.deliveries.filter((d) => d.path === '/flaky' && d.answered === 204);
    expect(accepted.map((d) => (JSON.parse(d.body) as CellNotification).event)).toEqual([
      'ready',
      'archived',
    ]);
    const archived = JSON.parse(accepted[1]?.body ?? '{}') as CellNotification;
    expect(archived.cell).toMatchObject({ status: 'archived', envFile: null, promptFile: null });

    // The secret is nowhere but the database: not in the API, the events, or any workflow history.
    const after = await detail(id);
    expect(JSON.stringify(after)).not.toContain(SECRET);
    const events = await h.db.cellEvent.findMany({ where: { cellId: id } });
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(events.filter((e) => e.type === 'notification').map((e) => JSON.parse(e.data).event)).toEqual([
      'ready',
      'archived',
    ]);
    const workflowIds = [workflowId, ...after.notifications.map((n) => n.id)];
    const listed: string[] = [];
    for await (const wf of h.client.workflow.list({ query: `CellId="${id}"` })) listed.push(wf.workflowId);
    expect(listed.sort()).toEqual([...workflowIds].sort());
    for (const wid of workflowIds) {
      const history = await h.client.workflow.getHandle(wid).fetchHistory();
      expect(JSON.stringify(history)).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 20));
      expect(JSON.stringify(history)).not.toContain(SECRET);
      // And the new workflow code replays its own histories.
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') } },
        history,
        wid,
      );
    }
  });

  it('a failed cell tells why; a receiver that refuses (4xx) is not retried, and the cell shows it', async () => {
    const failed = await request({ template: 'broken', notify: { url: `${receiver.url}/failed` } });
    await waitForStatus(h, failed.id, ['failed']);
    await notification(failed.id, 'failed', 'delivered');
    const [event] = receiver.deliveries.filter((d) => d.path === '/failed');
    expect(event?.headers['hive-signature']).toBeUndefined();
    expect(JSON.parse(event?.body ?? '{}')).toMatchObject({
      event: 'failed',
      cell: { id: failed.id, status: 'failed' },
      failure: { step: 'environment', type: 'SetupFailed' },
    });

    const refused = await request({ template: 'bare', notify: { url: `${receiver.url}/reject` } });
    await waitForStatus(h, refused.id, ['ready']);
    const shown = await notification(refused.id, 'ready', 'failed');
    // The status only: a receiver's answer body is never kept (it would be shown to every viewer).
    expect(shown).toMatchObject({ attempts: 1, lastError: 'HTTP 400 Bad Request', deliveredAt: null });
    expect(receiver.deliveries.filter((d) => d.path === '/reject')).toHaveLength(1);
    // The delivery's workflow fails: visible as such in the Temporal UI.
    await expect(h.client.workflow.getHandle(shown.id).result()).rejects.toThrow();
    expect((await h.client.workflow.getHandle(shown.id).describe()).status.name).toBe('FAILED');
  });

  it('a {workflowId, signal} target: the event is signalled to a running workflow', async () => {
    const receiverId = `orchestrator-${Date.now()}`;
    const waiting = await h.client.workflow.start(awaitCellEvent, {
      taskQueue: h.taskQueue,
      workflowId: receiverId,
      args: [{ signal: 'cellEvent' }],
    });
    const { id } = await request({
      template: 'bare',
      notify: { workflowId: receiverId, signal: 'cellEvent' },
    });
    const event = await waiting.result();
    expect(event).toMatchObject({ event: 'ready', cell: { id, status: 'ready', template: 'bare' } });
    const sent = await notification(id, 'ready', 'delivered');
    expect(sent).toMatchObject({ target: `workflow:${receiverId}#cellEvent`, attempts: 1 });
    expect((await detail(id)).notify).toEqual({ workflowId: receiverId, signal: 'cellEvent' });
  });

  it('a notify target must be an http(s) URL or a workflow and a signal', async () => {
    for (const notify of [
      { url: 'ftp://example.com/hook' },
      { url: 'http://example.com/hook', secret: 'tiny-secret' },
      { workflowId: 'x' },
      { url: 'http://example.com/hook', workflowId: 'x', signal: 'y' },
    ]) {
      const response = await h.app.inject({
        method: 'POST',
        url: '/cells',
        payload: { workspace: 'demo', template: 'bare', brief: 'x', notify },
      });
      expect(response.statusCode, JSON.stringify(notify)).toBe(400);
      expect(response.body).not.toContain('tiny-secret');
    }
  });
});
