import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import getPort from 'get-port';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, revokeToken } from '../src/auth/tokens.js';
import { cellDetail } from '../src/cells/views.js';
import { loadConfig } from '../src/config/env.js';
import { declaredServicesFrom, type HiveProxy, startProxy } from '../src/proxy/index.js';
import { connectBrowser, openPage } from './support/browser.js';
import { requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';

// Hive's proxy, for real: cells provisioned by the real workflow, their services real processes,
// requests from curl (which resolves *.localhost to loopback itself) and from Chromium.

const app = (name: string) => ({
  run: 'node app.cjs',
  env: { SERVICE_NAME: name },
  readiness: { type: 'http', path: '/health', periodMs: 100 },
  readyTimeoutMs: 20_000,
});

interface Curl {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The head as received (repeated headers, e.g. Set-Cookie, each on its line). */
  head: string;
}

/** curl -i, answer parsed (the last response's head when redirects were followed). */
async function curl(url: string, ...args: string[]): Promise<Curl> {
  const { stdout } = await execa('curl', ['-s', '-i', '--max-time', '10', ...args, url]);
  const [head = '', ...rest] = stdout.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), head };
}

describe("the proxy's configuration", () => {
  it('listens next to the API on loopback by default; HIVE_PROXY_PORT moves it or turns it off', () => {
    const base = { HIVE_WORKSPACES: '' };
    expect(loadConfig({ ...base }).proxy).toEqual({
      host: '127.0.0.1',
      port: 4401,
      domain: 'localhost',
      fixed: false,
    });
    expect(loadConfig({ ...base, HIVE_PORT: '5000' }).proxy?.port).toBe(5001);
    expect(loadConfig({ ...base, HIVE_PROXY_PORT: '8080' }).proxy).toMatchObject({ port: 8080, fixed: true });
    expect(loadConfig({ ...base, HIVE_PROXY_PORT: 'off' }).proxy).toBeUndefined();
    expect(() => loadConfig({ ...base, HIVE_PROXY_PORT: 'soon' })).toThrow(/HIVE_PROXY_PORT/);
    expect(() => loadConfig({ ...base, HIVE_PROXY_DOMAIN: 'Bad_Name' })).toThrow(/HIVE_PROXY_DOMAIN/);
  });
});

