import { readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/config/paths.js';
import { hiveConfigJsonSchema, jsonSchemaFile } from '../src/templates/schema.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';

// Hive's existing shape, unchanged: top-level keys this service ignores, services with `$PORT` and
// `$PORT:<service>`, setup/teardown, include/ignore patterns, agent pass-through.
const hiveShapedConfig = `
import { defineConfig } from 'hive-cells';

export default defineConfig({
  opencode: { theme: 'dark', model: 'anthropic/claude' },
  promptSources: ['docs/prompts'],
  defaults: { template: 'fullstack' },
  templates: {
    fullstack: {
      id: 'fullstack',
      label: 'Full stack',
      type: 'manual',
      description: 'API and web front end',
      services: {
        api: {
          type: 'process',
          run: 'node server.js --port $PORT',
          setup: ['npm install'],
          env: { DATABASE_URL: 'postgres://localhost:$PORT:db/app' },
          readyTimeoutMs: 30000,
          dependsOn: { db: 'healthy' },
          readiness: { type: 'http', path: '/health' },
        },
        web: {
          type: 'process',
          run: 'vite --port $PORT',
          env: { API_URL: 'http://127.0.0.1:$PORT:api' },
          dependsOn: ['api'],
        },
        db: {
          type: 'process',
          run: 'postgres -p $PORT',
          ports: { primary: 'any' },
          readiness: { type: 'tcp' },
        },
      },
      env: { NODE_ENV: 'development' },
      setup: ['npm ci'],
      prompts: ['docs/prompts'],
      teardown: ['rm -rf tmp'],
      includePatterns: ['.env*'],
      ignorePatterns: ['.env.production'],
      agent: { provider: 'opencode', modelId: 'big-pickle' },
      requirements: { executables: { node: '>=18' } },
      resources: { cpu: 2, memoryMb: 2048, provisionSeconds: 45 },
      options: {
        database: { type: 'enum', values: ['postgres', 'sqlite'], default: 'postgres', description: 'Which database' },
        seed: { type: 'boolean', default: false },
      },
    },
    docs: { label: 'Docs only', services: { site: { run: 'node site.js $PORT' } } },
  },
});
`;

let h: Harness;
beforeAll(async () => {
  h = await createHarness('catalog', {
    'hive.config.ts': hiveShapedConfig,
    'docs/prompts/role.md': '# Role\n',
    'site.js': "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[2]));\n",
  });
});
afterAll(() => h?.close());

const configFile = () => path.join(h.workspace.path, 'hive.config.ts');

describe('template catalog', () => {
  it('lists a workspace and whether its config loads', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/workspaces' });
    expect(response.statusCode).toBe(200);
    expect(response.json().workspaces).toEqual([
      {
        id: 'demo',
        path: h.workspace.path,
        configFile: configFile(),
        configLoads: true,
        templates: 2,
        problems: [],
      },
    ]);
  });

  it("loads Hive's config shape unchanged and lists its templates", async () => {
    const response = await h.app.inject({ method: 'GET', url: '/templates?workspace=demo' });
    expect(response.statusCode).toBe(200);
    const { templates } = response.json();
    expect(templates.map((t: { id: string }) => t.id)).toEqual(['fullstack', 'docs']);
    expect(templates[0]).toMatchObject({
      label: 'Full stack',
      description: 'API and web front end',
      services: ['api', 'web', 'db'],
      requirements: { executables: { node: '>=18' } },
      resources: { cpu: 2, memoryMb: 2048, provisionSeconds: 45 },
      measured: null,
    });
  });

  it('shows one template: options as JSON Schema with defaults, services with ports, probes, dependencies', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/templates/fullstack?workspace=demo' });
    expect(response.statusCode).toBe(200);
    const template = response.json();
    expect(template.options.properties.database).toMatchObject({
      enum: ['postgres', 'sqlite'],
      default: 'postgres',
      description: 'Which database',
    });
    expect(template.options.properties.seed).toMatchObject({ type: 'boolean', default: false });
    const api = template.services.find((s: { name: string }) => s.name === 'api');
    expect(api).toMatchObject({
      ports: { primary: 'any' },
      primaryPort: 'primary',
      readiness: { type: 'http', path: '/health', periodMs: 500 },
      readyTimeoutMs: 30000,
      dependsOn: { db: 'healthy' },
    });
    const web = template.services.find((s: { name: string }) => s.name === 'web');
    expect(web.dependsOn).toEqual({ api: 'started' });
    expect(template.agent).toEqual({ provider: 'opencode', modelId: 'big-pickle' });
  });

  it('answers 404 for an unknown template or workspace', async () => {
    const template = await h.app.inject({ method: 'GET', url: '/templates/nope?workspace=demo' });
    expect(template.statusCode).toBe(404);
    expect(template.json().detail).toMatch(/Use one of: fullstack, docs/);
    const workspace = await h.app.inject({ method: 'GET', url: '/templates?workspace=elsewhere' });
    expect(workspace.statusCode).toBe(404);
  });

  it('picks up an edited config without a restart', async () => {
    const original = await readFile(configFile(), 'utf8');
    try {
      await writeFile(configFile(), original.replace("label: 'Docs only'", "label: 'Documentation site'"));
      // Make sure the modification time moves even on coarse-grained file systems.
      const later = new Date(Date.now() + 2_000);
      await utimes(configFile(), later, later);
      const response = await h.app.inject({ method: 'GET', url: '/templates?workspace=demo' });
      expect(response.json().templates[1].label).toBe('Documentation site');
    } finally {
      await writeFile(configFile(), original);
    }
  });

  it('reports a config that fails to validate with file, path, message and hint — never a 500', async () => {
    const original = await readFile(configFile(), 'utf8');
    try {
      await writeFile(configFile(), original.replace("run: 'vite --port $PORT',", 'run: 42,'));
      const response = await h.app.inject({ method: 'GET', url: '/templates?workspace=demo' });
      expect(response.statusCode).toBe(422);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = response.json();
      expect(problem.detail).toContain('hive.config.ts');
      expect(problem.findings).toEqual([
        expect.objectContaining({
          path: 'templates.fullstack.services.web.run',
          message: expect.stringMatching(/string/),
          hint: expect.stringMatching(/string/),
        }),
      ]);
      const workspaces = (await h.app.inject({ method: 'GET', url: '/workspaces' })).json().workspaces;
      expect(workspaces[0]).toMatchObject({ configLoads: false, templates: 0 });
      expect(workspaces[0].problems[0].path).toBe('templates.fullstack.services.web.run');
    } finally {
      await writeFile(configFile(), original);
    }
  });

  it('reports a config that does not even load (syntax error) with the file and a hint', async () => {
    const original = await readFile(configFile(), 'utf8');
    try {
      await writeFile(configFile(), `${original}\nexport const broken = ;`);
      const response = await h.app.inject({ method: 'GET', url: '/templates?workspace=demo' });
      expect(response.statusCode).toBe(422);
      expect(response.json().findings[0]).toMatchObject({
        path: '(file)',
        message: expect.stringMatching(/cannot be loaded/),
        hint: expect.stringMatching(/syntax/),
      });
    } finally {
      await writeFile(configFile(), original);
    }
  });

  it('reports measured provisioning times once cells of the template became ready', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'docs', brief: 'measure me' },
    });
    expect(created.statusCode).toBe(202);
    await waitForStatus(h, created.json().id, ['ready']);
    const { templates } = (await h.app.inject({ method: 'GET', url: '/templates?workspace=demo' })).json();
    const docs = templates.find((t: { id: string }) => t.id === 'docs');
    expect(docs.measured.samples).toBe(1);
    expect(docs.measured.p50Seconds).toBeGreaterThan(0);
    expect(docs.measured.p95Seconds).toBe(docs.measured.p50Seconds);
  });
});

describe('hive.config.json', () => {
  let j: Harness;
  beforeAll(async () => {
    j = await createHarness('jsoncfg', {
      'hive.config.json': JSON.stringify({
        $schema: `${packageRoot}/${jsonSchemaFile}`,
        templates: { api: { label: 'API', services: { api: { run: 'node api.js $PORT' } } } },
      }),
    });
  });
  afterAll(() => j?.close());

  it('loads a JSON config carrying $schema', async () => {
    const response = await j.app.inject({ method: 'GET', url: '/templates/api?workspace=demo' });
    expect(response.statusCode).toBe(200);
    expect(response.json().services[0]).toMatchObject({ name: 'api', run: 'node api.js $PORT' });
  });

  it('the published JSON Schema is generated from the zod schema (regenerate: hive schema --write)', async () => {
    const committed = JSON.parse(await readFile(path.join(packageRoot, jsonSchemaFile), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(hiveConfigJsonSchema())));
    expect(committed.properties.templates.additionalProperties.required).toContain('label');
  });
});
