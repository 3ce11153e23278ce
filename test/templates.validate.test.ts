import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import getPort from 'get-port';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programsOf } from '../src/templates/commandPrograms.js';
import { resolveCommit } from '../src/templates/hostChecks.js';
import { createGitRepo } from './support/gitRepo.js';
import { createHarness, type Harness } from './support/harness.js';

/** A real listener holding a port, so "port in use" is a fact of the host, not a fake. */
async function holdPort(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return server;
}

const service = (extra: object = {}) => ({ run: 'node -e "" $PORT', ...extra });

let h: Harness;
let heldPort: number;
let holder: Server;

beforeAll(async () => {
  heldPort = await getPort();
  holder = await holdPort(heldPort);
  const templates = {
    good: {
      label: 'Good',
      services: { db: service(), api: service({ dependsOn: { db: 'healthy' }, env: { DB: '$PORT:db' } }) },
      requirements: { executables: { node: '>=18', git: '*' } },
      prompts: ['prompts/role.md'],
      options: {
        flavour: { type: 'enum', values: ['a', 'b'], default: 'a' },
        replicas: { type: 'number', default: 1 },
      },
    },
    unknownDependency: { label: 'x', services: { api: service({ dependsOn: ['cache'] }) } },
    cycle: {
      label: 'x',
      services: {
        a: service({ dependsOn: ['b'] }),
        b: service({ dependsOn: ['c'] }),
        c: service({ dependsOn: ['a'] }),
      },
    },
    badPlaceholder: { label: 'x', services: { api: service({ env: { DB: '$PORT:nosuch' } }) } },
    badOptionPlaceholder: { label: 'x', services: { api: { run: 'serve --mode $OPTION:mode' } } },
    missingProgram: {
      label: 'x',
      setup: ['HIVE_X=1 hive-no-such-bun install'],
      teardown: ['echo bye && hive-no-such-cleaner --all'],
      services: {
        api: {
          run: 'cd . && exec env -i A=1 hive-no-such-runner --port $PORT',
          stop: 'kill -TERM 1 || true',
        },
      },
    },
    containerized: {
      label: 'x',
      services: {
        db: { type: 'docker', image: 'postgres:16', ports: ['5432:5432'] },
        stack: { type: 'compose', file: 'docker-compose.yml' },
        api: service(),
      },
    },
    missingExecutable: { label: 'x', requirements: { executables: { 'hive-no-such-tool': '>=1' } } },
    oldExecutable: { label: 'x', requirements: { executables: { node: '>=999' } } },
    fixedPortTaken: { label: 'x', services: { api: service({ ports: { primary: heldPort } }) } },
    rangeExhausted: { label: 'x', services: { api: service({ ports: { primary: [heldPort, heldPort] } }) } },
    hugeDisk: { label: 'x', requirements: { minFreeDiskMb: 1_000_000_000 } },
    hugeMemory: { label: 'x', requirements: { minFreeMemoryMb: 1_000_000_000 } },
    missingPrompt: { label: 'x', prompts: ['prompts/nope.md'] },
    badProbePort: {
      label: 'x',
      services: { api: service({ readiness: { type: 'tcp', port: 'admin' } }) },
    },
    disabledDependency: {
      label: 'x',
      options: { cache: { type: 'boolean', default: false } },
      services: {
        cache: service({ enabledWhen: { option: 'cache' } }),
        api: service({ dependsOn: ['cache'] }),
      },
    },
  };
  h = await createHarness('validate', {
    'hive.config.json': JSON.stringify({ templates }),
    'prompts/role.md': 'You are a careful engineer.\n',
  });
});

afterAll(async () => {
  holder?.close();
  await h?.close();
});

async function dryRun(template: string, body: object = {}) {
  const response = await h.app.inject({
    method: 'POST',
    url: `/templates/${template}/validate`,
    payload: { workspace: 'demo', ...body },
  });
  expect(response.statusCode).toBe(200);
  return response.json() as {
    ok: boolean;
    findings: Array<{ severity: string; path: string; message: string; hint: string }>;
  };
}

/** POST /cells with the same request is refused with 422 + the findings, and creates nothing. */
async function expectRefusedWithNothingCreated(template: string, body: object = {}) {
  const response = await h.app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'demo', template, brief: 'try', ...body },
  });
  expect(response.statusCode).toBe(422);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json().findings.length).toBeGreaterThan(0);
  expect(await h.db.cell.count()).toBe(0);
  expect((await h.client.workflow.count(`TaskQueue="${h.taskQueue}"`)).count).toBe(0);
}

