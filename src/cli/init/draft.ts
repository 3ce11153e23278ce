import path from 'node:path';
import semver from 'semver';
import { appServices } from './apps.js';
import { entry, envName, obj, type ServiceBlock } from './blocks.js';
import { composeServices, type HostTools } from './composeServices.js';
import type { RepoFacts } from './detect.js';
import { ENV_EXAMPLES, envFromExample } from './envFiles.js';
import type { Entries, Entry } from './render.js';
import { renderConfig } from './render.js';

// From what init detected to a template: the install as a cached dependency set (before databases
// are seeded and before setup: activities/environment.ts runs dependencies → databases → setup),
// a `.env` made from its example, the build a served app needs, the app's own servers on $PORT,
// and what a compose file runs mapped to this host where it can be.

export type { HostTools } from './composeServices.js';

export const TEMPLATE_ID = 'default';

export interface Draft {
  source: string;
  /** One line per thing detected, for the person running init. */
  detected: string[];
  /** What the config does not do yet (each also said in the config). */
  problems: string[];
  /** The repository shows a server, and how many app services the config starts. */
  hasServer: boolean;
  appServices: number;
}

const entriesOf = (e: Entry) => e.value as Entries;

/** The install as a dependency set: installed once per lockfile into Hive's cache, copied into each cell. */
function dependencySet(facts: RepoFacts): Entry | undefined {
  const pm = facts.packageManager;
  if (!pm || !facts.packageJson) return undefined;
  const packages = facts.workspaces?.packages ?? [];
  const key = pm.lockfile ? [pm.lockfile] : ['package.json', ...packages.map((p) => `${p.dir}/package.json`)];
  // pnpm links each package's own node_modules; npm, yarn and bun may put some there too.
  const nodeModules = ['node_modules', ...packages.map((p) => `${p.dir}/node_modules`)];
  const paths = pm.berry
    ? ['.pnp.cjs', '.pnp.loader.mjs', '.yarn/unplugged', '.yarn/install-state.gz', ...nodeModules]
    : nodeModules;
  return entry(
    'dependencies',
    [obj(entry('key', key), entry('paths', paths), entry('install', pm.install))],
    [
      `${pm.name} install, once per ${pm.lockfile ?? 'package.json'} into Hive's cache, then copied into each cell.`,
      'It runs before the databases are seeded and before setup, so both can use what it installs.',
    ],
  );
}

/** Adds commands in front of a service's own setup. */
function prependServiceSetup(service: ServiceBlock, commands: string[]) {
  const entries = entriesOf(service.entry).entries;
  const setup = entries.find((e) => e.key === 'setup');
  if (setup) setup.value = [...commands, ...(setup.value as string[])];
  else entries.splice(1, 0, entry('setup', commands));
}

