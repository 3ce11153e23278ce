import { Client, Connection } from '@temporalio/client';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/api/app.js';
import { createHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('health');
});
afterAll(() => h?.close());

describe('GET /healthz', () => {
  it('reports both dependencies up', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'ok',
      checks: { temporal: { ok: true }, database: { ok: true } },
    });
  });

  it('reports degraded with 503 when Temporal cannot be reached', async () => {
    // A real connection to a port nothing listens on: the probe fails for real.
    const connection = Connection.lazy({ address: `127.0.0.1:${await getPort()}`, connectTimeout: 500 });
    const app = await buildApp({
      db: h.db,
      temporal: { client: new Client({ connection }), namespace: 'default', taskQueue: h.taskQueue },
      workspaces: [h.workspace],
      configs: h.configs,
    });
    try {
      const response = await app.inject({ method: 'GET', url: '/healthz' });
      expect(response.statusCode).toBe(503);
      const body = response.json();
      expect(body.status).toBe('degraded');
      expect(body.checks.temporal.ok).toBe(false);
      expect(body.checks.temporal.detail).toEqual(expect.any(String));
      expect(body.checks.database).toEqual({ ok: true });
    } finally {
      await app.close();
    }
  });
});
