import type { AppDir } from './apps.js';
import { commentText, entry, obj, type ServiceBlock, serviceName } from './blocks.js';
import { type ComposeFacts, type ComposeService, imageName } from './compose.js';

// A compose file's services as Hive services: PostgreSQL becomes Hive's built-in database per cell,
// Redis a native redis-server, when this host has them; the repository's own JavaScript program
// (built from it, with a command) runs as a process; the same app init already runs is named as
// such; everything else is written commented out, with an honest note of what it is. Never is a
// container's command written as a command for this host: it runs inside the image, often as
// arguments to the image's own entrypoint (traefik's flags).

/** What this host can run in place of a compose service's container. */
export interface HostTools {
  /** Debian's PostgreSQL binaries (/usr/lib/postgresql/<version>/bin) are installed. */
  postgres: boolean;
  /** redis-server is on PATH. */
  redis: boolean;
}

const JS_PROGRAM = /^\s*(node|bun|deno|npm|npx|pnpm|yarn|tsx)\b/;

const portsText = (s: ComposeService) =>
  s.ports.length ? ` on port ${s.ports.map((p) => p.target).join(', ')}` : '';

function nativeService(s: ComposeService, host: HostTools): ServiceBlock | undefined {
  const image = imageName(s.image);
  const name = serviceName(s.name);
  const from = commentText(
    `From ${s.name} in the compose file (image ${s.image}${s.ports[0] ? `, port ${s.ports[0].target}` : ''}).`,
  );
  if (image === 'postgres' || image === 'postgis') {
    const comment = [
      from,
      "Hive's built-in PostgreSQL: one server per workspace (Debian's binaries), and each cell its own",
      'database, cloned from a template database. Add `seed` commands (migrations, fixtures) and their',
      '`inputs` (e.g. "migrations/**") to build that template once. Seeds run after `dependencies`',
      '(node_modules is there) and before `setup`, with DATABASE_URL and PG* set.',
    ];
    if (!host.postgres) {
      comment.push(
        'Commented out: no PostgreSQL under /usr/lib/postgresql here. Install it, then enable this.',
      );
    }
    return {
      name,
      provider: true,
      provides: ['DATABASE_[A-Z0-9_]*', 'PG[A-Z]*'],
      entry: entry(name, obj(entry('type', 'postgres')), comment, !host.postgres),
    };
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
      provider: true,
      provides: ['REDIS_URL'],
      entry: entry(name, spec, comment, !host.redis),
      env: host.redis ? { REDIS_URL: `redis://127.0.0.1:$PORT:${name}` } : undefined,
    };
  }
  return undefined;
}

/** A compose service Hive cannot run as it is: commented out, saying what it is and what it takes. */
function unmappedService(s: ComposeService): ServiceBlock {
  const build = s.build;
  const what = build
    ? `is built from ${build.dockerfile}${build.language ? `, a ${build.language} app` : ''}${build.from ? ` (FROM ${build.from})` : ''}`
    : `runs the container image ${s.image ?? '(none)'}`;
  const comment = [commentText(`From ${s.name} in the compose file, which ${what}${portsText(s)}.`, 200)];
  if (s.command)
    comment.push(commentText(`In its container it runs: ${s.command} (inside the image, not here).`, 200));
  comment.push(
    'Hive runs processes, not containers: give it a command that runs on this host (listening on',
    '$PORT), or run it outside Hive and pass its address in env. Commented out until then.',
  );
  const name = serviceName(s.name);
  return {
    name,
    entry: entry(
      name,
      obj(
        entry('run', `<the command that runs ${name} on this host>`),
        build && build.context !== '.' && entry('cwd', build.context),
      ),
      comment,
      true,
    ),
  };
}

export interface ComposeOutcome {
  services: ServiceBlock[];
  detected: string[];
}

/**
 * The compose file's services. `apps` maps a folder (relative to the root) to the service init
 * already runs from it, so a service built from that folder is named as the same app.
 */
export function composeServices(
  compose: ComposeFacts,
  host: HostTools,
  apps: Map<string, AppDir>,
): ComposeOutcome {
  const services: ServiceBlock[] = [];
  const detected = [`${compose.file}: ${compose.services.map((s) => s.name).join(', ') || '(no services)'}`];
  for (const s of compose.services) {
    const native = s.image && !s.build ? nativeService(s, host) : undefined;
    if (native) {
      services.push(native);
      continue;
    }
    const build = s.build;
    const isNode = !build?.language || build.language.startsWith('Node.js');
    const app = build ? apps.get(build.context) : undefined;
    // The same app when its files say the same language (or either does not say).
    const sameApp =
      app && (!app.language || !build?.language || build.language.startsWith(app.language))
        ? app.service
        : undefined;
    if (build && sameApp) {
      detected.push(
        `  ${s.name} is built from ${build.context === '.' ? 'the root' : build.context}: the same app as service ${sameApp}`,
      );
    } else if (build && isNode && s.command && JS_PROGRAM.test(s.command)) {
      // The repository's own JavaScript program, run on this host as the compose file runs it.
      const name = serviceName(s.name);
      services.push({
        name,
        entry: entry(
          name,
          obj(entry('run', s.command), build.context !== '.' && entry('cwd', build.context)),
          [
            commentText(
              `From ${s.name} in the compose file (built from ${build.dockerfile}${portsText(s)}).`,
              200,
            ),
            'It runs here as a process with PORT (its allocated port) in its environment: make it listen on it.',
          ],
        ),
      });
    } else services.push(unmappedService(s));
  }
  return { services, detected };
}
