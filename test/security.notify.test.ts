import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOTIFY_ALLOW_ENV, refusedAddress } from '../src/cells/notifyAddress.js';
import type { CellDetail } from '../src/cells/schema.js';
import { deliverCellEvent } from '../src/workflows/notify.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';

// The holes an adversarial pass found in notify targets, closed — on the real stack (API over real
// HTTP, worker, Temporal, git, a real receiver): a target cannot signal Hive's own workflows, a pool's
// signals do nothing to an ordinary cell, webhooks cannot reach Hive's machine or network (at request
// time, and again at connect time), and what a delivery records holds no answer body and no query.

let h: Harness;
let api: string;
let receiver: { server: Server; port: number; hits: string[] };

function startReceiver(): Promise<typeof receiver> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '/');
    req.resume();
    req.on('end', () => {
      res.statusCode = 500;
      res.end('internal page: AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port, hits }),
    ),
  );
}

beforeAll(async () => {
  delete process.env[NOTIFY_ALLOW_ENV];
  receiver = await startReceiver();
  h = await createHarness(
    'security-notify',
    { 'hive.config.json': JSON.stringify({ templates: { bare: { label: 'Worktree only' } } }) },
    { notifyRetryMs: 200 },
  );
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  api = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
});
afterEach(() => {
  delete process.env[NOTIFY_ALLOW_ENV];
});
afterAll(async () => {
  await h?.close();
  receiver?.server.close();
});

async function post(body: Record<string, unknown>) {
  const response = await fetch(`${api}/cells`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workspace: 'demo', template: 'bare', brief: 'security', ...body }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function accepted(body: Record<string, unknown>) {
  const answer = await post(body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body as { id: string; workflowId: string };
}

const detail = async (id: string) => (await (await fetch(`${api}/cells/${id}`)).json()) as CellDetail;

const pointers = (body: Record<string, unknown>) =>
  ((body.errors as Array<{ pointer: string }> | undefined) ?? []).map((e) => e.pointer);

describe('a {workflowId, signal} notify target', () => {
  it("naming one of Hive's workflows, or a control signal, is refused and nothing is signalled", async () => {
    const victim = await accepted({});
    await waitForStatus(h, victim.id, ['ready']);

    for (const workflowId of [
      victim.workflowId,
      'pool-demo-bare',
      `hosts-${h.taskQueue}`,
      ` CELL-${victim.id}`,
    ]) {
      const answer = await post({ notify: { workflowId, signal: 'recycle' } });
      expect(answer.status, workflowId).toBe(400);
      expect(pointers(answer.body)).toContain('#/notify/workflowId');
    }
    for (const signal of ['recycle', 'cancel', 'retry', 'cleanup', 'claim', 'archive', 'host']) {
      const answer = await post({ notify: { workflowId: 'my-orchestrator', signal } });
      expect(answer.status, signal).toBe(400);
      expect(pointers(answer.body)).toContain('#/notify/signal');
    }

    await new Promise((r) => setTimeout(r, 1_500));
    const after = await detail(victim.id);
    expect(after.status).toBe('ready');
    const history = JSON.stringify(await h.client.workflow.getHandle(victim.workflowId).fetchHistory());
    expect(history).not.toContain('WorkflowExecutionSignaled');
  });

  it('a delivery to such a target recorded before the check existed is refused by the delivery too', async () => {
    const victim = await accepted({});
    const sender = await accepted({});
    await waitForStatus(h, victim.id, ['ready']);
    await waitForStatus(h, sender.id, ['ready']);
    const id = `${sender.workflowId}-notify-ready-forged`;
    const delivery = await h.client.workflow.start(deliverCellEvent, {
      taskQueue: h.taskQueue,
      workflowId: id,
      args: [
        {
          id,
          cellId: sender.id,
          event: 'ready',
          failure: null,
          route: { kind: 'workflow', workflowId: victim.workflowId, signal: 'recycle' },
        },
      ],
    });
    await expect(delivery.result()).rejects.toThrow();
    const shown = (await detail(sender.id)).notifications.find((n) => n.id === id);
    expect(shown).toMatchObject({ state: 'failed' });
    expect(shown?.lastError).toMatch(/notify\.workflowId refused/);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await detail(victim.id)).status).toBe('ready');
    const history = JSON.stringify(await h.client.workflow.getHandle(victim.workflowId).fetchHistory());
    expect(history).not.toContain('WorkflowExecutionSignaled');
  });

  it('recycle (a pool signal) sent to a cell that is not a pool cell has no effect', async () => {
    const cell = await accepted({});
    await waitForStatus(h, cell.id, ['ready']);
    await h.client.workflow.getHandle(cell.workflowId).signal('recycle');
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await detail(cell.id);
    expect(after.status).toBe('ready');
    expect(after.archive).toBeNull();
    // Still obeys a person: archived (its work kept) when asked.
    expect((await fetch(`${api}/cells/${cell.id}`, { method: 'DELETE' })).status).toBe(202);
    const archived = await waitForStatus(h, cell.id, ['archived']);
    expect(archived.archive?.discarded ?? null).toBeNull();
  });
});

