import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellDetail } from '../src/cells/views.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';
import { readEvents } from './support/sse.js';
import { workspaceFiles } from './support/templates.js';

// Secret env values are references resolved only where a process starts: the processes get them,
// and they never show in the API, the SSE stream, failures, the prompt or Temporal history.
const API_KEY = `sk-test-${process.pid}-a1b2c3d4e5`;
const SVC_TOKEN = `svc-token-${process.pid}-f6e5d4`;
const DB_PASSWORD = `db-pass-${process.pid}-7788`;
process.env.HIVE_TEST_API_KEY = API_KEY;
process.env.HIVE_TEST_SVC_TOKEN = SVC_TOKEN;

/** Prints its secrets (as a careless service would) and answers /hash with a hash of them. */
const leaky = `const { createHash } = require('node:crypto');
const all = [process.env.API_KEY, process.env.SVC_TOKEN, process.env.DB_PASSWORD].join('|');
console.log('starting with key=' + process.env.API_KEY + ' token=' + process.env.SVC_TOKEN + ' db=' + process.env.DB_PASSWORD);
require('node:http')
  .createServer((req, res) => res.end(req.url === '/hash' ? createHash('sha256').update(all).digest('hex') : 'ok'))
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening, key=' + process.env.API_KEY));
`;

const secretEnv = {
  API_KEY: { secret: 'env:HIVE_TEST_API_KEY' },
  DB_PASSWORD: { secret: 'file:secrets/db-password' },
  PLAIN: 'not a secret',
};
const templates = {
  secretive: {
    label: 'Secretive',
    env: secretEnv,
    setup: ['echo "setup sees $API_KEY and $DB_PASSWORD"'],
    services: {
      web: {
        run: 'node leaky.js',
        env: { SVC_TOKEN: { secret: 'env:HIVE_TEST_SVC_TOKEN' } },
        readiness: { type: 'http', path: '/health', periodMs: 100 },
        readyTimeoutMs: 20_000,
      },
    },
    prompts: ['prompts/role.md'],
  },
  failing: {
    label: 'Fails loudly',
    env: secretEnv,
    setup: ['echo "about to fail holding $API_KEY"; exit 2'],
  },
  unresolvable: { label: 'Missing secret', env: { X: { secret: 'env:HIVE_TEST_NEVER_SET' } } },
};

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await createHarness('secrets', {
    ...workspaceFiles(templates),
    '.gitignore': 'secrets/\n',
    'leaky.js': leaky,
  });
  await mkdir(path.join(h.workspace.path, 'secrets'));
  await writeFile(path.join(h.workspace.path, 'secrets/db-password'), `${DB_PASSWORD}\n`);
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
});
afterAll(() => h?.close());

const post = async (template: string) => {
  const response = await fetch(`${base}/cells`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workspace: 'demo', template, brief: 'keep secrets' }),
  });
  expect(response.status).toBe(202);
  return (await response.json()) as { id: string; workflowId: string };
};

/** Every string in a Temporal history, payloads decoded. */
async function historyText(workflowId: string): Promise<string> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const parts: string[] = [];
  const walk = (value: unknown) => {
    if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    else if (typeof value === 'string') parts.push(value);
  };
  walk(history);
  return parts.join('\n');
}

const expectNoSecret = (text: string, where: string) => {
  for (const secret of [API_KEY, SVC_TOKEN, DB_PASSWORD]) {
    expect(text.includes(secret), `${where} holds a secret value`).toBe(false);
  }
};

