import { spawn } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorType } from '../src/cells/catalog.js';
import { newCellId } from '../src/cells/ids.js';
import { CELL_PIDS_MAX, cellProcesses, endCellCgroup, prepareCellCgroup } from '../src/cgroups/cell.js';
import { cgroupSupport, detectCgroups } from '../src/cgroups/detect.js';
import { freezeCell, thawCell } from '../src/cgroups/freeze.js';
import { cgroupNotice, checkCellLimits } from '../src/cgroups/notice.js';
import { cellDirs } from '../src/cgroups/paths.js';
import { inCgroup } from '../src/cgroups/spawn.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { expectZeroResidue } from './support/residue.js';
import { webService, workspaceFiles } from './support/templates.js';

// Limits per cell (src/cgroups): on real cgroups of this host (root, v1 or v2), real processes, a
// real Temporal worker. A cell's memory cap kills what goes past it and says so; archive ends every
// process of the cell through its cgroup, whatever it did to hide; freeze stops a process's CPU.

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Whether a process runs (a zombie waiting for its parent counts as gone). */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Allocates (and touches) 16 MiB at a time, up to 1 GiB, holding on to all of it. */
const eater = 'const keep = []; while (keep.length < 64) keep.push(Buffer.alloc(16 << 20, 1));';

const templates = {
  // Its service eats memory before it is ready: killed by the 96 MiB cap, the cell fails with why.
  hungry: {
    label: 'Hungry',
    resources: { memoryMb: 96 },
    services: { web: { ...webService, run: 'node eat.js' } },
  },
  // Ready first; GET /eat then eats past the cap: supervision sees the OOM kill, the policy restarts it.
  lateHungry: {
    label: 'Hungry later',
    resources: { memoryMb: 96, cpu: 1 },
    services: { web: { ...webService, run: 'node server-eats.js', restartBackoffMs: 100 } },
  },
  // Its service leaves a daemon behind: no environment, its own session, working outside the cell.
  daemon: {
    label: 'Daemon',
    services: {
      web: {
        ...webService,
        run: "/usr/bin/env -i /usr/bin/setsid /bin/sh -c 'cd / && exec sleep 1000' & exec node server.js",
      },
    },
  },
};

const files = {
  ...workspaceFiles(templates),
  'eat.js': eater,
  'server-eats.js': `const http = require('node:http');
http
  .createServer((req, res) => {
    if (req.url === '/eat') { ${eater} }
    res.end('ok');
  })
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
`,
};