const cases: Array<{
  name: string;
  template: string;
  body?: object;
  path: string | RegExp;
  message: RegExp;
  hint?: RegExp;
}> = [
  {
    name: 'options violate the schema',
    template: 'good',
    body: { options: { flavour: 'c', replicas: 'many' } },
    path: /^options\.(flavour|replicas)$/,
    message: /.+/,
    hint: /Valid options: flavour, replicas/,
  },
  {
    name: 'unknown option',
    template: 'good',
    body: { options: { colour: 'red' } },
    path: 'options.colour',
    message: /unknown option colour/,
  },
  {
    name: 'unknown template',
    template: 'nope',
    path: 'template',
    message: /no template "nope"/,
    hint: /good/,
  },
  {
    name: 'dependsOn names no service',
    template: 'unknownDependency',
    path: 'templates.unknownDependency.services.api.dependsOn.cache',
    message: /not a service/,
  },
  {
    name: 'dependency cycle',
    template: 'cycle',
    path: /^templates\.cycle\.services\.[abc]\.dependsOn$/,
    message: /cycle: (\w → ){3}\w/,
  },
  {
    name: 'dependency disabled by the options',
    template: 'disabledDependency',
    path: 'templates.disabledDependency.services.api.dependsOn.cache',
    message: /disable/,
  },
  {
    name: '$PORT:<service> names no service',
    template: 'badPlaceholder',
    path: 'templates.badPlaceholder.services.api.env.DB',
    message: /\$PORT:nosuch/,
  },
  {
    name: '$OPTION:<name> names no option',
    template: 'badOptionPlaceholder',
    path: 'templates.badOptionPlaceholder.services.api.run',
    message: /\$OPTION:mode names no option/,
  },
  {
    name: 'a setup command runs a program this host lacks (past VAR=value)',
    template: 'missingProgram',
    path: 'templates.missingProgram.setup.0',
    message: /runs hive-no-such-bun, which is not on this host's PATH/,
    hint: /Install hive-no-such-bun/,
  },
  {
    name: 'a teardown command runs a program this host lacks (after &&)',
    template: 'missingProgram',
    path: 'templates.missingProgram.teardown.0',
    message: /runs hive-no-such-cleaner,/,
  },
  {
    name: "a service's run command runs a program this host lacks (past exec and env)",
    template: 'missingProgram',
    path: 'templates.missingProgram.services.api.run',
    message: /runs hive-no-such-runner,/,
  },
  {
    name: 'a docker service is accepted by the config and named as needing a container engine',
    template: 'containerized',
    path: 'templates.containerized.services.db',
    message: /db is a docker service: it needs a container engine/,
    hint: /postgres:16/,
  },
  {
    name: 'a compose service likewise',
    template: 'containerized',
    path: 'templates.containerized.services.stack',
    message: /stack is a compose service: it needs a container engine/,
  },
  {
    name: 'required executable missing',
    template: 'missingExecutable',
    path: 'templates.missingExecutable.requirements.executables.hive-no-such-tool',
    message: /not on PATH/,
    hint: /Install/,
  },
  {
    name: 'executable version out of range (read from the executable)',
    template: 'oldExecutable',
    path: 'templates.oldExecutable.requirements.executables.node',
    message: new RegExp(`node ${process.versions.node} at .* does not satisfy >=999`),
  },
  {
    name: 'fixed port in use, naming who holds it',
    template: 'fixedPortTaken',
    path: 'templates.fixedPortTaken.services.api.ports.primary',
    message: new RegExp(`fixed port \\d+ is in use by node \\(pid ${process.pid}\\)`),
  },
  {
    name: 'range without enough free ports',
    template: 'rangeExhausted',
    path: 'templates.rangeExhausted.services.api.ports.primary',
    message: /has 0 free port\(s\); 1 needed/,
  },
  {
    name: 'free disk below the minimum',
    template: 'hugeDisk',
    path: 'templates.hugeDisk.requirements.minFreeDiskMb',
    message: /MB free/,
  },
  {
    name: 'available memory below the minimum',
    template: 'hugeMemory',
    path: 'templates.hugeMemory.requirements.minFreeMemoryMb',
    message: /MB of memory available/,
  },
  {
    name: 'base ref does not resolve',
    template: 'good',
    body: { baseRef: 'no-such-branch' },
    path: 'baseRef',
    message: /"no-such-branch" does not name a commit/,
  },
  {
    name: 'prompt file missing',
    template: 'missingPrompt',
    path: 'templates.missingPrompt.prompts.0',
    message: /prompts\/nope\.md does not exist/,
  },
  {
    name: 'readiness probe names no port',
    template: 'badProbePort',
    path: 'templates.badProbePort.services.api.readiness.port',
    message: /no port named "admin"/,
  },
];

