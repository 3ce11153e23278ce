import { readFile } from 'node:fs/promises';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { expectZeroResidue, listening } from './support/residue.js';
import { workspaceFiles } from './support/templates.js';

// Port truth: what a service really listens on, seen while Hive waits for it to be ready.

/** A server that ignores $PORT: it listens on the port in its argv and prints where, as vite does. */
const ownPortServer = `const port = Number(process.argv[2]);
require('node:http')
  .createServer((req, res) => res.end('ok'))
  .listen(port, '127.0.0.1', () => console.log('  Local:   http://localhost:' + port + '/'));
`;

/** Listens on $PORT, then exits with code 4 a moment later (a server rejecting its config). */
const listenThenExit = `require('node:net')
  .createServer()
  .listen(Number(process.env.PORT), '127.0.0.1', () => {
    console.log('listening; now checking the environment');
    setTimeout(() => { console.error('Invalid environment variables: DATABASE_URL'); process.exit(4); }, 300);
  });
`;

/** Opens a helper port first (an HMR socket, say), and its real one, $PORT, 600 ms later. */
const helperFirst = `const net = require('node:net');
net.createServer().listen(Number(process.argv[2]), '127.0.0.1', () => {
  console.log('helper listening');
  setTimeout(() => net.createServer().listen(Number(process.env.PORT), '127.0.0.1'), 600);
});
`;

/** Listens on the two ports in its argv; prints the URL of the one named by its third argument. */
const twoPorts = `const net = require('node:net');
const [a, b, named] = process.argv.slice(2).map(Number);
for (const port of [a, b]) net.createServer().listen(port, '127.0.0.1');
if (named) console.log('ready at http://127.0.0.1:' + named);
`;

