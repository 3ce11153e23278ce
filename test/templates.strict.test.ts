import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/config/paths.js';
import { scriptRunOf } from '../src/templates/packageScripts.js';
import { jsonSchemaFile } from '../src/templates/schema.js';
import { nearestWord } from '../src/templates/strictKeys.js';
import { createHarness, type Harness } from './support/harness.js';

// Strict config (unknown keys are findings naming the nearest known key) and the dry-run findings
// read from the base commit (a service's cwd, package.json scripts). Real files, real git, the
// real API.

type Finding = { severity: string; path: string; message: string; hint: string };

const quiet = { run: 'node -e "" $PORT' };
const templates = {
  good: { label: 'Good', services: { api: quiet } },
  missingCwd: { label: 'x', services: { api: { ...quiet, cwd: 'apps/missing' } } },
  uncommittedCwd: { label: 'x', services: { api: { ...quiet, cwd: 'apps/local' } } },
  committedCwd: { label: 'x', services: { api: { ...quiet, cwd: 'apps/web' } } },
  typoScript: { label: 'x', services: { web: { run: 'npm run devv -- --port $PORT', cwd: 'apps/web' } } },
  goodScripts: {
    label: 'x',
    setup: ['npm ci', 'cd apps/web && pnpm install && pnpm run build'],
    services: {
      web: {
        run: 'npm run dev -- --port $PORT',
        setup: ['pnpm install --frozen-lockfile', 'pnpm exec tsc'],
        cwd: 'apps/web',
      },
    },
  },
  scriptAfterCd: { label: 'x', setup: ['cd apps/web && npm run biuld'] },
  npmStartWithoutScript: { label: 'x', services: { api: { run: 'npm start' } } },
  pnpmBinary: { label: 'x', services: { web: { run: 'pnpm vite --port $PORT', cwd: 'apps/web' } } },
};

let h: Harness;
const configFile = () => path.join(h.workspace.path, 'hive.config.json');
const validConfig = JSON.stringify({ templates });

beforeAll(async () => {
  h = await createHarness('strict', {
    'hive.config.json': validConfig,
    'package.json': JSON.stringify({ name: 'root', scripts: { lint: 'true' } }),
    'apps/web/package.json': JSON.stringify({ name: 'web', scripts: { dev: 'vite', build: 'vite build' } }),
  });
  // In the working copy only: the worktree (made from the base commit) will not have it.
  await mkdir(path.join(h.workspace.path, 'apps', 'local'), { recursive: true });
});
afterAll(() => h?.close());

async function dryRun(template: string) {
  const response = await h.app.inject({
    method: 'POST',
    url: `/templates/${template}/validate`,
    payload: { workspace: 'demo' },
  });
  expect(response.statusCode).toBe(200);
  return response.json() as { ok: boolean; findings: Finding[] };
}

/** POST /cells is refused with problem+json carrying the finding, and nothing is created. */
async function expectRefused(template: string, finding: Partial<Finding>) {
  const response = await h.app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'demo', template, brief: 'try' },
  });
  expect(response.statusCode).toBe(422);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json().findings).toContainEqual(expect.objectContaining(finding));
  expect(await h.db.cell.count()).toBe(0);
  expect((await h.client.workflow.count(`TaskQueue="${h.taskQueue}"`)).count).toBe(0);
}

