import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/auth/tokens.js';
import { packageRoot } from '../src/config/paths.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { webService, workspaceFiles } from './support/templates.js';

// An agent runner's view of Hive: an MCP client from the official SDK, over stdio (`hive mcp` as a
// real process, talking to a real API over HTTP) and over streamable HTTP (`/mcp` on the API),
// lists the tools, creates a cell, waits for it with progress, reads it, and archives it.

const TOOLS = [
  'archive_cell',
  'cancel_cell',
  'create_cell',
  'get_cell',
  'list_cells',
  'list_templates',
  'restart_service',
  'resume_cell',
  'retry_cell',
  'service_logs',
  'wait_for_cell',
];

let h: Harness;
let apiUrl: string;

beforeAll(async () => {
  h = await createHarness(
    'mcp',
    workspaceFiles({
      web: { label: 'Web', services: { web: webService } },
      bare: { label: 'Worktree only' },
    }),
  );
  apiUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => h?.close());

async function connect(transport: Transport) {
  const client = new Client({ name: 'hive-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

type Structured = Record<string, unknown> & {
  id: string;
  status: string;
  worktree: string;
  services: Array<{ name: string; url: string | null }>;
  env: string[];
  prompt: string | null;
};

async function call(client: Client, name: string, args: Record<string, unknown>, onprogress?: () => void) {
  const result = (await client.callTool({ name, arguments: args }, undefined, {
    timeout: 120_000,
    resetTimeoutOnProgress: true,
    ...(onprogress ? { onprogress } : {}),
  })) as CallToolResult;
  return result;
}

const data = (result: CallToolResult) => {
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  return result.structuredContent as Structured;
};

/** From nothing to a ready cell with one call and one wait, then archived. */
async function lifeOfACell(client: Client, template: 'web' | 'bare') {
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
  const create = tools.find((t) => t.name === 'create_cell');
  // The input schema is the API's own CellRequest (zod), notify included.
  expect(create?.inputSchema.required).toEqual(expect.arrayContaining(['workspace', 'template', 'brief']));
  expect(Object.keys(create?.inputSchema.properties ?? {})).toEqual(
    expect.arrayContaining(['options', 'baseRef', 'onFailure', 'notify', 'idempotencyKey']),
  );

  const templates = data(await call(client, 'list_templates', {})) as unknown as {
    templates: Array<{ workspace: string; id: string }>;
  };
  expect(templates.templates.map((t) => `${t.workspace}/${t.id}`)).toEqual(
    expect.arrayContaining(['demo/web', 'demo/bare']),
  );

  const created = data(
    await call(client, 'create_cell', { workspace: 'demo', template, brief: `MCP ${template} cell` }),
  );
  expect(created.status).toBe('pending');
  let progress = 0;
  const ready = data(await call(client, 'wait_for_cell', { id: created.id }, () => progress++));
  expect(ready).toMatchObject({ id: created.id, status: 'ready', branch: `cell/${created.id}` });
  expect(progress).toBeGreaterThan(0);
  expect(ready.prompt).toContain(`MCP ${template} cell`);
  expect(ready.promptFile).toBe(`${ready.worktree}/.hive/prompt.md`);
  expect(ready.envFile).toBe(path.join(ready.worktree, '.hive', 'env'));
  expect(ready.env).toEqual(expect.arrayContaining(['HIVE_CELL_ID']));
  if (template === 'web') {
    expect(ready.env).toEqual(expect.arrayContaining(['WEB_PORT', 'WEB_URL']));
    const url = ready.services[0]?.url as string;
    expect(await (await fetch(`${url}/health`)).text()).toBe('ok');
    const logs = await call(client, 'service_logs', { id: created.id, service: 'web', lines: 20 });
    expect((logs.content[0] as { text: string }).text).toContain('listening on');
    expect(data(await call(client, 'restart_service', { id: created.id, service: 'web' })).status).toBe(
      'ready',
    );
  }
  const got = data(await call(client, 'get_cell', { id: created.id, prompt: false }));
  expect(got).toMatchObject({ id: created.id, status: 'ready' });
  expect(got.prompt).toBeUndefined();

  const archiving = data(await call(client, 'archive_cell', { id: created.id }));
  expect(archiving.id).toBe(created.id);
  expect(['archiving', 'archived']).toContain(archiving.status);
  expect(data(await call(client, 'wait_for_cell', { id: created.id })).status).toBe('archived');
  await waitForStatus(h, created.id, ['archived']);

  // A refusal is a tool error the agent can read: the API's problem, with what to fix.
  const refused = await call(client, 'create_cell', { workspace: 'demo', template: 'nope', brief: 'x' });
  expect(refused.isError).toBe(true);
  expect((refused.content[0] as { text: string }).text).toMatch(/^422 /);
}

describe('MCP server', () => {
  it('over stdio: hive mcp, pointed at the API with HIVE_URL', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.join(packageRoot, 'bin', 'hive.js'), 'mcp'],
      cwd: packageRoot,
      env: { ...(process.env as Record<string, string>), HIVE_URL: apiUrl, HIVE_TOKEN: '' },
      stderr: 'pipe',
    });
    const client = await connect(transport);
    try {
      await lifeOfACell(client, 'web');
    } finally {
      await client.close();
    }
  });

  it('over streamable HTTP at /mcp on the API', async () => {
    const client = await connect(new StreamableHTTPClientTransport(new URL(`${apiUrl}/mcp`)));
    try {
      await lifeOfACell(client, 'bare');
    } finally {
      await client.close();
    }
  });

  it('/mcp is behind the same tokens: none is 401, a viewer reads but cannot create', async () => {
    const viewer = await createToken(h.db, { name: 'mcp-viewer', role: 'viewer' });
    const anonymous = await fetch(`${apiUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(anonymous.status).toBe(401);
    const client = await connect(
      new StreamableHTTPClientTransport(new URL(`${apiUrl}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${viewer.secret}` } },
      }),
    );
    try {
      expect((await client.listTools()).tools).toHaveLength(TOOLS.length);
      expect(data(await call(client, 'list_cells', {})).cells).toHaveLength(2);
      const refused = await call(client, 'create_cell', { workspace: 'demo', template: 'bare', brief: 'x' });
      expect(refused.isError).toBe(true);
      expect((refused.content[0] as { text: string }).text).toMatch(/^403 .*needs the role operator/s);
    } finally {
      await client.close();
    }
  });
});