describe('service readiness knows which ports a service really listens on', () => {
  let h: Harness;
  let hardCoded: number;
  let chosen: number;
  let helper: number;
  let pair: [number, number];

  beforeAll(async () => {
    hardCoded = await getPort();
    chosen = await getPort({ exclude: [hardCoded] });
    helper = await getPort({ exclude: [hardCoded, chosen] });
    pair = [await getPort({ exclude: [hardCoded, chosen, helper] }), 0];
    pair[1] = await getPort({ exclude: [hardCoded, chosen, helper, pair[0]] });
    h = await createHarness('svcports', {
      ...workspaceFiles({
        // readyTimeoutMs is left at its default (120 s): the wrong port must be seen long before.
        wrongPort: { label: 'x', services: { web: { run: `node own.js ${hardCoded}` } } },
        auto: {
          label: 'x',
          prompts: ['prompts/role.md'],
          services: {
            web: {
              run: `node own.js ${chosen}`,
              ports: { primary: 'auto' },
              readiness: { type: 'http', path: '/', periodMs: 100 },
            },
            // Started once web is ready: it gets the adopted port in its environment.
            client: {
              run: 'echo "client sees $WEB_URL"; exec sleep 600',
              ports: {},
              dependsOn: { web: 'healthy' },
            },
          },
        },
        exitsAfterListen: {
          label: 'x',
          services: { web: { run: 'node exit.js', settleMs: 3_000, readyTimeoutMs: 20_000 } },
        },
        helperFirst: { label: 'x', services: { web: { run: `node helper.js ${helper}` } } },
        autoNamed: {
          label: 'x',
          services: {
            web: { run: `node two.js ${pair[0]} ${pair[1]} ${pair[1]}`, ports: { primary: 'auto' } },
          },
        },
        autoAmbiguous: {
          label: 'x',
          services: { web: { run: `node two.js ${pair[0]} ${pair[1]}`, ports: { primary: 'auto' } } },
        },
        listensNowhere: { label: 'x', services: { web: { run: 'exec sleep 60', readyTimeoutMs: 1_500 } } },
        // Up on its port, answering every request with a 500 of its own (a page whose data source fails).
        erring: {
          label: 'x',
          services: {
            web: { run: 'node erring.js', readiness: { type: 'http', path: '/', periodMs: 200 } },
          },
        },
        warming: {
          label: 'x',
          services: {
            web: {
              run: 'node warming.js',
              readiness: { type: 'http', path: '/', periodMs: 200 },
              readyTimeoutMs: 2_000,
            },
          },
        },
      }),
      'own.js': ownPortServer,
      'exit.js': listenThenExit,
      'helper.js': helperFirst,
      'two.js': twoPorts,
      'warming.js': `require('node:http')
  .createServer((req, res) => { res.statusCode = 503; res.end('warming up'); })
  .listen(Number(process.env.PORT), '127.0.0.1');
`,
      'erring.js': `require('node:http')
  .createServer((req, res) => { console.error('Error: fetch failed (api.example.invalid)'); res.statusCode = 500; res.end('boom'); })
  .listen(Number(process.env.PORT), '127.0.0.1');
`,
    });
  });
  afterAll(() => h?.close());

  it('a service that ignores $PORT fails within seconds, naming both ports and the fix', async () => {
    const started = Date.now();
    const id = await requestCell(h, 'wrongPort', { onFailure: 'rollback' });
    const cell = await waitForStatus(h, id, ['rolled_back', 'ready']);
    const elapsed = Date.now() - started;
    expect(cell.status).toBe('rolled_back');
    expect(cell.failure).toMatchObject({ step: 'services', type: 'ServiceWrongPort' });
    const allocated = cell.ports.find((p) => p.service === 'web')?.port;
    expect(cell.failure?.message).toBe(`web listens on :${hardCoded}, not on the allocated :${allocated}`);
    expect(cell.failure?.hint).toContain('--port $PORT');
    expect(cell.failure?.logTail).toContain(`http://localhost:${hardCoded}/`);
    // Not the 120 s readiness timeout: the wait lasts the grace for a helper port and a look or two.
    const wait = cell.steps.find((s) => s.name === 'services.web.ready');
    expect(wait?.status).toBe('failed');
    const waited = Date.parse(wait?.endedAt ?? '') - Date.parse(wait?.startedAt ?? '');
    expect(waited).toBeLessThan(10_000);
    expect(elapsed).toBeLessThan(60_000);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('an auto port is adopted: registry, API, .hive/env, dependents, prompt; none left after archive', async () => {
    const id = await requestCell(h, 'auto');
    const cell = await waitForStatus(h, id, ['ready', 'failed']);
    expect(cell.status, JSON.stringify(cell.failure)).toBe('ready');
    expect(cell.ports).toContainEqual({ service: 'web', name: 'primary', port: chosen, active: true });
    const web = cell.services.find((s) => s.name === 'web');
    expect(web).toMatchObject({ status: 'ready', port: chosen, url: `http://127.0.0.1:${chosen}` });
    const env = await readFile(`${cell.worktreePath}/.hive/env`, 'utf8');
    expect(env).toContain(`WEB_PORT=${chosen}\n`);
    expect(env).toContain(`WEB_URL=http://127.0.0.1:${chosen}\n`);
    expect(env).toContain(`HIVE_CELL_ID=${id}\n`);
    const client = cell.services.find((s) => s.name === 'client');
    expect(await readFile(client?.logPath ?? '', 'utf8')).toContain(`client sees http://127.0.0.1:${chosen}`);
    const prompt = await readFile(`${cell.worktreePath}/.hive/prompt.md`, 'utf8');
    expect(prompt).toContain(`| web | ${chosen} | http://127.0.0.1:${chosen} |`);
    expect(prompt).toContain(`The API is at http://127.0.0.1:${chosen}.`);

    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    await expectZeroResidue(h.db, h.workspace.path, id);
    expect(await listening(chosen)).toBe(false);
  });

  it('a service that exits just after its probe passed is not ready: its step fails with code and log', async () => {
    const id = await requestCell(h, 'exitsAfterListen', { onFailure: 'rollback' });
    const cell = await waitForStatus(h, id, ['rolled_back', 'ready', 'degraded']);
    expect(cell.status).toBe('rolled_back');
    expect(cell.failure).toMatchObject({ step: 'services', type: 'ServiceExited' });
    expect(cell.failure?.message).toMatch(/^web exited with code 4 \d+ ms after its probe passed/);
    expect(cell.failure?.logTail).toContain('Invalid environment variables');
    // It never counted as ready.
    expect(cell.steps.find((s) => s.name === 'services.web.ready')?.status).toBe('failed');
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('an auto service on two ports: the one its log names is adopted; with none named, it fails', async () => {
    const named = await requestCell(h, 'autoNamed', { onFailure: 'rollback' });
    const cell = await waitForStatus(h, named, ['ready', 'rolled_back']);
    expect(cell.status, JSON.stringify(cell.failure)).toBe('ready');
    expect(cell.services[0]).toMatchObject({ name: 'web', port: pair[1] });
    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${named}` })).statusCode).toBe(202);
    await waitForStatus(h, named, ['archived']);

    const ambiguous = await requestCell(h, 'autoAmbiguous', { onFailure: 'rollback' });
    const failed = await waitForStatus(h, ambiguous, ['ready', 'rolled_back']);
    expect(failed.failure).toMatchObject({ step: 'services', type: 'ServicePortAmbiguous' });
    expect(failed.failure?.message).toBe(
      `web listens on :${Math.min(...pair)}, :${Math.max(...pair)} and its log names none of them: which is its port?`,
    );
    await expectZeroResidue(h.db, h.workspace.path, ambiguous);
  });

  it('a helper port opened before the real one is not taken for a wrong port', async () => {
    const id = await requestCell(h, 'helperFirst', { onFailure: 'rollback' });
    const cell = await waitForStatus(h, id, ['ready', 'rolled_back']);
    expect(cell.status, JSON.stringify(cell.failure)).toBe('ready');
    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('a server that answers its probe with its own 500 fails in seconds, not at the readiness timeout', async () => {
    const id = await requestCell(h, 'erring', { onFailure: 'rollback' });
    const cell = await waitForStatus(h, id, ['rolled_back', 'ready']);
    expect(cell.failure).toMatchObject({ step: 'services', type: 'ServiceNotReady' });
    expect(cell.failure?.message).toContain('HTTP 500');
    expect(cell.failure?.logTail).toContain('fetch failed');
    const wait = cell.steps.find((s) => s.name === 'services.web.ready');
    const waited = Date.parse(wait?.endedAt ?? '') - Date.parse(wait?.startedAt ?? '');
    // The default readiness timeout is 120 s: this is named after ~15 s of errors.
    expect(waited).toBeLessThan(60_000);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('a server still answering 503 at the timeout is told to wait longer, not to check its probe', async () => {
    const id = await requestCell(h, 'warming', { onFailure: 'rollback' });
    const cell = await waitForStatus(h, id, ['rolled_back', 'ready']);
    expect(cell.failure).toMatchObject({ step: 'services', type: 'ServiceNotReady' });
    expect(cell.failure?.message).toMatch(/^web not ready after 2000 ms: listens on :\d+; .*503/);
    expect(cell.failure?.hint).toMatch(
      /^It listens and says it is not ready yet \(HTTP 503\): raise readyTimeoutMs/,
    );
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('a service that listens nowhere times out with the hint to wait longer', async () => {
    const id = await requestCell(h, 'listensNowhere', { onFailure: 'rollback' });
    const cell = await waitForStatus(h, id, ['rolled_back', 'ready']);
    expect(cell.failure).toMatchObject({ step: 'services', type: 'ServiceNotReady' });
    expect(cell.failure?.message).toMatch(
      /^web not ready after 1500 ms: listens on no port yet; tcp :\d+ → refused$/,
    );
    expect(cell.failure?.hint).toMatch(/^Raise readyTimeoutMs if it is just slow/);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });
});

describe('auto ports in the dry run', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(
      'svcportsdry',
      workspaceFiles({
        autoReferenced: {
          label: 'x',
          services: {
            web: { run: 'node own.js 3000', ports: { primary: 'auto' } },
            api: { run: 'node server.js', env: { WEB: 'http://127.0.0.1:$PORT:web' }, dependsOn: ['web'] },
          },
        },
        autoAndMore: {
          label: 'x',
          services: { web: { run: 'node own.js 3000', ports: { primary: 'auto', admin: 'any' } } },
        },
      }),
      { worker: false },
    );
  });
  afterAll(() => h?.close());

  const findings = async (template: string) => {
    const response = await h.app.inject({
      method: 'POST',
      url: `/templates/${template}/validate`,
      payload: { workspace: 'demo' },
    });
    expect(response.statusCode).toBe(200);
    return (response.json() as { findings: Array<{ path: string; message: string; hint: string }> }).findings;
  };

  it('a placeholder cannot name an auto port: the finding points to the variable a dependent reads', async () => {
    expect(await findings('autoReferenced')).toContainEqual(
      expect.objectContaining({
        path: 'templates.autoReferenced.services.api.env.WEB',
        message: '$PORT:web: the port of web is "auto", chosen by web once it runs',
        hint: expect.stringContaining('WEB_PORT'),
      }),
    );
  });

  it("an auto port must be the service's only port", async () => {
    expect(await findings('autoAndMore')).toContainEqual(
      expect.objectContaining({
        path: 'templates.autoAndMore.services.web.ports',
        message: 'an "auto" port must be the service\'s only port',
      }),
    );
  });
});
