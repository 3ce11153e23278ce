import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/api/app.js';
import { createToken } from '../src/auth/tokens.js';
import type { Host } from '../src/client/index.js';
import { type HostAgent, startHostAgent } from '../src/hosts/agent.js';
import { hive, listen } from './support/cli.js';
import { createHarness, type Harness } from './support/harness.js';
import { eventually } from './support/process.js';

// GET /hosts, POST /hosts/:id/drain|undrain and `hive hosts …`: the real API on a real database,
// hosts registered by the real host agent (no worker: no cell is provisioned here).

let h: Harness;
const agents: HostAgent[] = [];

/** Registers a host as a worker's agent does, heartbeating until the file ends (or stopped). */
async function register(id: string, offer: { cpus: number; memoryMb: number; workspaces: string[] }) {
  const agent = startHostAgent({
    db: h.db,
    id,
    taskQueue: `${h.taskQueue}@${id}`,
    dataDir: path.dirname(h.dbFile),
    heartbeatMs: 100,
    ...offer,
  });
  agents.push(agent);
  await agent.registered;
  return agent;
}

const get = async (app = h.app, token?: string) => {
  const response = await app.inject({
    method: 'GET',
    url: '/hosts',
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { hosts: Host[] }).hosts;
};

const post = (url: string, token?: string) =>
  h.app.inject({ method: 'POST', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

beforeAll(async () => {
  h = await createHarness('hosts', undefined, { worker: false });
  await register('host-a', { cpus: 8, memoryMb: 16_384, workspaces: ['demo'] });
  await register('host-b', { cpus: 2.5, memoryMb: 4_096, workspaces: [] });
});
afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await h?.close();
});

describe('the hosts resource', () => {
  it('lists every registered host with its capacity, reservations and state', async () => {
    const hosts = await get();
    expect(hosts.map((x) => x.id)).toEqual(['host-a', 'host-b']);
    const [a, b] = hosts;
    expect(a).toMatchObject({
      id: 'host-a',
      state: 'live',
      drained: false,
      taskQueue: `${h.taskQueue}@host-a`,
      workspaces: ['demo'],
      capacity: { cpus: 8, memoryMb: 16_384 },
      reserved: { cpus: 0, memoryMb: 0 },
      cells: 0,
      lostAt: null,
    });
    expect(b).toMatchObject({ state: 'live', capacity: { cpus: 2.5, memoryMb: 4_096 }, workspaces: [] });
    // What the agent measured on this machine, at its last heartbeat.
    expect(a?.freeDiskMb).toBeGreaterThan(0);
    expect(a?.freeMemoryMb).toBeGreaterThan(0);
    expect(Date.now() - Date.parse(a?.heartbeatAt ?? '')).toBeLessThan(10_000);
  });

  it('drains a host and undrains it', async () => {
    const drained = await post('/hosts/host-a/drain');
    expect(drained.statusCode, drained.body).toBe(200);
    expect(drained.json()).toMatchObject({ id: 'host-a', state: 'drained', drained: true });
    expect((await get()).find((x) => x.id === 'host-a')?.state).toBe('drained');
    // The heartbeat does not undo it.
    await new Promise((r) => setTimeout(r, 300));
    expect((await get()).find((x) => x.id === 'host-a')?.state).toBe('drained');
    // Draining again changes nothing.
    expect((await post('/hosts/host-a/drain')).json()).toMatchObject({ state: 'drained' });
    expect((await get()).find((x) => x.id === 'host-b')?.state).toBe('live');

    const undrained = await post('/hosts/host-a/undrain');
    expect(undrained.statusCode, undrained.body).toBe(200);
    expect(undrained.json()).toMatchObject({ id: 'host-a', state: 'live', drained: false });
    expect((await get()).find((x) => x.id === 'host-a')?.state).toBe('live');
  });

  it('answers 404 problem+json for a host that is not registered, naming it and how to list hosts', async () => {
    for (const action of ['drain', 'undrain']) {
      const response = await post(`/hosts/nowhere/${action}`);
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({
        type: 'urn:hive-cells:problem:host-not-found',
        title: 'Host not found',
        status: 404,
        instance: `/hosts/nowhere/${action}`,
      });
      expect(response.json().detail).toMatch(/"nowhere".*GET \/hosts.*hive hosts ls/);
    }
    expect(await h.db.host.count({ where: { id: 'nowhere' } })).toBe(0);
  });

  it('answers 400 problem+json for an id that cannot name a host', async () => {
    for (const id of ['bad%20id', 'a%2Fb', 'h%24st']) {
      const response = await post(`/hosts/${id}/drain`);
      expect(response.statusCode, id).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({
        type: 'urn:hive-cells:problem:validation-failed',
        errors: [{ pointer: '#/id' }],
      });
    }
  });

  it('shows a host whose heartbeat stopped as unresponsive once the grace period passed', async () => {
    const agent = await register('host-c', { cpus: 1, memoryMb: 1_024, workspaces: ['demo'] });
    const app = await buildApp({
      db: h.db,
      temporal: { client: h.client, namespace: 'default', taskQueue: h.taskQueue },
      workspaces: [h.workspace],
      configs: h.configs,
      hostGraceMs: 1_000,
    });
    try {
      expect((await get(app)).find((x) => x.id === 'host-c')?.state).toBe('live');
      await agent.stop();
      const states = await eventually(
        async () => {
          const hosts = await get(app);
          return hosts.find((x) => x.id === 'host-c')?.state === 'unresponsive' ? hosts : undefined;
        },
        'host-c unresponsive',
        10_000,
      );
      // The others still heartbeat; the default grace (30 s) still counts host-c as live.
      expect(states.filter((x) => x.id !== 'host-c').map((x) => x.state)).toEqual(['live', 'live']);
      expect((await get()).find((x) => x.id === 'host-c')?.state).toBe('live');
      // A drained host that stops answering is unresponsive first: that is what placement must know.
      const drained = await app.inject({ method: 'POST', url: '/hosts/host-c/drain' });
      expect(drained.json()).toMatchObject({ state: 'unresponsive', drained: true });
      await app.inject({ method: 'POST', url: '/hosts/host-c/undrain' });
    } finally {
      await app.close();
    }
  });
});

describe('hive hosts', () => {
  let url: string;
  beforeAll(async () => {
    url = await listen(h);
  });

  it('ls --json prints GET /hosts; ls prints a table', async () => {
    const json = await hive(url, ['hosts', 'ls', '--json']);
    expect(json.exitCode, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout) as Host[];
    expect(listed.map((x) => x.id)).toEqual(['host-a', 'host-b', 'host-c']);
    expect(listed[0]).toMatchObject({ id: 'host-a', state: 'live', capacity: { cpus: 8, memoryMb: 16_384 } });

    const table = await hive(url, ['hosts', 'ls']);
    expect(table.exitCode, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^ID\s+STATE\s+CELLS\s+CPUS\s+MEMORY\s+FREE DISK\s+LOAD\s+HEARTBEAT\s+WORKSPACES$/,
    );
    expect(lines[1]).toMatch(/^host-a\s+live\s+0\s+0\/8\s+0M\/16\.0G\s+\S+\s+[\d.]+\s+\d+[smhd] ago\s+demo$/);
    expect(lines[2]).toMatch(/^host-b\s+live\s+0\s+0\/2\.5\s+0M\/4\.0G\s+.*\s+-$/);
    // Piped: no colour.
    expect(table.stdout).not.toContain('\u001b[');
  });

  it('drain and undrain say what happened; an unknown host is refused with how to list them', async () => {
    const drained = await hive(url, ['hosts', 'drain', 'host-b']);
    expect(drained.exitCode, drained.stderr).toBe(0);
    expect(drained.stdout).toBe(
      'Host host-b drained: it takes no new cells; its 0 cells live on. Undo: hive hosts undrain host-b',
    );
    expect((await get()).find((x) => x.id === 'host-b')?.state).toBe('drained');
    const ls = await hive(url, ['hosts', 'ls']);
    expect(ls.stdout).toMatch(/^host-b\s+drained\s/m);

    const undrained = await hive(url, ['hosts', 'undrain', 'host-b']);
    expect(undrained.exitCode, undrained.stderr).toBe(0);
    expect(undrained.stdout).toBe('Host host-b undrained: it takes new cells again.');
    expect((await get()).find((x) => x.id === 'host-b')?.state).toBe('live');

    const unknown = await hive(url, ['hosts', 'drain', 'nowhere']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('hive: Host not found (404)');
    expect(unknown.stderr).toContain('No host has id "nowhere". GET /hosts (hive hosts ls)');
  });

  it('cells create --host records the host the request names; an unknown one is refused', async () => {
    const before = await h.db.cell.count();
    const refused = await hive(url, ['cells', 'create', '-t', 'web', '-b', 'x', '--host', 'nowhere']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('host: no host "nowhere" is registered');
    expect(await h.db.cell.count()).toBe(before);

    const created = await hive(url, [
      'cells',
      'create',
      '-t',
      'web',
      '-b',
      'x',
      '--host',
      'host-a',
      '--detach',
      '--json',
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    expect((await h.db.cell.findUniqueOrThrow({ where: { id } })).host).toBe('host-a');
  });
});

// Last: once a token exists, every request needs one.
describe('with tokens in use', () => {
  it('lets a viewer list hosts but not drain them; an admin drains', async () => {
    const viewer = (await createToken(h.db, { name: 'viewer', role: 'viewer' })).secret;
    const operator = (await createToken(h.db, { name: 'operator', role: 'operator' })).secret;
    const admin = (await createToken(h.db, { name: 'admin', role: 'admin' })).secret;

    expect((await get(h.app, viewer)).map((x) => x.id)).toEqual(['host-a', 'host-b', 'host-c']);
    for (const [who, token] of [
      ['viewer', viewer],
      ['operator', operator],
    ] as const) {
      for (const action of ['drain', 'undrain']) {
        const refused = await post(`/hosts/host-a/${action}`, token);
        expect(refused.statusCode, `${who} ${action}`).toBe(403);
        expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(refused.json().detail).toContain(`POST /hosts/:id/${action} needs the role admin`);
      }
    }
    expect((await post('/hosts/host-a/drain')).statusCode).toBe(401);
    expect((await get(h.app, admin)).find((x) => x.id === 'host-a')?.drained).toBe(false);

    const drained = await post('/hosts/host-a/drain', admin);
    expect(drained.statusCode, drained.body).toBe(200);
    expect(drained.json()).toMatchObject({ state: 'drained' });
    expect((await post('/hosts/host-a/undrain', admin)).json()).toMatchObject({ state: 'live' });
  });

  it('shows a token scoped to other workspaces every host, without the workspaces it may not see', async () => {
    const scoped = (await createToken(h.db, { name: 'elsewhere', role: 'viewer', workspaces: ['other'] }))
      .secret;
    const hosts = await get(h.app, scoped);
    expect(hosts.map((x) => [x.id, x.workspaces])).toEqual([
      ['host-a', []],
      ['host-b', []],
      ['host-c', []],
    ]);
  });
});
