import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellDetail } from '../src/cells/views.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { listening } from './support/residue.js';
import { webService, workspaceFiles } from './support/templates.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness(
    'concurrency',
    workspaceFiles({
      web: { label: 'Web', services: { web: { ...webService, ports: { primary: 'any', admin: 'any' } } } },
    }),
  );
});
afterAll(() => h?.close());

describe('concurrency', () => {
  it('10 cells from one template provisioned at once all become ready on distinct ports', async () => {
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.app.inject({
          method: 'POST',
          url: '/cells',
          payload: { workspace: 'demo', template: 'web', brief: `cell ${i}` },
        }),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(202));
    const ids = responses.map((r) => r.json().id as string);
    const settled = await Promise.all(ids.map((id) => waitForStatus(h, id, ['ready', 'failed'])));
    // A failed cell says why, at once.
    for (const cell of settled) expect(cell.status, JSON.stringify(cell.failure)).toBe('ready');
    const cells = await Promise.all(ids.map((id) => cellDetail(h.db, id)));
    expect(cells.map((c) => c?.status)).toEqual(Array(10).fill('ready'));
    const ports = cells.flatMap((c) => c?.ports.map((p) => p.port) ?? []);
    expect(ports).toHaveLength(20);
    expect(new Set(ports).size).toBe(20);
    // Each cell's own server answers on its own port.
    for (const cell of cells) {
      const web = cell?.services[0];
      expect(await listening(web?.port ?? 0)).toBe(true);
      expect(await (await fetch(`${web?.url}/`)).text()).toBe(`hello from ${cell?.id}`);
    }
  }, 240_000);
});