describe("Hive's proxy reaches cells' services by name", () => {
  let h: Harness;
  let proxy: HiveProxy;
  let browser: Browser;
  let a: string;
  let b: string;
  let broken: string;
  let auto: string;
  let port: number;
  const url = (host: string, rest = '/') => `http://${host}.localhost:${port}${rest}`;

  beforeAll(async () => {
    port = await getPort();
    h = await createHarness(
      'proxy',
      {
        'hive.config.json': JSON.stringify({
          templates: {
            site: { label: 'two services', services: { web: app('web'), api_v2: app('api_v2') } },
            auto: {
              label: 'chooses its port',
              services: {
                web: {
                  ...app('web'),
                  env: { SERVICE_NAME: 'web', PICK_PORT: '1' },
                  ports: { primary: 'auto' },
                },
              },
            },
            broken: { label: 'fails', services: { web: { run: 'exit 3', readyTimeoutMs: 5_000 } } },
          },
        }),
        'app.cjs': await readFile(path.join(import.meta.dirname, 'fixtures/proxyApp.cjs'), 'utf8'),
      },
      { proxy: { port, domain: 'localhost' } },
    );
    proxy = await startProxy({
      db: h.db,
      hostId: 'test-host',
      host: '127.0.0.1',
      port,
      domain: 'localhost',
      declaredServices: declaredServicesFrom(h.configs, () => [h.workspace]),
    });
    [a = '', b = '', broken = '', auto = ''] = await Promise.all(
      ['site', 'site', 'broken', 'auto'].map((template) => requestCell(h, template)),
    );
    await Promise.all([
      waitForStatus(h, auto, ['ready']),
      waitForStatus(h, a, ['ready']),
      waitForStatus(h, b, ['ready']),
      waitForStatus(h, broken, ['failed']),
    ]);
    browser = await connectBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await h?.close();
  });

  it('names every service in the views, .hive/env and the prompt', async () => {
    const cell = await cellDetail(h.db, a, undefined, proxy.address);
    expect(cell?.url).toBe(`http://${a}.localhost:${port}`);
    expect(cell?.services.map((s) => [s.name, s.publicUrl])).toEqual([
      ['api_v2', `http://api-v2.${a}.localhost:${port}`],
      ['web', `http://web.${a}.localhost:${port}`],
    ]);
    const list = await h.app.inject({ method: 'GET', url: '/cells' });
    expect(list.json().cells.find((c: { id: string }) => c.id === a).url).toBe(
      `http://${a}.localhost:${port}`,
    );
    const env = await readFile(path.join(cell?.worktreePath ?? '', '.hive/env'), 'utf8');
    expect(env).toContain(`WEB_PUBLIC_URL=http://web.${a}.localhost:${port}\n`);
    expect(env).toContain(`API_V2_PUBLIC_URL=http://api-v2.${a}.localhost:${port}\n`);
    expect(cell?.prompt?.content).toContain(`http://web.${a}.localhost:${port}`);
    // A port the service chooses (auto) is known only once it listens; its name is known before.
    const chosen = await cellDetail(h.db, auto, undefined, proxy.address);
    const autoEnv = await readFile(path.join(chosen?.worktreePath ?? '', '.hive/env'), 'utf8');
    expect(autoEnv).toContain(`WEB_PUBLIC_URL=http://web.${auto}.localhost:${port}\n`);
    expect(JSON.parse((await curl(url(auto, '/headers'))).body).who).toBe(`web of ${auto}`);
  });

  it('routes <service>.<cell> and <cell> (the first declared service) with curl', async () => {
    const web = await curl(url(`web.${a}`, '/headers'));
    expect(web.status).toBe(200);
    expect(JSON.parse(web.body)).toMatchObject({ who: `web of ${a}`, host: `web.${a}.localhost:${port}` });
    expect(JSON.parse((await curl(url(`api-v2.${a}`, '/headers'))).body).who).toBe(`api_v2 of ${a}`);
    expect(JSON.parse((await curl(url(a, '/headers'))).body).who).toBe(`web of ${a}`);
    expect(JSON.parse((await curl(url(`WEB.${b.toUpperCase()}`, '/headers'))).body).who).toBe(`web of ${b}`);
    // A redirect to the service's own 127.0.0.1:<port> comes back under its name.
    const redirect = await curl(url(`web.${a}`, '/redirect'));
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe(`http://web.${a}.localhost:${port}/headers`);
    // The hook runs before a forward (to wake a suspended cell, say), not for a refused request.
    const woken: string[] = [];
    proxy.setBeforeForward(async (cellId) => void woken.push(cellId));
    await curl(url(`web.${b}`, '/headers'));
    await curl(`http://127.0.0.1:${port}/`, '-H', `Host: nope.${a}.example`);
    proxy.setBeforeForward(undefined);
    expect(woken).toEqual([b]);
    expect(proxy.lastRequestAt(a)?.getTime()).toBeGreaterThan(Date.now() - 10_000);
    expect(proxy.lastRequestAt(broken)).toBeUndefined();
  });

  it('forwards nothing for a Host that names no cell, an unknown cell or service, or a cell not live', async () => {
    const problem = async (host: string, status: number, slug: string) => {
      const answer = await curl(`http://127.0.0.1:${port}/headers`, '-H', `Host: ${host}`);
      expect(answer.status, answer.body).toBe(status);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      const body = JSON.parse(answer.body);
      expect(body.type).toBe(`urn:hive-cells:problem:${slug}`);
      return body.detail as string;
    };
    await problem(`127.0.0.1:${port}`, 404, 'not-a-cell-name');
    await problem(`localhost:${port}`, 404, 'not-a-cell-name');
    await problem(`web.${a}.evil.example:${port}`, 404, 'not-a-cell-name');
    await problem(`x.web.${a}.localhost:${port}`, 404, 'not-a-cell-name');
    await problem(`web.c00000000000.localhost:${port}`, 404, 'cell-not-found');
    expect(await problem(`nope.${a}.localhost:${port}`, 404, 'service-not-found')).toContain(
      `api_v2 (http://api-v2.${a}.localhost:${port})`,
    );
    expect(await problem(`web.${broken}.localhost:${port}`, 503, 'cell-not-live')).toContain('failed');
    // The service stopped: its records say so, and nothing is forwarded.
    const stop = await h.app.inject({ method: 'POST', url: `/cells/${b}/services/api_v2/stop` });
    expect(stop.statusCode).toBe(202);
    const deadline = Date.now() + 20_000;
    while ((await curl(url(`api-v2.${b}`, '/headers'))).status !== 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    await problem(`api-v2.${b}.localhost:${port}`, 503, 'service-not-running');
  });

  it('streams Server-Sent Events as they come', async () => {
    // The stream never ends: curl stops after 1.5 s (exit 28), with what arrived by then.
    const streaming = execa('curl', ['-s', '-N', '--max-time', '1.5', url(`web.${a}`, '/events')], {
      reject: false,
    });
    // While it is open, it counts as the cell's activity (what idle detection reads).
    await expect.poll(() => proxy.openRequests(a)).toBe(1);
    const { stdout, exitCode } = await streaming;
    await expect.poll(() => proxy.openRequests(a)).toBe(0);
    expect(exitCode).toBe(28);
    expect(stdout).toContain(`data: tick 0 from web of ${a}`);
    expect(stdout).toContain(`data: tick 3 from web of ${a}`);
  });

  it('reaches a restarted service again, its record read afresh', async () => {
    const record = () => h.db.serviceInstance.findFirst({ where: { cellId: b, name: 'web' } });
    const before = await record();
    expect(JSON.parse((await curl(url(`web.${b}`, '/headers'))).body).who).toBe(`web of ${b}`);
    const restart = await h.app.inject({ method: 'POST', url: `/cells/${b}/services/web/restart` });
    expect(restart.statusCode).toBe(202);
    const deadline = Date.now() + 30_000;
    let service = await record();
    while ((service?.pid === before?.pid || service?.status !== 'ready') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      service = await record();
    }
    expect(service?.pid).not.toBe(before?.pid);
    const after = await curl(url(`web.${b}`, '/headers'));
    expect(after.status, after.body).toBe(200);
    expect(JSON.parse(after.body).who).toBe(`web of ${b}`);
  });

  it('serves pages, WebSockets and separate cookies to Chromium', async () => {
    const { context, page, errors } = await openPage(browser);
    try {
      // The dashboard's cell page links each service's name; the link opens the cell's page.
      await h.app.listen({ host: '127.0.0.1', port: 0 });
      const api = h.app.server.address();
      await page.goto(`http://127.0.0.1:${typeof api === 'object' && api ? api.port : 0}/#/cells/${a}`);
      const link = page.locator('[data-service="web"] [data-public-url]');
      await expect.poll(() => link.getAttribute('href')).toBe(`http://web.${a}.localhost:${port}`);
      const [opened] = await Promise.all([context.waitForEvent('page'), link.click()]);
      await opened?.waitForLoadState();
      expect(await opened?.textContent('#who')).toBe(`web of ${a}`);
      await opened?.close();

      await page.goto(url(`web.${a}`));
      expect(await page.textContent('#who')).toBe(`web of ${a}`);
      const echo = await page.evaluate(
        (target) =>
          new Promise<string>((resolve, reject) => {
            const socket = new WebSocket(target);
            socket.onopen = () => socket.send('hi');
            socket.onmessage = (event) => resolve(String(event.data));
            socket.onerror = () => reject(new Error('websocket failed'));
          }),
        `ws://web.${a}.localhost:${port}/socket`,
      );
      expect(echo).toBe(`echo:hi from web of ${a}`);

      // Cell A's service sets a host-only cookie and one for Domain=localhost (made host-only).
      await page.goto(url(`web.${a}`, '/set-cookie'));
      await page.goto(url(`web.${a}`, '/headers'));
      expect(JSON.parse((await page.textContent('body')) ?? '{}').cookie).toBe(`seen=${a}; wide=${a}`);
      await page.goto(url(`web.${b}`, '/headers'));
      expect(JSON.parse((await page.textContent('body')) ?? '{}').cookie).toBeNull();
      await page.goto(url(`api-v2.${a}`, '/headers'));
      expect(JSON.parse((await page.textContent('body')) ?? '{}').cookie).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('needs a token once tokens exist, and never forwards it', async () => {
    const { secret } = await createToken(h.db, { name: 'viewer', role: 'viewer' });
    const other = await createToken(h.db, { name: 'elsewhere', role: 'admin', workspaces: ['other'] });
    try {
      await new Promise((r) => setTimeout(r, 1_100)); // the proxy asks whether tokens exist each second
      const none = await curl(url(`web.${a}`, '/headers'));
      expect(none.status).toBe(401);
      expect(none.headers['content-type']).toBe('application/problem+json');
      expect(none.headers['www-authenticate']).toBe('Bearer realm="hive"');
      expect(JSON.parse(none.body).detail).toContain('?hive_token=');
      const wrong = await curl(url(`web.${a}`, '/headers'), '-H', 'Authorization: Bearer hive_nope');
      expect(wrong.status).toBe(401);
      const wrongInUrl = await curl(url(`web.${a}`, '/headers?hive_token=hive_nope'));
      expect(wrongInUrl.status).toBe(401);
      expect(wrongInUrl.body).not.toContain('hive_nope');

      const bearer = await curl(
        url(`web.${a}`, '/headers'),
        '-H',
        `Authorization: Bearer ${secret}`,
        '-H',
        'Cookie: app=1',
      );
      expect(bearer.status).toBe(200);
      expect(JSON.parse(bearer.body)).toMatchObject({ authorization: null, cookie: 'app=1' });
      // Out of its workspace scope, the cell does not exist.
      const scoped = await curl(url(`web.${a}`, '/headers'), '-H', `Authorization: Bearer ${other.secret}`);
      expect(scoped.status).toBe(404);

      // ?hive_token= once: a cookie for this host, and a redirect that drops the token.
      const traded = await curl(url(`web.${a}`, `/headers?x=1&hive_token=${secret}`));
      expect(traded.status).toBe(303);
      expect(traded.headers.location).toBe('/headers?x=1');
      const setCookie = traded.headers['set-cookie'] ?? '';
      expect(setCookie).toMatch(/^hive_proxy_session=[^;]+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax$/);
      const session = setCookie.split(';')[0] ?? '';
      const withCookie = await curl(url(`web.${a}`, '/headers?x=1'), '-H', `Cookie: app=1; ${session}`);
      expect(withCookie.status).toBe(200);
      expect(JSON.parse(withCookie.body)).toMatchObject({ cookie: 'app=1', url: '/headers?x=1' });
      // Not a GET: forwarded at once (without the token); the session cookie joins the service's.
      const posted = await curl(url(`web.${a}`, `/set-cookie?hive_token=${secret}`), '-X', 'POST');
      expect(posted.status).toBe(200);
      expect(posted.head).toMatch(/^set-cookie: seen=/im);
      expect(posted.head).toMatch(/^set-cookie: hive_proxy_session=/im);
      // The session is this host's only.
      expect((await curl(url(`web.${b}`, '/headers'), '-H', `Cookie: ${session}`)).status).toBe(401);

      // In Chromium: the token in the address once, then the session cookie (not seen by the app).
      const { context, page } = await openPage(browser);
      try {
        await page.goto(url(`web.${a}`, `/headers?hive_token=${secret}`));
        expect(page.url()).toBe(url(`web.${a}`, '/headers'));
        expect(JSON.parse((await page.textContent('body')) ?? '{}')).toMatchObject({
          who: `web of ${a}`,
          cookie: null,
          authorization: null,
        });
      } finally {
        await context.close();
      }

      // Revoked: the session ends with its token.
      await revokeToken(h.db, 'viewer');
      expect((await curl(url(`web.${a}`, '/headers'), '-H', `Cookie: ${session}`)).status).toBe(401);
    } finally {
      await revokeToken(h.db, 'elsewhere').catch(() => undefined);
      await revokeToken(h.db, 'viewer').catch(() => undefined);
    }
  });
});
