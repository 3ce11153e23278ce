import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import getPort from 'get-port';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../src/api/app.js';
import { unsafeBinding } from '../src/auth/binding.js';
import { ACCESS_EXTENSION } from '../src/auth/plugin.js';
import { createToken, hashSecret, revokeToken } from '../src/auth/tokens.js';
import { packageRoot } from '../src/config/paths.js';
import { createDb } from '../src/db/client.js';
import { startHostAgent } from '../src/hosts/agent.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually, spawnHive } from './support/process.js';
import { webService, workspaceFiles } from './support/templates.js';

const templates = {
  web: { label: 'Web', services: { web: webService } },
  broken: { label: 'Broken', setup: ['exit 4'] },
};

let h: Harness;
beforeAll(async () => {
  h = await createHarness('auth', workspaceFiles(templates));
});
afterAll(() => h?.close());

type Method = 'GET' | 'POST' | 'DELETE' | 'HEAD';
interface Call {
  method: Method;
  url: string;
  body?: unknown;
  token?: string;
  host?: string;
}

const call = (c: Call) =>
  h.app.inject({
    method: c.method,
    url: c.url,
    headers: {
      ...(c.token ? { authorization: `Bearer ${c.token}` } : {}),
      ...(c.host ? { host: c.host } : {}),
      ...(c.url.endsWith('/events') ? { accept: 'text/event-stream' } : {}),
    },
    ...(c.body === undefined ? {} : { payload: c.body as object }),
  });

