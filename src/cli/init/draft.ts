import path from 'node:path';
import semver from 'semver';
import type { ComposeService, RepoFacts } from './detect.js';
import { type Entries, type Entry, renderConfig, type Value } from './render.js';

// From what init detected to a template that works on this host: the app's own dev server as a
// service on $PORT, the install command as setup, `.env*` copied into each worktree, and what a
// docker-compose file runs in containers mapped to native processes where this host can run them
// (otherwise written commented out, with what it would take).

/** What this host can run in place of a compose service's container. */
export interface HostTools {
  /** Debian's PostgreSQL binaries (/usr/lib/postgresql/<version>/bin) are installed. */
  postgres: boolean;
  /** redis-server is on PATH. */
  redis: boolean;
}

export const TEMPLATE_ID = 'default';

const SERVICE_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;
const serviceName = (name: string) => {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, '-').replace(/^[^a-zA-Z]+/, '');
  return SERVICE_NAME.test(cleaned) ? cleaned : `svc-${cleaned || 'x'}`.slice(0, 63);
};

const entry = (key: string, value: Value, comment?: string[], disabled?: boolean): Entry => ({
  key,
  value,
  comment,
  disabled,
});
const obj = (...entries: Array<Entry | undefined | false>): Entries => ({
  entries: entries.filter((e): e is Entry => Boolean(e)),
});

/** The dev server command for a script, told to listen on $PORT where its tool ignores PORT. */
function devCommand(
  run: (script: string) => string,
  script: string,
  body: string,
): { run: string; note: string } {
  if (/\bvite\b/.test(body) && !/--port/.test(body)) {
    return {
      run: `${run(script)} -- --port $PORT --strictPort`,
      note: 'Vite ignores PORT: the port is passed as --port.',
    };
  }
  if (/\b(astro|ng serve|webpack serve|webpack-dev-server)\b/.test(body) && !/--port/.test(body)) {
    return { run: `${run(script)} -- --port $PORT`, note: 'This dev server takes its port as --port.' };
  }
  return {
    run: run(script),
    note: 'The service gets PORT (its allocated port) in its environment: make the server listen on it.',
  };
}

interface ServiceBlock {
  name: string;
  entry: Entry;
  /** Template-level env this service offers to the others (e.g. DATABASE_URL). */
  env?: Record<string, string>;
}

/** A compose service's image as a native process, when this host has the program for it. */
function nativeService(s: ComposeService, host: HostTools): ServiceBlock | undefined {
  const image = (s.image ?? '').split('@')[0]?.split(':')[0]?.split('/').at(-1) ?? '';
  const name = serviceName(s.name);
  const from = `From ${s.name} in the compose file (image ${s.image}${s.ports[0] ? `, port ${s.ports[0].target}` : ''}).`;
  if (image === 'postgres' || image === 'postgis') {
    const comment = [
      from,
      "Hive's built-in PostgreSQL: one server per workspace (Debian's binaries), and each cell its own",
      'database, cloned from a template database. Add `seed` commands (migrations, fixtures) and their',
      '`inputs` (e.g. "migrations/**") to build that template once. Cells get DATABASE_URL and PG*.',
    ];
    if (!host.postgres) {
      comment.push(
        'Commented out: no PostgreSQL under /usr/lib/postgresql here. Install it, then enable this.',
      );
    }
    return { name, entry: entry(name, obj(entry('type', 'postgres')), comment, !host.postgres) };
  }
  if (image === 'redis' || image === 'valkey') {
    const spec = obj(entry('run', "redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no"));
    const comment = [
      from,
      'Run natively with redis-server (apt-get install redis-server), nothing persisted.',
    ];
    if (!host.redis)
      comment.push('Commented out: redis-server is not on PATH here. Install it, then enable this.');
    return {
      name,
      entry: entry(name, spec, comment, !host.redis),
      env: host.redis ? { REDIS_URL: `redis://127.0.0.1:$PORT:${name}` } : undefined,
    };
  }
  return undefined;
}

/** A compose service Hive cannot run as it is: a commented-out block saying what it would take. */
function unmappedService(s: ComposeService): Entry {
  const what = s.build ? 'is built from this repository' : `runs the container image ${s.image ?? '(none)'}`;
  return entry(
    serviceName(s.name),
    obj(
      entry('run', s.command ?? `<the command that runs ${s.name} on this host>`),
      s.ports[0] && entry('ports', obj(entry('primary', 'any'))),
    ),
    [
      `From ${s.name} in the compose file, which ${what}${s.ports.length ? ` on port ${s.ports.map((p) => p.target).join(', ')}` : ''}.`,
      'Hive runs processes, not containers: give it a command that runs on this host (listening on',
      '$PORT), or run it outside Hive and pass its address in env. Commented out until then.',
    ],
    true,
  );
}

export interface Draft {
  source: string;
  /** One line per thing detected, for the person running init. */
  detected: string[];
}