export function draftConfig(facts: RepoFacts, host: HostTools): Draft {
  const detected: string[] = [];
  const requirements: Entry[] = [];
  const pm = facts.packageManager;
  const pkg = facts.packageJson;
  if (pkg && pm) {
    detected.push(`package.json, ${pm.name}${pm.lockfile ? ` (${pm.lockfile})` : ' (no lockfile)'}`);
    const range = pkg.nodeEngine && semver.validRange(pkg.nodeEngine) ? pkg.nodeEngine : '*';
    requirements.push(entry('node', range));
    if (pm.name !== 'npm') requirements.push(entry(pm.name, '*'));
  }
  if (facts.go) requirements.push(entry('go', '*'));

  const apps = appServices(facts);
  detected.push(...apps.detected);
  const problems = [...apps.problems];
  const services: ServiceBlock[] = [...apps.services];
  if (facts.compose) {
    const compose = composeServices(facts.compose, host, apps.appDirs);
    detected.push(...compose.detected);
    services.push(...compose.services);
  }

  // The app's own services wait for the databases they were given an address of.
  const enabled = services.filter((s) => !s.entry.disabled);
  const providers = enabled.filter((s) => s.provider);
  const appCount = enabled.filter((s) => !s.provider).length;
  const env: Record<string, string> = Object.assign({}, ...providers.map((p) => p.env ?? {}));
  for (const app of enabled.filter((s) => !s.provider && providers.length > 0)) {
    entriesOf(app.entry).entries.push(
      entry('dependsOn', obj(...providers.map((p) => entry(p.name, 'healthy')))),
    );
  }

  // A `.env` from the example, without what Hive sets: each service's PORT, <NAME>_PORT and
  // <NAME>_URL, and what the databases give.
  const provided = [
    ...enabled.flatMap((s) => [...(s.provides ?? []), `${envName(s.name)}_PORT`, `${envName(s.name)}_URL`]),
  ];
  const setup: Array<{ command: string; why: string }> = [];
  const rootExample = ENV_EXAMPLES.find((f) => facts.envFiles.includes(f));
  if (rootExample && !facts.envFiles.includes('.env')) {
    setup.push({
      command: envFromExample(rootExample, provided),
      why: `.env from ${rootExample} (no .env here), without the variables Hive sets (PORT, …).`,
    });
  }
  for (const { pkg: p, service } of apps.envSetups) {
    if (p.envExample) prependServiceSetup(service, [envFromExample(p.envExample, provided)]);
  }
  setup.push(...apps.setup);

  if (apps.hasServer && appCount === 0) {
    problems.push(
      'The repository has a server, but no service of this config starts it: add one under services (run, cwd), listening on $PORT.',
    );
  }
  if (facts.envFiles.length) detected.push(`env files: ${facts.envFiles.join(', ')}`);
  const label = pkg?.name ?? path.basename(facts.root);
  const dependencies = dependencySet(facts);
  const empty = services.length === 0 && setup.length === 0 && !dependencies;

  const template = obj(
    entry('label', label),
    entry(
      'description',
      empty ? 'A worktree of this repository, nothing more' : 'Written by hive init; edit to taste',
    ),
    dependencies,
    setup.length > 0 &&
      entry(
        'setup',
        setup.map((s) => s.command),
        [
          'Run once in each new worktree, after dependencies and databases, before the services start:',
          ...setup.map((s, i) => `${i + 1}. ${s.why}`),
        ],
      ),
    apps.teardown.length > 0 && entry('teardown', apps.teardown, ["conductor.json's archive script."]),
    Object.keys(env).length > 0 &&
      entry('env', obj(...Object.entries(env).map(([k, v]) => entry(k, v))), [
        'Every process of the cell gets these (and <SERVICE>_PORT, <SERVICE>_URL); see .hive/env.',
      ]),
    services.length > 0 &&
      entry('services', obj(...services.map((s) => s.entry)), [
        'Each service gets a free port as $PORT (and PORT in its environment); ready when it accepts',
        'connections, or when / answers 2xx/3xx where it has a readiness probe.',
      ]),
    facts.envFiles.length > 0 &&
      !facts.worktreeInclude &&
      entry(
        'includePatterns',
        ['.env*'],
        [`Gitignored files copied into each worktree (found: ${facts.envFiles.join(', ')}).`],
      ),
    requirements.length > 0 &&
      entry('requirements', obj(entry('executables', obj(...requirements))), [
        'Checked by the dry run before any cell is made.',
      ]),
  );

  const header = [
    'Hive cells templates for this repository, written by `hive init`.',
    'A cell = a git worktree at .cells/<id> + these services on free ports + .hive/env + an agent prompt.',
    'Try it:  hive templates validate default   then   hive cells create -t default -b "<task>"',
    'Reference: docs/templates.md of hive-cells (placeholders $PORT, $PORT:<service>, readiness, options).',
    'What init guessed is said next to each part; check it.',
  ];
  if (facts.worktreeInclude)
    header.push('.worktreeinclude lists the gitignored files Hive copies into each worktree.');
  if (empty)
    header.push(
      'Nothing to run was detected (no package.json, Procfile, Go module or compose file): worktree only.',
    );
  if (problems.length)
    header.push('Not done yet (fix these before making cells):', ...problems.map((p) => `- ${p}`));

  return {
    detected,
    problems,
    hasServer: apps.hasServer,
    appServices: appCount,
    source: renderConfig({ header, config: obj(entry('templates', obj(entry(TEMPLATE_ID, template)))) }),
  };
}