describe('secret env values', () => {
  it('reach the processes, and nothing else: not the API, SSE, prompt, events or Temporal history', async () => {
    const { id, workflowId } = await post('secretive');
    const events = await readEvents(`${base}/cells/${id}/events`);
    const cell = await waitForStatus(h, id, ['ready']);

    // The service really got them (it answers with a hash of what it saw).
    const web = cell.services.find((s) => s.name === 'web');
    const seen = await (await fetch(`${web?.url}/hash`)).text();
    expect(seen).toBe(createHash('sha256').update([API_KEY, SVC_TOKEN, DB_PASSWORD].join('|')).digest('hex'));
    // Setup got them too (its own log is the command's output, kept on the host).
    const setupLog = await readFile(path.join(cell.worktreePath ?? '', '.hive/logs/setup.log'), 'utf8');
    expect(setupLog).toContain(`setup sees ${API_KEY} and ${DB_PASSWORD}`);
    // The env file the agent sources has them, readable by Hive's user only.
    const envFile = path.join(cell.worktreePath ?? '', '.hive/env');
    expect(await readFile(envFile, 'utf8')).toContain(`API_KEY=${API_KEY}`);
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);

    // The service printed them; the stream shows the lines, masked.
    const logLines = events.filter((e) => e.event === 'log').map((e) => e.data.line ?? '');
    expect(
      logLines.some((l) => l.includes('starting with key=[secret API_KEY] token=[secret SVC_TOKEN]')),
    ).toBe(true);
    expectNoSecret(JSON.stringify(events), 'the SSE stream');
    const detail = await (await fetch(`${base}/cells/${id}`)).text();
    expectNoSecret(detail, 'GET /cells/:id');
    expect(JSON.parse(detail).prompt.content).toContain('You build small, careful changes');
    const template = (await (await fetch(`${base}/templates/secretive?workspace=demo`)).json()) as {
      env: Record<string, unknown>;
    };
    expect(template.env.API_KEY).toEqual({ secret: 'env:HIVE_TEST_API_KEY' });
    // The log tail and the environment the API shows: lines masked, secret values hidden by name.
    const logs = (await (await fetch(`${base}/cells/${id}/services/web/logs?lines=50`)).json()) as {
      lines: string[];
    };
    expect(logs.lines).toContain(
      'starting with key=[secret API_KEY] token=[secret SVC_TOKEN] db=[secret DB_PASSWORD]',
    );
    expectNoSecret(JSON.stringify(logs), 'GET /cells/:id/services/web/logs');
    const env = (await (await fetch(`${base}/cells/${id}/env`)).json()) as {
      file: string;
      variables: Array<{ name: string; value: string | null; secret: boolean }>;
    };
    expect(env.file).toBe(envFile);
    expect(env.variables).toContainEqual({ name: 'API_KEY', value: null, secret: true });
    expect(env.variables).toContainEqual({ name: 'PLAIN', value: 'not a secret', secret: false });
    expect(env.variables.find((v) => v.name === 'WEB_PORT')?.value).toBe(String(web?.port));
    expectNoSecret(JSON.stringify(env), 'GET /cells/:id/env');
    const missing = await fetch(`${base}/cells/${id}/services/nope/logs`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { detail: string }).detail).toMatch(
      /no service "nope". Its services: web/,
    );
    expectNoSecret(JSON.stringify(await h.db.cellEvent.findMany({ where: { cellId: id } })), 'cell events');
    expectNoSecret(JSON.stringify(await h.db.step.findMany({ where: { cellId: id } })), 'step records');
    const history = await historyText(workflowId);
    expect(history).toContain('HIVE_TEST_API_KEY'); // the reference travels, the value does not
    expectNoSecret(history, 'Temporal history');
  });

  it('a failure log tail masks them (it reaches the database, the API and history)', async () => {
    const { id, workflowId } = await post('failing');
    const failed = await waitForStatus(h, id, ['failed']);
    expect(failed.failure?.logTail).toContain('about to fail holding [secret API_KEY]');
    expectNoSecret(JSON.stringify(failed), 'the failed cell');
    expectNoSecret(await historyText(workflowId), 'Temporal history');
  });

  it('a reference that does not resolve is refused by the dry run, naming the variable and how to fix it', async () => {
    const cells = await h.db.cell.count();
    const response = await fetch(`${base}/cells`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workspace: 'demo', template: 'unresolvable', brief: 'x' }),
    });
    expect(response.status).toBe(422);
    const problem = (await response.json()) as {
      findings: Array<{ path: string; message: string; hint: string }>;
    };
    expect(problem.findings).toContainEqual({
      severity: 'error',
      path: 'templates.unresolvable.env.X',
      message: expect.stringMatching(/X: HIVE_TEST_NEVER_SET is not set/),
      hint: expect.stringMatching(/Set HIVE_TEST_NEVER_SET/),
    });
    expect(await h.db.cell.count()).toBe(cells);
  });

  it('a secret gone between request and retry fails the retry, naming it and how to fix it', async () => {
    // The file is there for the dry run, and gone when the cell is retried.
    const file = path.join(h.workspace.path, 'secrets/db-password');
    const { id } = await post('failing');
    await waitForStatus(h, id, ['failed']);
    await rm(file);
    try {
      const retry = await fetch(`${base}/cells/${id}/retry`, { method: 'POST' });
      expect(retry.status).toBe(202);
      const failed = await eventually(async () => {
        const cell = await cellDetail(h.db, id);
        return cell?.status === 'failed' && /DB_PASSWORD/.test(cell.failure?.message ?? '')
          ? cell
          : undefined;
      }, 'failed again, over the missing secret');
      expect(failed.failure?.message).toMatch(/DB_PASSWORD: cannot read .*db-password \(ENOENT\)/);
      expect(failed.failure?.hint).toMatch(/Create .*db-password/);
    } finally {
      await writeFile(file, `${DB_PASSWORD}\n`);
    }
  });
});
