import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../src/api/app.js';
import { createHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('badinput');
});
afterAll(() => h?.close());

/** Nothing was created: no row, and no workflow on this file's task queue. */
async function expectNothingCreated() {
  expect(await h.db.cell.count()).toBe(0);
  const started = await h.client.workflow.count(`TaskQueue="${h.taskQueue}"`);
  expect(started.count).toBe(0);
}

const valid = { workspace: 'demo', template: 'web', brief: 'do it' };

describe('POST /cells refuses bad input with problem+json and changes nothing', () => {
  const cases: Array<{
    name: string;
    payload?: string;
    contentType?: string;
    status: number;
    pointers?: string[];
    detail: RegExp;
  }> = [
    {
      name: 'missing fields',
      payload: JSON.stringify({ workspace: 'demo' }),
      status: 400,
      pointers: ['#/template', '#/brief'],
      detail: /template: is required.*brief: is required/,
    },
    {
      name: 'wrong types',
      payload: JSON.stringify({ workspace: 42, template: 'web', brief: ['x'] }),
      status: 400,
      pointers: ['#/workspace', '#/brief'],
      detail: /workspace: .*string/,
    },
    {
      name: 'unknown field',
      payload: JSON.stringify({ ...valid, colour: 'blue' }),
      status: 400,
      detail: /colour/,
    },
    {
      name: 'path traversal in a name',
      payload: JSON.stringify({ ...valid, name: '../../etc' }),
      status: 400,
      pointers: ['#/name'],
      detail: /name: letters, digits/,
    },
    {
      name: 'path traversal in a base ref',
      payload: JSON.stringify({ ...valid, baseRef: '../../etc/passwd' }),
      status: 400,
      pointers: ['#/baseRef'],
      detail: /baseRef: a branch, tag or commit/,
    },
    {
      name: 'shell metacharacters in a base ref',
      payload: JSON.stringify({ ...valid, baseRef: 'main; rm -rf /' }),
      status: 400,
      pointers: ['#/baseRef'],
      detail: /baseRef/,
    },
    {
      name: 'command substitution in a name',
      payload: JSON.stringify({ ...valid, name: '$(reboot)' }),
      status: 400,
      pointers: ['#/name'],
      detail: /name/,
    },
    {
      name: 'a base ref that looks like an option',
      payload: JSON.stringify({ ...valid, baseRef: '--upload-pack=evil' }),
      status: 400,
      pointers: ['#/baseRef'],
      detail: /baseRef/,
    },
    {
      name: 'unknown template',
      payload: JSON.stringify({ ...valid, template: 'nope' }),
      status: 422,
      detail: /no template "nope"/,
    },
    {
      name: 'unknown workspace',
      payload: JSON.stringify({ ...valid, workspace: 'elsewhere' }),
      status: 422,
      pointers: ['#/workspace'],
      detail: /No workspace "elsewhere".*Use one of: demo/,
    },
    {
      name: 'malformed JSON',
      payload: '{"workspace": "demo",',
      status: 400,
      detail: /not well-formed JSON/,
    },
    {
      name: 'a __proto__ key (well-formed JSON, refused on purpose)',
      payload: `{"workspace":"demo","template":"web","brief":"x","options":{"__proto__":{"admin":true}}}`,
      status: 400,
      detail: /well-formed JSON but uses the key "__proto__".*Rename/,
    },
    {
      name: 'a constructor.prototype key',
      payload: `{"workspace":"demo","template":"web","brief":"x","options":{"constructor":{"prototype":{}}}}`,
      status: 400,
      detail: /"constructor" holding "prototype"/,
    },
    {
      name: 'non-JSON body',
      payload: 'workspace=demo&template=web',
      contentType: 'text/plain',
      status: 415,
      detail: /Content-Type: application\/json/,
    },
    {
      name: 'body over the size limit',
      payload: JSON.stringify({ ...valid, brief: 'x'.repeat(BODY_LIMIT_BYTES + 1) }),
      status: 413,
      detail: /too large|Shorten/i,
    },
    {
      name: 'empty body',
      payload: '',
      status: 400,
      detail: /JSON/,
    },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status}`, async () => {
      const response = await h.app.inject({
        method: 'POST',
        url: '/cells',
        headers: { 'content-type': c.contentType ?? 'application/json' },
        payload: c.payload,
      });
      expect(response.statusCode).toBe(c.status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = response.json();
      expect(problem).toMatchObject({ status: c.status, instance: '/cells' });
      expect(problem.type).toMatch(/^urn:hive-cells:problem:/);
      expect(problem.title).toEqual(expect.any(String));
      expect(problem.detail).toMatch(c.detail);
      if (c.pointers) {
        expect(problem.errors.map((e: { pointer: string }) => e.pointer)).toEqual(
          expect.arrayContaining(c.pointers),
        );
      }
      await expectNothingCreated();
    });
  }
});