describe('cell cgroups on this host', () => {
  it('are available here (root): v2 with its controllers, else v1', async () => {
    const support = await cgroupSupport();
    expect(support.kind, JSON.stringify(support)).not.toBe('none');
  });

  it('where none is usable, Hive says so (hive up, a dry-run warning) and cells run as before', async () => {
    // A folder that is no cgroup filesystem: what a host without cgroups (or delegation) looks like.
    const base = await mkdtemp(path.join(tmpdir(), 'hive-no-cgroups-'));
    try {
      const none = await detectCgroups(base);
      expect(none.kind).toBe('none');
      expect(await cgroupNotice(none)).toMatch(
        /^no cgroups for cells \(.+\): resources.memoryMb and resources.cpu are not enforced$/,
      );
      expect(await checkCellLimits('templates.web', none)).toEqual([
        expect.objectContaining({ severity: 'warning', path: 'templates.web.resources' }),
      ]);
      expect(await checkCellLimits('templates.web', await cgroupSupport())).toEqual([]);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it("a cell's cgroup carries its limits, and its processes are in it from their first instruction", async () => {
    const id = newCellId();
    const procs = await prepareCellCgroup(id, { memoryMb: 64, cpu: 0.5 });
    expect(await prepareCellCgroup(id, { memoryMb: 64, cpu: 0.5 })).toEqual(procs); // idempotent
    const support = await cgroupSupport();
    const dirs = cellDirs(support, id);
    const limits = async (file: string) =>
      (await Promise.all(dirs.map((d) => readFile(`${d}/${file}`, 'utf8').catch(() => undefined))))
        .filter((v) => v !== undefined)
        .map((v) => v.trim());
    if (support.kind === 'v1') {
      expect(await limits('memory.limit_in_bytes')).toEqual([String(64 << 20)]);
      expect(await limits('cpu.cfs_quota_us')).toEqual(['50000']);
    } else {
      expect(await limits('memory.max')).toEqual([String(64 << 20)]);
      expect(await limits('cpu.max')).toEqual(['50000 100000']);
    }
    expect(await limits('pids.max')).toEqual([String(CELL_PIDS_MAX)]);
    // The command reads its own cgroups: already the cell's when it runs.
    const [file, ...args] = inCgroup(procs, ['/bin/cat', '/proc/self/cgroup']);
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    await new Promise((resolve) => child.on('exit', resolve));
    expect(child.exitCode).toBe(0);
    const memoryLine = out.split('\n').find((l) => /(^0::|:memory:)/.test(l) && l.includes(id));
    expect(memoryLine, out).toBeDefined();
    expect(await endCellCgroup(id)).toBe(0);
    for (const dir of dirs) expect(await exists(dir)).toBe(false);
  });

  it("freezing stops a real process's CPU time, thawing resumes it", async () => {
    const id = newCellId();
    const [file, ...args] = inCgroup(await prepareCellCgroup(id), ['/bin/sh', '-c', 'while :; do :; done']);
    const busy = spawn(file, args, { stdio: 'ignore' });
    const pid = busy.pid ?? 0;
    try {
      await sleep(300);
      expect(await cellProcesses(id)).toEqual([pid]);
      await freezeCell(id);
      const frozenAt = await cpuTicks(pid);
      await sleep(700);
      expect(await cpuTicks(pid)).toBe(frozenAt);
      await thawCell(id);
      const deadline = Date.now() + 5_000;
      while ((await cpuTicks(pid)) === frozenAt && Date.now() < deadline) await sleep(100);
      expect(await cpuTicks(pid)).toBeGreaterThan(frozenAt);
    } finally {
      expect(await endCellCgroup(id, 500)).toBe(1);
    }
    expect(await running(pid)).toBe(false);
    for (const dir of cellDirs(await cgroupSupport(), id)) expect(await exists(dir)).toBe(false);
  });
});

describe('cells with limits (end to end)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('cgroups', files);
  });
  afterAll(() => h?.close());

  const create = async (template: string, onFailure = 'preserve') => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template, brief: 'limits', onFailure },
    });
    expect(response.statusCode, response.body).toBe(202);
    return (response.json() as { id: string }).id;
  };

  it('a service that eats past resources.memoryMb is OOM-killed and the cell says so (limit, peak, hint)', async () => {
    const id = await create('hungry', 'rollback');
    const cell = await waitForStatus(h, id, ['rolled_back', 'failed']);
    expect(cell.failure).toMatchObject({ type: ErrorType.ServiceOOMKilled });
    expect(cell.failure?.message).toContain('limit 96 MiB');
    expect(cell.failure?.message).toMatch(/peak \d+ MiB/);
    expect(cell.failure?.hint).toContain('resources.memoryMb');
    await waitForStatus(h, id, ['rolled_back']);
    // Rolled back: its cgroup is gone with it.
    for (const dir of cellDirs(await cgroupSupport(), id)) expect(await exists(dir)).toBe(false);
  });

  it('a ready service killed by its memory limit is reported and restarted by its policy', async () => {
    const id = await create('lateHungry');
    const ready = await waitForStatus(h, id, ['ready']);
    const before = await h.db.serviceInstance.findFirstOrThrow({ where: { cellId: id, name: 'web' } });
    await fetch(`${ready.services?.[0]?.url}/eat`).catch(() => undefined); // the connection dies with it
    const deadline = Date.now() + 60_000;
    let reported: string | undefined;
    while (!reported && Date.now() < deadline) {
      const events = await h.db.cellEvent.findMany({ where: { cellId: id, type: 'operation' } });
      reported = events.map((e) => e.data).find((d) => d.includes(ErrorType.ServiceOOMKilled));
      if (!reported) await sleep(200);
    }
    expect(reported).toContain('limit 96 MiB');
    expect(await readFile(before.logPath ?? '', 'utf8')).toContain('resources.memoryMb');
    await sleep(500);
    await waitForStatus(h, id, ['ready']);
    const after = await h.db.serviceInstance.findFirstOrThrow({ where: { cellId: id, name: 'web' } });
    expect(after.pid).not.toBe(before.pid);
    expect(await h.app.inject({ method: 'DELETE', url: `/cells/${id}?discard=true` })).toMatchObject({
      statusCode: 202,
    });
    await waitForStatus(h, id, ['archived']);
  });

  it("archive ends a daemon that cleared its environment, left its session and the cell's folder", async () => {
    const id = await create('daemon');
    await waitForStatus(h, id, ['ready']);
    const support = await cgroupSupport();
    // In the cell's cgroup, working in /, with none of the cell's environment (nothing ties it to the cell).
    const daemons: number[] = [];
    for (const pid of await cellProcesses(id)) {
      const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => 'HIVE_');
      if (cwd === '/' && !environ.includes('HIVE_')) daemons.push(pid);
    }
    expect(daemons.length).toBe(1);
    const daemon = daemons[0] ?? 0;
    expect(await readFile(`/proc/${daemon}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');
    // Its own session: not the service's process group.
    const stat = await readFile(`/proc/${daemon}/stat`, 'utf8');
    const [, , , sid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(sid)).toBe(daemon);

    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}?discard=true` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    expect(await running(daemon)).toBe(false);
    for (const dir of cellDirs(support, id)) expect(await exists(dir)).toBe(false);
    await expectZeroResidue(h.db, h.workspace.path, id);
    // No cell's cgroup is left under hive/ by this test file's cells.
    const hiveRoot = cellDirs(support, id)[0]?.replace(/\/[^/]+$/, '') ?? '';
    expect((await readdir(hiveRoot)).filter((d) => d === id)).toEqual([]);
  });
});