describe('unknown keys are refused, naming the nearest known key', () => {
  const cases: Array<{ name: string; template: object; path: string; message: RegExp }> = [
    {
      name: 'readyTimeoutMS on a service',
      template: { label: 'x', services: { api: { ...quiet, readyTimeoutMS: 90000 } } },
      path: 'templates.t.services.api.readyTimeoutMS',
      message: /unknown key "readyTimeoutMS": did you mean "readyTimeoutMs"\?/,
    },
    {
      name: 'dependson on a service',
      template: {
        label: 'x',
        services: { db: quiet, api: { ...quiet, dependson: { db: 'healthy' } } },
      },
      path: 'templates.t.services.api.dependson',
      message: /unknown key "dependson": did you mean "dependsOn"\?/,
    },
    {
      name: 'a key of a readiness probe',
      template: {
        label: 'x',
        services: { api: { ...quiet, readiness: { type: 'http', pth: '/health' } } },
      },
      path: 'templates.t.services.api.readiness.pth',
      message: /unknown key "pth": did you mean "path"\?/,
    },
    {
      name: 'a key of an option',
      template: { label: 'x', options: { seed: { type: 'boolean', defualt: false } } },
      path: 'templates.t.options.seed.defualt',
      message: /unknown key "defualt": did you mean "default"\?/,
    },
    {
      name: 'a key of a template',
      template: { label: 'x', teardwon: ['rm -rf tmp'] },
      path: 'templates.t.teardwon',
      message: /unknown key "teardwon": did you mean "teardown"\?/,
    },
    {
      name: 'a key of a docker service (Hive shape, still checked)',
      template: { label: 'x', services: { db: { type: 'docker', image: 'postgres:16', imgae: 'x' } } },
      path: 'templates.t.services.db.imgae',
      message: /did you mean "image"\?/,
    },
    {
      name: 'a key of requirements',
      template: { label: 'x', requirements: { executable: { node: '*' } } },
      path: 'templates.t.requirements.executable',
      message: /did you mean "executables"\?/,
    },
    {
      name: 'a key with nothing near it',
      template: { label: 'x', services: { api: { ...quiet, colour: 'red' } } },
      path: 'templates.t.services.api.colour',
      message: /^hive\.config\.json: unknown key "colour"$/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      await writeFile(
        configFile(),
        JSON.stringify({ opencode: { theme: 'dark' }, templates: { t: c.template } }),
      );
      try {
        const report = await dryRun('t');
        expect(report.ok).toBe(false);
        const finding = report.findings.find((f) => f.path === c.path);
        expect(finding, JSON.stringify(report.findings)).toBeDefined();
        expect(finding?.severity).toBe('error');
        expect(finding?.message).toMatch(c.message);
        expect(finding?.hint).toMatch(/Known keys here: /);
        await expectRefused('t', { path: c.path, message: finding?.message });
      } finally {
        await writeFile(configFile(), validConfig);
      }
    });
  }

  it('the catalog reports the unknown key too (422 problem+json)', async () => {
    await writeFile(
      configFile(),
      JSON.stringify({
        templates: { t: { label: 'x', services: { api: { ...quiet, readyTimeoutMS: 1 } } } },
      }),
    );
    try {
      const response = await h.app.inject({ method: 'GET', url: '/templates?workspace=demo' });
      expect(response.statusCode).toBe(422);
      expect(response.json().findings).toContainEqual(
        expect.objectContaining({
          path: 'templates.t.services.api.readyTimeoutMS',
          hint: expect.stringMatching(/Rename readyTimeoutMS to readyTimeoutMs/),
        }),
      );
    } finally {
      await writeFile(configFile(), validConfig);
    }
  });

  it('the JSON Schema forbids unknown keys on services, probes, options and templates', async () => {
    const schema = JSON.parse(await readFile(path.join(packageRoot, jsonSchemaFile), 'utf8'));
    const template = schema.properties.templates.additionalProperties;
    expect(template.additionalProperties).toBe(false);
    const services = template.properties.services.additionalProperties.oneOf;
    expect(services.length).toBeGreaterThanOrEqual(4);
    for (const service of services) expect(service.additionalProperties).toBe(false);
    const processService = services.find((s: { properties: object }) => 'run' in s.properties);
    for (const probe of processService.properties.readiness.oneOf)
      expect(probe.additionalProperties).toBe(false);
    for (const option of template.properties.options.additionalProperties.oneOf)
      expect(option.additionalProperties).toBe(false);
    // The top level stays open: keys Hive itself uses (opencode, promptSources, defaults).
    expect(schema.additionalProperties).not.toBe(false);
  });

  it('nearest-key matching: case first, then small edits; nothing for unrelated words', () => {
    expect(nearestWord('READYTIMEOUTMS', ['readyTimeoutMs', 'run'])).toBe('readyTimeoutMs');
    expect(nearestWord('lable', ['label', 'type'])).toBe('label');
    expect(nearestWord('colour', ['run', 'cwd', 'env'])).toBeUndefined();
  });
});