describe('a webhook notify target', () => {
  it('on loopback, private, link-local or unspecified addresses, or with credentials, is refused', async () => {
    const own = hostname();
    const resolvesInside = await lookup(own, { all: true })
      .then((found) => found.some((a) => refusedAddress(a.address) !== undefined))
      .catch(() => false);
    const urls = [
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://10.0.0.1/hook',
      'http://[fd00::1]/hook',
      `http://127.0.0.1:${receiver.port}/hook`,
      'http://[::1]/hook',
      'http://0.0.0.0/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://localhost/hook',
      'http://224.0.0.1/hook',
      // A name (not an address) that resolves to this machine: the API looks it up.
      ...(resolvesInside ? [`http://${own}:${receiver.port}/hook`] : []),
    ];
    for (const url of urls) {
      const answer = await post({ notify: { url } });
      expect(answer.status, url).toBe(400);
      expect(pointers(answer.body), url).toContain('#/notify/url');
      expect(answer.body.detail as string).toContain('HIVE_NOTIFY_ALLOW');
    }
    const withCredentials = await post({
      notify: { url: 'https://hook-user:s3cr3t-pass@hooks.example.com/hive?token=abc' },
    });
    expect(withCredentials.status).toBe(400);
    expect(pointers(withCredentials.body)).toContain('#/notify/url');
    expect(JSON.stringify(withCredentials.body)).not.toContain('s3cr3t-pass');
    expect(receiver.hits).toEqual([]);
    expect(await h.db.cell.count({ where: { notify: { not: null } } })).toBe(0);
  });

  it('an allowed internal target: what the cell shows holds no answer body and no query', async () => {
    process.env[NOTIFY_ALLOW_ENV] = '127.0.0.1';
    const url = `http://127.0.0.1:${receiver.port}/hook?token=query-token-value`;
    const cell = await accepted({ notify: { url } });
    const shown = await eventually(async () => {
      const found = (await detail(cell.id)).notifications.find((n) => n.event === 'ready');
      return found && found.attempts >= 2 ? found : undefined;
    }, 'two delivery attempts');
    expect(receiver.hits.some((hit) => hit.startsWith('/hook?token='))).toBe(true);
    expect(shown.lastError).toBe('HTTP 500 Internal Server Error');
    expect(shown.target).toBe(`http://127.0.0.1:${receiver.port}/hook?…`);
    const everything = JSON.stringify({
      cell: await detail(cell.id),
      events: await h.db.cellEvent.findMany({ where: { cellId: cell.id } }),
      history: await h.client.workflow.getHandle(shown.id).fetchHistory(),
    });
    expect(everything).not.toContain('AWS_SECRET_ACCESS_KEY');
    expect(everything).not.toContain('query-token-value');
    await h.client.workflow.getHandle(shown.id).terminate('test: enough attempts seen');
  });

  it('is checked again when the delivery connects: an address no longer allowed is not reached', async () => {
    // Allowed when requested, by a name resolving to this machine; refused by the time it is sent.
    const own = hostname();
    const [first] = await lookup(own, { all: true }).catch(() => []);
    const inside = first && refusedAddress(first.address) !== undefined;
    process.env[NOTIFY_ALLOW_ENV] = inside ? first.address : '127.0.0.1';
    const target = inside ? own : '127.0.0.1';
    const before = receiver.hits.length;
    const cell = await accepted({ notify: { url: `http://${target}:${receiver.port}/late?token=t0ken` } });
    delete process.env[NOTIFY_ALLOW_ENV];
    await waitForStatus(h, cell.id, ['ready']);
    const shown = await eventually(async () => {
      const found = (await detail(cell.id)).notifications.find((n) => n.event === 'ready');
      return found?.state === 'failed' ? found : undefined;
    }, 'the ready notification refused');
    expect(shown.lastError).toMatch(/^refused: .* is a loopback address/);
    expect(shown.lastError).not.toContain('t0ken');
    expect(receiver.hits.length).toBe(before);
  });
});
