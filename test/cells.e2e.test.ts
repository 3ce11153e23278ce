import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellIdKey, CellStatusKey, TemplateIdKey, WorkspaceIdKey } from '../src/temporal/searchAttributes.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('cells');
});
afterAll(() => h?.close());

describe('POST /cells → workflow → records', () => {
  it('accepts a request, runs the workflow on the real server and records the result', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'web', brief: 'Add a health endpoint' },
    });
    expect(response.statusCode).toBe(202);
    const accepted = response.json();
    expect(accepted).toMatchObject({ status: 'pending', workflowId: `cell-${accepted.id}` });
    expect(response.headers.location).toBe(`/cells/${accepted.id}`);

    const handle = h.client.workflow.getHandle(accepted.workflowId);
    // The workflow stays alive as the cell's owner; the record says when it is ready.
    await waitForStatus(h, accepted.id, ['ready']);
    expect((await handle.describe()).status.name).toBe('RUNNING');

    const row = await h.db.cell.findUniqueOrThrow({ where: { id: accepted.id } });
    expect(row).toMatchObject({ status: 'ready', workspaceId: 'demo', templateId: 'web' });

    // The search attribute follows the record on the workflow's next task: wait for it.
    const description = await eventually(async () => {
      const d = await handle.describe();
      return d.typedSearchAttributes.get(CellStatusKey) === 'ready' ? d : undefined;
    }, 'CellStatus=ready');
    expect(description.typedSearchAttributes.get(CellIdKey)).toBe(accepted.id);
    expect(description.typedSearchAttributes.get(TemplateIdKey)).toBe('web');
    expect(description.typedSearchAttributes.get(WorkspaceIdKey)).toBe('demo');
    expect(description.typedSearchAttributes.get(CellStatusKey)).toBe('ready');
    expect(description.taskQueue).toBe(h.taskQueue);
    expect(await description.memo).toMatchObject({ workspace: 'demo', template: 'web' });
    // The Temporal UI's workflow list says what the cell is for.
    expect(await description.staticSummary()).toBe('demo/web: Add a health endpoint');
    expect(await description.staticDetails()).toContain(`\`${accepted.id}\``);

    const one = await h.app.inject({ method: 'GET', url: `/cells/${accepted.id}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: accepted.id, status: 'ready', brief: 'Add a health endpoint' });

    const list = await h.app.inject({ method: 'GET', url: '/cells?workspace=demo' });
    expect(list.json().cells.map((c: { id: string }) => c.id)).toContain(accepted.id);
  });

  it('finds the cell by its search attribute through the visibility API', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'api', brief: 'Find me', name: 'findable' },
    });
    const { id, workflowId } = response.json();
    await waitForStatus(h, id, ['ready']);
    // Visibility is eventually consistent: poll briefly for the indexed record.
    let found: string[] = [];
    for (let attempt = 0; attempt < 50 && found.length === 0; attempt++) {
      found = [];
      for await (const wf of h.client.workflow.list({ query: `CellId="${id}"` })) found.push(wf.workflowId);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toEqual([workflowId]);
  });

  it('answers 404 problem+json for an unknown cell and for an unknown route', async () => {
    const cell = await h.app.inject({ method: 'GET', url: '/cells/c00000000000' });
    expect(cell.statusCode).toBe(404);
    expect(cell.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(cell.json()).toMatchObject({ status: 404, title: 'Cell not found' });

    const route = await h.app.inject({ method: 'GET', url: '/nowhere' });
    expect(route.statusCode).toBe(404);
    expect(route.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('serves the OpenAPI document and the interactive docs', async () => {
    const spec = await h.app.inject({ method: 'GET', url: '/docs/json' });
    expect(spec.statusCode).toBe(200);
    const doc = spec.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/cells', '/cells/{id}', '/healthz']));
    expect(doc.paths['/cells'].post.requestBody.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['workspace', 'template', 'brief']),
    );
    const ui = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });
});