describe('dry-run findings read from the base commit', () => {
  it('a service cwd missing from the base commit is an error, before any cell exists', async () => {
    const report = await dryRun('missingCwd');
    expect(report.ok).toBe(false);
    expect(report.findings).toContainEqual({
      severity: 'error',
      path: 'templates.missingCwd.services.api.cwd',
      message: expect.stringMatching(/^apps\/missing does not exist in the base commit HEAD \([0-9a-f]{7}\)/),
      hint: expect.stringMatching(/Fix the path/),
    });
    await expectRefused('missingCwd', { path: 'templates.missingCwd.services.api.cwd' });
  });

  it('a cwd only in the working copy is a warning (the worktree comes from the base commit)', async () => {
    const report = await dryRun('uncommittedCwd');
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        path: 'templates.uncommittedCwd.services.api.cwd',
        message: expect.stringMatching(/not in the base commit .*only in the workspace/),
      }),
    );
  });

  it('a committed cwd passes', async () => {
    expect(await dryRun('committedCwd')).toEqual({ ok: true, findings: [] });
  });

  it('npm run <missing script> names the script, the file, the scripts there and the nearest', async () => {
    const report = await dryRun('typoScript');
    expect(report.ok).toBe(false);
    expect(report.findings).toContainEqual({
      severity: 'error',
      path: 'templates.typoScript.services.web.run',
      message: expect.stringMatching(
        /runs script "devv", which apps\/web\/package\.json in the base commit HEAD .* does not have: did you mean "dev"\?/,
      ),
      hint: expect.stringMatching(/Scripts in apps\/web\/package\.json: dev, build\./),
    });
    await expectRefused('typoScript', { path: 'templates.typoScript.services.web.run' });
  });

  it('a script after `cd <folder>` is looked up in that folder', async () => {
    const report = await dryRun('scriptAfterCd');
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        path: 'templates.scriptAfterCd.setup.0',
        message: expect.stringMatching(/"biuld", which apps\/web\/package\.json .*did you mean "build"/),
      }),
    );
  });

  it('existing scripts and package-manager commands (install, exec, ci) pass', async () => {
    expect(await dryRun('goodScripts')).toEqual({ ok: true, findings: [] });
  });

  it('npm start without a start script (and no server.js) is an error', async () => {
    const report = await dryRun('npmStartWithoutScript');
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        path: 'templates.npmStartWithoutScript.services.api.run',
        message: expect.stringMatching(/runs script "start", which package\.json/),
      }),
    );
  });

  it('pnpm <name> that may be a binary of a dependency is only a warning', async () => {
    const report = await dryRun('pnpmBinary');
    expect(report.ok).toBe(true);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ severity: 'warning', path: 'templates.pnpmBinary.services.web.run' }),
    );
  });

  it('reads which script a command runs, leaving out package-manager commands', () => {
    expect(scriptRunOf(['npm', 'run', '-s', 'dev', '--', '--port', '1'])).toMatchObject({ script: 'dev' });
    expect(scriptRunOf(['npm', 'run-script', 'build'])).toMatchObject({ script: 'build', scriptOnly: true });
    expect(scriptRunOf(['npm', 'test'])).toMatchObject({ script: 'test' });
    expect(scriptRunOf(['pnpm', 'dev'])).toMatchObject({ script: 'dev', scriptOnly: false });
    expect(scriptRunOf(['yarn', 'run', 'dev'])).toMatchObject({ script: 'dev' });
    expect(scriptRunOf(['bun', 'run', 'dev'])).toMatchObject({ script: 'dev' });
    for (const words of [
      ['npm', 'install'],
      ['npm', 'run'],
      ['npm', 'run', 'x', '--if-present'],
      ['npm', '--prefix', 'x', 'run', 'dev'],
      ['npm', 'run', '--workspace', 'a', 'dev'],
      ['npm', 'run', 'build', '--workspaces'],
      ['pnpm', 'run', 'dev', '-r'],
      ['pnpm', 'install'],
      ['pnpm', 'exec', 'tsc'],
      ['pnpm', 'dlx', 'create-vite'],
      ['pnpm', '--filter', 'web', 'dev'],
      ['yarn'],
      ['yarn', 'install'],
      ['yarn', 'workspace', 'web', 'dev'],
      ['bun', 'run', 'src/index.ts'],
      ['npm', 'run', '$SCRIPT'],
    ]) {
      expect(scriptRunOf(words), words.join(' ')).toBeUndefined();
    }
  });
});