/** The `action` events of a cell, read through its real event stream (which ends at rest). */
async function actionsOf(cellId: string, token?: string) {
  const response = await call({ method: 'GET', url: `/cells/${cellId}/events`, token });
  expect(response.statusCode).toBe(200);
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  for (const block of response.body.split('\n\n')) {
    const fields = Object.fromEntries(
      block
        .split('\n')
        .filter((l) => l && !l.startsWith(':'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
    );
    if (fields.data) events.push({ event: fields.event ?? 'message', data: JSON.parse(fields.data) });
  }
  return events.filter((e) => e.event === 'action').map((e) => e.data);
}

const GHOST_CELL = 'c00000000000';
let localCell: string;
/** A host registered for the walk of the host routes (by `operations()`, removed after each test). */
const WALK_HOST = 'walk-host';

describe('without any token, on loopback: local use as before', () => {
  it('lets anonymous callers do everything, recorded as local', async () => {
    const created = await call({
      method: 'POST',
      url: '/cells',
      body: { workspace: 'demo', template: 'web', brief: 'local work' },
    });
    expect(created.statusCode).toBe(202);
    localCell = created.json().id;
    await waitForStatus(h, localCell, ['ready']);
    expect((await call({ method: 'GET', url: '/cells' })).json().cells).toHaveLength(1);
    expect((await h.db.cell.findUniqueOrThrow({ where: { id: localCell } })).createdBy).toBeNull();
    expect(await actionsOf(localCell)).toEqual([{ action: 'create', by: 'local' }]);
  });

  it('refuses a Host header that is not a loopback name (DNS rebinding)', async () => {
    for (const host of ['localhost:4400', '127.0.0.1', '[::1]:4400', '127.0.0.2:80']) {
      expect((await call({ method: 'GET', url: '/workspaces', host })).statusCode).toBe(200);
    }
    for (const host of ['evil.example', 'evil.example:4400', '10.0.0.5:4400', 'localhost.evil.example']) {
      const response = await call({ method: 'GET', url: '/workspaces', host });
      expect(response.statusCode).toBe(421);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json().detail).toMatch(/not a loopback name.*hive tokens create/);
    }
  });

  it('refuses everyone but public routes when bound elsewhere (if it was started anyway)', async () => {
    const app = await buildApp({
      db: h.db,
      temporal: { client: h.client, namespace: 'default', taskQueue: h.taskQueue },
      workspaces: [h.workspace],
      configs: h.configs,
      host: '0.0.0.0',
    });
    try {
      const response = await app.inject({ method: 'GET', url: '/cells', headers: { host: 'hive.internal' } });
      expect(response.statusCode).toBe(401);
      expect(response.json().detail).toMatch(/No API token exists.*0\.0\.0\.0.*hive tokens create/);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('hive refuses to start its API on a non-loopback interface without a token', () => {
  let dir: string;
  let dbUrl: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hive-auth-start-'));
    await copyFile(inject('templateDbPath'), path.join(dir, 'hive.db'));
    dbUrl = `file:${path.join(dir, 'hive.db')}`;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const env = () => ({
    DATABASE_URL: dbUrl,
    HIVE_DATA_DIR: dir,
    HIVE_WORKSPACES: `demo=${h.workspace.path}`,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
  });

  it('decides by interface and tokens', async () => {
    const db = createDb(dbUrl);
    try {
      for (const host of ['127.0.0.1', 'localhost', '::1', '127.1.2.3']) {
        expect(await unsafeBinding(db, host)).toBeUndefined();
      }
      for (const host of ['0.0.0.0', '::', '192.168.1.10', 'hive.internal']) {
        expect(await unsafeBinding(db, host)).toMatch(/hive tokens create --name admin --role admin/);
      }
    } finally {
      await db.$disconnect();
    }
  });

  it('hive api with HIVE_HOST=0.0.0.0 exits with 2 and says how to fix it; with a token it starts', async () => {
    const port = await getPort();
    const refused = await execa('node', [path.join(packageRoot, 'bin', 'hive.js'), 'api'], {
      cwd: packageRoot,
      env: { ...env(), HIVE_HOST: '0.0.0.0', HIVE_PORT: String(port), HIVE_LOG_LEVEL: 'warn' },
      reject: false,
      timeout: 60_000,
    });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/Refusing to start the API on 0\.0\.0\.0/);
    expect(refused.stderr).toContain('hive tokens create --name admin --role admin');
    expect(refused.stderr).toContain('HIVE_HOST=127.0.0.1');
    expect(refused.stdout).not.toContain('Hive cells is up');

    const db = createDb(dbUrl);
    const { secret } = await createToken(db, { name: 'admin', role: 'admin' });
    await db.$disconnect();
    const api = spawnHive('api', { ...env(), HIVE_HOST: '0.0.0.0', HIVE_PORT: String(port) });
    try {
      await api.ready;
      const anonymous = await fetch(`http://127.0.0.1:${port}/workspaces`);
      expect(anonymous.status).toBe(401);
      const authorized = await fetch(`http://127.0.0.1:${port}/workspaces`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      expect(authorized.status).toBe(200);
    } finally {
      api.child.kill('SIGTERM');
      await api.child;
    }
  });
});

describe('every route in the OpenAPI document, with tokens in use', () => {
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    for (const role of ['admin', 'operator', 'viewer'] as const) {
      tokens[role] = (await createToken(h.db, { name: role, role })).secret;
    }
    tokens.expired = (await createToken(h.db, { name: 'expired', role: 'admin', expiresInMs: 1 })).secret;
    tokens.revoked = (await createToken(h.db, { name: 'revoked', role: 'admin' })).secret;
    await revokeToken(h.db, 'revoked');
    tokens.elsewhere = (
      await createToken(h.db, { name: 'elsewhere', role: 'admin', workspaces: ['other'] })
    ).secret;
    tokens.unknown = `hive_${'A'.repeat(43)}`;
    await new Promise((r) => setTimeout(r, 5));
  });
  // Once a host is registered, cells are placed on hosts: the walk's host leaves before cells come.
  afterEach(() => h.db.host.deleteMany({ where: { id: WALK_HOST } }));

  type Operation = {
    'x-hive-access'?: string;
    security?: unknown[];
    parameters?: Array<{ in: string; name: string; required?: boolean }>;
  };

  /** Every documented route, with its params filled: `real` names demo's things, `ghost` no thing. */
  async function operations() {
    await h.app.ready();
    const agent = startHostAgent({
      db: h.db,
      id: WALK_HOST,
      taskQueue: `${h.taskQueue}@${WALK_HOST}`,
      workspaces: [],
      dataDir: path.dirname(h.dbFile),
      heartbeatMs: 60_000,
    });
    await agent.registered;
    await agent.stop();
    const doc = h.app.swagger() as {
      security?: unknown[];
      components?: { securitySchemes?: Record<string, unknown> };
      paths: Record<string, Record<string, Operation>>;
    };
    const bodies: Record<string, (workspace: string) => unknown> = {
      'POST /cells': (workspace) => ({ workspace, template: 'web', brief: 'walk' }),
      'POST /templates/{id}/validate': (workspace) => ({ workspace }),
      // A folder that is no repository: the walk checks who may ask, never registers anything.
      'POST /workspaces': () => ({ id: 'walk', path: '/nonexistent-walk-repo' }),
    };
    const list: Array<{
      name: string;
      method: Method;
      access: string | undefined;
      security: unknown[] | undefined;
      addressesDemo: boolean;
      real: Call;
      ghost: Call;
    }> = [];
    for (const [template, methods] of Object.entries(doc.paths)) {
      for (const [lower, op] of Object.entries(methods)) {
        const method = lower.toUpperCase() as Method;
        const name = `${method} ${template}`;
        const build = (cell: string, workspace: string): Call => {
          const url = template.replace(/\{(\w+)\}/g, (_, param: string) => {
            if (param === 'id') {
              if (template.startsWith('/cells')) return cell;
              if (template.startsWith('/hosts')) return cell === GHOST_CELL ? 'ghost-host' : WALK_HOST;
              return template.startsWith('/workspaces') ? workspace : 'web';
            }
            if (param === 'service') return 'web';
            if (param === 'key') return '0'.repeat(24);
            if (param === 'action') return 'restart';
            throw new Error(`${name}: no value known for path parameter ${param}; add one to this test`);
          });
          const query = (op.parameters ?? []).some((p) => p.in === 'query' && p.name === 'workspace')
            ? `?workspace=${workspace}`
            : '';
          const required = (op.parameters ?? []).filter(
            (p) => p.in === 'query' && p.required && p.name !== 'workspace',
          );
          if (required.length) throw new Error(`${name}: fill query ${required.map((p) => p.name)} here`);
          return { method, url: url + query, body: bodies[name]?.(workspace) };
        };
        const real = build(localCell, 'demo');
        list.push({
          name,
          method,
          access: op[ACCESS_EXTENSION],
          security: op.security,
          addressesDemo: real.url.includes(localCell) || real.url.includes('demo') || name in bodies,
          real,
          ghost: build(GHOST_CELL, 'nope'),
        });
      }
    }
    return { doc, list };
  }

  it('declares a bearer scheme, applied globally, and documents each route as it behaves', async () => {
    const { doc, list } = await operations();
    expect(doc.components?.securitySchemes?.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(list.length).toBeGreaterThanOrEqual(14);
    const admin = [
      'POST /workspaces',
      'DELETE /workspaces/{id}',
      'DELETE /workspaces/{id}/caches/dependencies/{key}',
      'POST /hosts/{id}/drain',
      'POST /hosts/{id}/undrain',
    ];
    const expected = (name: string) =>
      name === 'GET /healthz'
        ? 'public'
        : admin.includes(name)
          ? 'admin'
          : name.startsWith('GET ')
            ? 'read'
            : 'operate';
    for (const op of list) {
      expect(op.access, op.name).toBe(expected(op.name));
      // Public routes override the global requirement with `security: []`; the others inherit it.
      expect(op.security, op.name).toEqual(op.access === 'public' ? [] : undefined);

      if (op.access === 'public') {
        expect((await call(op.real)).statusCode, `${op.name} anonymous`).not.toBe(401);
        continue;
      }
      // The least role that should be let in is let in (the ghost request changes nothing)…
      const least = { read: 'viewer', operate: 'operator', admin: 'admin' }[op.access ?? 'admin'] ?? 'admin';
      const allowed = await call({ ...op.ghost, token: tokens[least] });
      expect([401, 403], `${op.name} as ${least}: ${allowed.body}`).not.toContain(allowed.statusCode);
      // …and the role below it is not (a viewer only reads).
      if (op.method !== 'GET') {
        const viewer = await call({ ...op.real, token: tokens.viewer });
        expect(viewer.statusCode, `${op.name} as viewer`).toBe(403);
        expect(viewer.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      const below = { read: undefined, operate: 'viewer', admin: 'operator' }[op.access ?? 'admin'];
      if (below) {
        const refused = await call({ ...op.real, token: tokens[below] });
        expect(refused.statusCode, `${op.name} as ${below}`).toBe(403);
        expect(refused.json().detail).toContain(`needs the role ${least}`);
      }
    }
  });

  it('answers 401 with WWW-Authenticate to anonymous, expired, revoked and unknown tokens on every non-public route', async () => {
    const { list } = await operations();
    for (const op of list.filter((o) => o.access !== 'public')) {
      for (const [who, token] of [
        ['anonymous', undefined],
        ['expired', tokens.expired],
        ['revoked', tokens.revoked],
        ['unknown', tokens.unknown],
        ['malformed', 'not-a-token'],
      ] as const) {
        const response = await call({ ...op.real, token });
        expect(response.statusCode, `${op.name} ${who}`).toBe(401);
        expect(response.headers['www-authenticate'], `${op.name} ${who}`).toMatch(/^Bearer realm="hive"/);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.json().detail, `${op.name} ${who}`).toMatch(/hive tokens create/);
      }
    }
    const expired = await call({ method: 'GET', url: '/cells', token: tokens.expired });
    expect(expired.json().detail).toMatch(/Token "expired" expired at/);
    const revoked = await call({ method: 'GET', url: '/cells', token: tokens.revoked });
    expect(revoked.json().detail).toMatch(/Token "revoked" was revoked at/);
    // With tokens in use the Host check is off: a token is the defence, not the name.
    const renamed = await call({ method: 'GET', url: '/cells', token: tokens.viewer, host: 'hive.example' });
    expect(renamed.statusCode).toBe(200);
  });

  it('answers a token scoped to another workspace exactly as if demo and its cells did not exist', async () => {
    const { list } = await operations();
    for (const op of list.filter((o) => o.access !== 'public')) {
      const scoped = await call({ ...op.real, token: tokens.elsewhere });
      if (op.name === 'POST /workspaces') {
        // Registering a workspace is for tokens not limited to some: refused, whatever the body.
        expect(scoped.statusCode, `${op.name}: ${scoped.body}`).toBe(403);
        continue;
      }
      if (op.addressesDemo) {
        // The same token asking for a cell or workspace that does not exist gets the same answer.
        const ghost = await call({ ...op.ghost, token: tokens.elsewhere });
        const asIfAbsent = ghost.body.replaceAll(GHOST_CELL, localCell).replaceAll('nope', 'demo');
        expect(scoped.statusCode, `${op.name}: ${scoped.body}`).toBe(ghost.statusCode);
        expect(scoped.body, op.name).toBe(asIfAbsent);
        // …while the thing exists (a read shows it to an unscoped token).
        if (op.method === 'GET')
          expect((await call({ ...op.real, token: tokens.viewer })).statusCode).toBe(200);
        if (ghost.statusCode !== 200) {
          // Named in the path or query: 404. Named in the body: what an unregistered workspace gets.
          expect(scoped.statusCode, op.name).toBe(op.real.body === undefined ? 404 : 422);
          expect(scoped.json().type, op.name).toMatch(/cell-not-found|unknown-workspace/);
        }
      } else {
        expect(scoped.statusCode, op.name).toBe(200);
        expect(scoped.body, op.name).not.toContain(localCell);
        expect(scoped.body, op.name).not.toContain('demo');
      }
    }
    // Lists are filtered.
    const cells = await call({ method: 'GET', url: '/cells', token: tokens.elsewhere });
    expect(cells.json()).toEqual({ cells: [] });
    const mine = await call({ method: 'GET', url: '/cells', token: tokens.viewer });
    expect(mine.json().cells.map((c: { id: string }) => c.id)).toContain(localCell);
    const workspaces = await call({ method: 'GET', url: '/workspaces', token: tokens.elsewhere });
    expect(workspaces.json()).toEqual({ workspaces: [] });
  });

  it('keeps the docs and liveness public, and refuses a route that declares no access to all but admin', async () => {
    for (const url of ['/healthz', '/docs/json', '/docs']) {
      expect((await call({ method: 'GET', url })).statusCode, url).not.toBe(401);
    }
    expect((await call({ method: 'GET', url: '/no-such-route' })).statusCode).toBe(401);
    expect((await call({ method: 'GET', url: '/no-such-route', token: tokens.viewer })).statusCode).toBe(404);
    expect((await call({ method: 'HEAD', url: '/cells' })).statusCode).toBe(401);

    const app = await buildApp({
      db: h.db,
      temporal: { client: h.client, namespace: 'default', taskQueue: h.taskQueue },
      workspaces: [h.workspace],
      configs: h.configs,
    });
    app.get('/undeclared', async () => ({ ok: true }));
    try {
      const as = (token: string) =>
        app.inject({ method: 'GET', url: '/undeclared', headers: { authorization: `Bearer ${token}` } });
      expect((await as(tokens.operator ?? '')).statusCode).toBe(403);
      expect((await as(tokens.operator ?? '')).json().detail).toContain('needs the role admin');
      expect((await as(tokens.admin ?? '')).statusCode).toBe(200);
      const doc = app.swagger() as { paths: Record<string, Record<string, Operation>> };
      expect(doc.paths['/undeclared']?.get?.[ACCESS_EXTENSION]).toBe('admin');
    } finally {
      await app.close();
    }
  });

  it('records who did each action in the cell events, and the requester on the cell', async () => {
    const op = tokens.operator;
    const created = await call({
      method: 'POST',
      url: '/cells',
      token: op,
      body: { workspace: 'demo', template: 'web', brief: 'token work' },
    });
    expect(created.statusCode).toBe(202);
    const id: string = created.json().id;
    expect((await h.db.cell.findUniqueOrThrow({ where: { id } })).createdBy).toBe('operator');
    await waitForStatus(h, id, ['ready']);
    const before = await h.db.serviceInstance.findUniqueOrThrow({
      where: { cellId_name: { cellId: id, name: 'web' } },
    });
    const restart = await call({ method: 'POST', url: `/cells/${id}/services/web/restart`, token: op });
    expect(restart.statusCode).toBe(202);
    await eventually(async () => {
      const web = await h.db.serviceInstance.findUniqueOrThrow({
        where: { cellId_name: { cellId: id, name: 'web' } },
      });
      return web.status === 'ready' && web.pid !== before.pid ? true : undefined;
    }, 'service restarted');
    const archive = await call({ method: 'DELETE', url: `/cells/${id}`, token: tokens.admin });
    expect(archive.statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    expect(await actionsOf(id, tokens.viewer)).toEqual([
      { action: 'create', by: 'operator' },
      { action: 'service', by: 'operator', service: 'web', command: 'restart' },
      { action: 'archive', by: 'admin' },
    ]);

    const broken = await call({
      method: 'POST',
      url: '/cells',
      token: op,
      body: { workspace: 'demo', template: 'broken', brief: 'fails' },
    });
    const brokenId: string = broken.json().id;
    await waitForStatus(h, brokenId, ['failed']);
    expect((await call({ method: 'POST', url: `/cells/${brokenId}/retry`, token: op })).statusCode).toBe(202);
    expect((await call({ method: 'POST', url: `/cells/${brokenId}/cancel`, token: op })).statusCode).toBe(
      202,
    );
    await waitForStatus(h, brokenId, ['cancelled', 'rolled_back']);
    expect(await actionsOf(brokenId, tokens.viewer)).toEqual([
      { action: 'create', by: 'operator' },
      { action: 'retry', by: 'operator' },
      { action: 'cancel', by: 'operator' },
    ]);
  });
});

describe('hive tokens, as a real process on the service database', () => {
  const hive = (args: string[]) =>
    execa('node', [path.join(packageRoot, 'bin', 'hive.js'), 'tokens', ...args], {
      cwd: packageRoot,
      env: { DATABASE_URL: `file:${h.dbFile}`, HIVE_WORKSPACES: `demo=${h.workspace.path}` },
      reject: false,
      timeout: 60_000,
    });

  it('creates a token whose secret is printed once and works at once; ls hides it; revoke ends it', async () => {
    const created = await hive([
      'create',
      '--name',
      'ci',
      '--role',
      'viewer',
      '--workspace',
      'demo',
      '--expires-in',
      '30d',
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^hive_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/Token "ci" created: role viewer, workspaces demo, expires 20\d\d-/);
    const secret = created.stdout;
    const row = await h.db.apiToken.findUniqueOrThrow({ where: { name: 'ci' } });
    expect(row.hash).toBe(hashSecret(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    const cells = await call({ method: 'GET', url: '/cells', token: secret });
    expect(cells.statusCode).toBe(200);
    expect(cells.json().cells.map((c: { id: string }) => c.id)).toContain(localCell);
    expect(
      (await call({ method: 'POST', url: `/cells/${localCell}/cancel`, token: secret })).statusCode,
    ).toBe(403);

    const listed = await hive(['ls']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^NAME +ROLE +WORKSPACES +STATE/);
    expect(listed.stdout).toMatch(/^ci +viewer +demo +active /m);
    expect(listed.stdout).toMatch(/^revoked +admin +all +revoked /m);
    expect(listed.stdout).not.toContain(secret);
    expect(listed.stdout).not.toContain(row.hash);
    expect(listed.stdout).not.toMatch(/hive_[A-Za-z0-9_-]{10}/);

    const revoked = await hive(['revoke', 'ci']);
    expect(revoked.exitCode, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('Token "ci" revoked.');
    const refused = await call({ method: 'GET', url: '/cells', token: secret });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().detail).toMatch(/Token "ci" was revoked/);
  });

  it('refuses bad input with a message and no token', async () => {
    const again = await hive(['create', '--name', 'admin', '--role', 'admin']);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/a token named "admin" already exists/);
    const badWorkspace = await hive(['create', '--name', 'x', '--role', 'viewer', '--workspace', 'nope']);
    expect(badWorkspace.exitCode).toBe(2);
    expect(badWorkspace.stderr).toMatch(/unknown workspace "nope": use one of demo/);
    const badRole = await hive(['create', '--name', 'x', '--role', 'root']);
    expect(badRole.exitCode).not.toBe(0);
    expect(badRole.stderr).toMatch(/viewer, operator, admin/);
    const badDuration = await hive(['create', '--name', 'x', '--role', 'viewer', '--expires-in', 'soon']);
    expect(badDuration.exitCode).toBe(2);
    expect(badDuration.stderr).toMatch(/"soon" is not a duration/);
    const unknown = await hive(['revoke', 'nobody']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/no token is named "nobody"/);
    expect(await h.db.apiToken.count({ where: { name: 'x' } })).toBe(0);
  });
});