export function draftConfig(facts: RepoFacts, host: HostTools): Draft {
  const detected: string[] = [];
  const services: ServiceBlock[] = [];
  const setup: string[] = [];
  const requirements: Entry[] = [];
  const pm = facts.packageManager;
  const pkg = facts.packageJson;

  if (pkg && pm) {
    detected.push(`package.json, ${pm.name}${pm.lockfile ? ` (${pm.lockfile})` : ' (no lockfile)'}`);
    setup.push(pm.install);
    const range = pkg.nodeEngine && semver.validRange(pkg.nodeEngine) ? pkg.nodeEngine : '*';
    requirements.push(entry('node', range));
    if (pm.name !== 'npm') requirements.push(entry(pm.name, '*'));
  }

  if (facts.procfile?.length) {
    detected.push(`Procfile: ${facts.procfile.map((p) => p.name).join(', ')}`);
    for (const p of facts.procfile) {
      const name = serviceName(p.name);
      if (p.name === 'release') {
        services.push({
          name,
          entry: entry(
            name,
            obj(entry('run', p.command)),
            ['Procfile release: a one-off, better as setup.'],
            true,
          ),
        });
        continue;
      }
      // Heroku's convention: only `web` listens on $PORT; other process types get no port.
      const isWeb = p.name === 'web';
      services.push({
        name,
        entry: entry(name, obj(entry('run', p.command), !isWeb && entry('ports', obj())), [
          `From the Procfile${isWeb ? '; $PORT is its allocated port' : ' (no port, as on Heroku)'}.`,
        ]),
      });
    }
  } else if (pkg && pm) {
    const script = ['dev', 'start'].find((s) => pkg.scripts[s]);
    if (script) {
      detected.push(`package.json script "${script}": ${pkg.scripts[script]}`);
      const { run, note } = devCommand(pm.run, script, pkg.scripts[script] ?? '');
      services.push({
        name: 'web',
        entry: entry('web', obj(entry('run', run)), [`package.json's "${script}" script. ${note}`]),
      });
    }
  }

  const compose = facts.compose;
  if (compose) {
    detected.push(`${compose.file}: ${compose.services.map((s) => s.name).join(', ') || '(no services)'}`);
    const apps = services.filter((x) => !x.entry.disabled);
    for (const s of compose.services) {
      const native = s.image ? nativeService(s, host) : undefined;
      if (native) services.push(native);
      else if (s.build && apps.length) {
        detected.push(
          `  ${s.name} is built from this repository: run by ${apps.map((a) => a.name).join(', ')}`,
        );
      } else if (s.build && s.command) {
        // The repository's own program, run on this host as the compose file's command runs it.
        const name = serviceName(s.name);
        services.push({
          name,
          entry: entry(name, obj(entry('run', s.command)), [
            `From ${s.name} in the compose file (built from this repository${s.ports[0] ? `, port ${s.ports[0].target}` : ''}).`,
            'It runs here as a process with PORT (its allocated port) in its environment: make it listen on it.',
          ]),
        });
      } else services.push({ name: serviceName(s.name), entry: unmappedService(s) });
    }
  }

  // The app's own services wait for the databases they were given an address of.
  const providers = services.filter((s) => s.env && !s.entry.disabled);
  const env: Record<string, string> = Object.assign({}, ...providers.map((p) => p.env));
  for (const app of services.filter((s) => !s.env && !s.entry.disabled)) {
    if (providers.length === 0) break;
    (app.entry.value as Entries).entries.push(
      entry('dependsOn', obj(...providers.map((p) => entry(p.name, 'healthy')))),
    );
  }

  if (facts.envFiles.length) detected.push(`env files: ${facts.envFiles.join(', ')}`);
  const label = pkg?.name ?? path.basename(facts.root);
  const empty = services.length === 0 && setup.length === 0;

  const template = obj(
    entry('label', label),
    entry(
      'description',
      empty ? 'A worktree of this repository, nothing more' : 'Written by hive init; edit to taste',
    ),
    setup.length > 0 &&
      entry(
        'setup',
        setup,
        [
          'Run once in each new worktree, before the services start.',
          pkg && pkg.dependencies === 0 ? 'No dependencies yet, so this is quick.' : '',
        ].filter(Boolean),
      ),
    Object.keys(env).length > 0 &&
      entry('env', obj(...Object.entries(env).map(([k, v]) => entry(k, v))), [
        'Every process of the cell gets these (and <SERVICE>_PORT, <SERVICE>_URL); see .hive/env.',
      ]),
    services.length > 0 &&
      entry('services', obj(...services.map((s) => s.entry)), [
        'Each service gets a free port as $PORT (and PORT in its environment); ready when it accepts connections.',
      ]),
    facts.envFiles.length > 0 &&
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
  ];
  if (empty)
    header.push('Nothing to run was detected (no package.json, Procfile or compose file): worktree only.');

  return {
    detected,
    source: renderConfig({
      header,
      config: obj(entry('templates', obj(entry(TEMPLATE_ID, template)))),
    }),
  };
}