describe('dry run: each finding kind is produced, and nothing is created', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const report = await dryRun(c.template, c.body);
      expect(report.ok).toBe(false);
      const finding = report.findings.find((f) =>
        typeof c.path === 'string' ? f.path === c.path : c.path.test(f.path),
      );
      expect(finding, JSON.stringify(report.findings)).toBeDefined();
      expect(finding?.severity).toBe('error');
      expect(finding?.message).toMatch(c.message);
      expect(finding?.hint).toMatch(c.hint ?? /\w/);
      await expectRefusedWithNothingCreated(c.template, c.body);
    });
  }

  it('a config that does not validate is a finding too', async () => {
    const loaded = await h.configs.load(h.workspace.path);
    expect(loaded.ok).toBe(true);
    const bad = await createHarness('validate-bad', {
      'hive.config.json': JSON.stringify({
        templates: { t: { label: 'x', services: { api: { run: '' } } } },
      }),
    });
    try {
      const response = await bad.app.inject({
        method: 'POST',
        url: '/templates/t/validate',
        payload: { workspace: 'demo' },
      });
      const report = response.json();
      expect(report.ok).toBe(false);
      expect(report.findings[0]).toMatchObject({ path: 'templates.t.services.api.run' });
      expect(report.findings[0].message).toContain('hive.config.json');
    } finally {
      await bad.close();
    }
  });

  it('a workspace that stopped being a git repository is a finding', async () => {
    const ws = await createHarness('validate-nogit', {
      'hive.config.json': JSON.stringify({ templates: { t: { label: 'x' } } }),
    });
    try {
      await rm(path.join(ws.workspace.path, '.git'), { recursive: true, force: true });
      const report = (
        await ws.app.inject({ method: 'POST', url: '/templates/t/validate', payload: { workspace: 'demo' } })
      ).json();
      expect(report.findings).toContainEqual(
        expect.objectContaining({
          path: 'workspace',
          message: expect.stringMatching(/not a git repository/),
        }),
      );
    } finally {
      await ws.close();
    }
  });

  it('a valid request passes the dry run with no findings, and only then creates a cell', async () => {
    const report = await dryRun('good', { options: { flavour: 'b' } });
    expect(report).toEqual({ ok: true, findings: [] });
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'good', brief: 'go', options: { flavour: 'b' } },
    });
    expect(response.statusCode).toBe(202);
    const row = await h.db.cell.findUniqueOrThrow({ where: { id: response.json().id } });
    // Defaults applied and stored with the cell.
    expect(JSON.parse(row.options)).toEqual({ flavour: 'b', replicas: 1 });
  });
});

describe('the programs a command line runs, as the dry run reads them', () => {
  const cases: Array<[string, string[]]> = [
    [
      'FOO=1 BAR=$X bun run dev --port $PORT && cd x; (exec node a.js) | tee >/dev/null 2>&1 # pnpm',
      ['bun', 'node', 'tee'],
    ],
    ['if test -f x; then make; else ./configure; fi', ['make']],
    ['env -i A=1 nice -n 5 python3 -m http.server $PORT', ['python3']],
    ['x=$(date) node b.js', ['date', 'node']],
    ['$(which node) a.js', ['which']],
    ['echo hi\nnpx vite', ['npx']],
    ['cat < in.txt > out', ['cat']],
    ['"$HOME/bin/tool" --x; /usr/bin/env true', []],
  ];
  for (const [line, programs] of cases) {
    it(JSON.stringify(line), () => {
      expect(programsOf(line)).toEqual(programs);
    });
  }
});

describe("the base commit of HEAD, read from the repository's files as git reads it", () => {
  let repo: string;
  beforeAll(async () => {
    repo = await createGitRepo();
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });
  const gitSays = async (dir: string) =>
    (
      await simpleGit(dir)
        .raw(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])
        .catch(() => '')
    ).trim() || undefined;

  it('a loose branch, packed refs, a detached HEAD, a linked worktree and an unborn branch', async () => {
    const git = simpleGit(repo);
    const layouts: Array<[string, () => Promise<string>]> = [
      ['loose ref', async () => repo],
      [
        'packed ref',
        async () => {
          await git.raw(['commit', '--allow-empty', '-m', 'second']);
          await git.raw(['pack-refs', '--all', '--prune']);
          return repo;
        },
      ],
      [
        'detached HEAD',
        async () => {
          await git.raw(['commit', '--allow-empty', '-m', 'third']);
          await git.raw(['checkout', '-q', '--detach', 'HEAD']);
          return repo;
        },
      ],
      [
        'linked worktree (HEAD in its folder, refs in the repository)',
        async () => {
          await git.raw(['checkout', '-q', 'main']);
          await git.raw(['commit', '--allow-empty', '-m', 'fourth']);
          const linked = path.join(repo, '.cells', 'linked');
          await git.raw(['worktree', 'add', '-q', '-b', 'side', linked, 'main']);
          return linked;
        },
      ],
      [
        'unborn branch (git has the last word: no commit)',
        async () => {
          await git.raw(['checkout', '-q', '--orphan', 'empty']);
          return repo;
        },
      ],
    ];
    const seen = new Set<string | undefined>();
    for (const [layout, arrange] of layouts) {
      const dir = await arrange();
      const expected = await gitSays(dir);
      expect({ layout, commit: await resolveCommit(dir, 'HEAD') }).toEqual({ layout, commit: expected });
      seen.add(expected);
    }
    // Four different commits and "none": each layout was really a case of its own.
    expect(seen.size).toBe(5);
  });
});
