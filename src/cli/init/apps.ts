import path from 'node:path';
import { commentText, entry, obj, type ServiceBlock, serviceName, uniqueName } from './blocks.js';
import { withConductorPaths } from './conductor.js';
import type { RepoFacts } from './detect.js';
import { goBinary, procfileBuild } from './procfile.js';
import { type NodePackage, planServer, type ServerPlan, serverScript } from './servers.js';

// The repository's own programs as services: conductor.json's run script, each runnable app
// package of a monorepo (in its folder), the root package's server script, a Procfile's processes
// and a Go server, each given the cell's port its own way, with the build it needs first.

export interface AppsOutcome {
  services: ServiceBlock[];
  /** Template setup, in order, with why. */
  setup: Array<{ command: string; why: string }>;
  teardown: string[];
  detected: string[];
  problems: string[];
  /** The repository shows a server (a server script, a Procfile web, a Go HTTP server, a run script). */
  hasServer: boolean;
  /** Folder (relative to the root) → the service init runs from it, and its language when known. */
  appDirs: Map<string, AppDir>;
  /** Workspace packages whose `.env` init makes from their example, and the service run there. */
  envSetups: Array<{ pkg: NodePackage; service: ServiceBlock }>;
}

export interface AppDir {
  service: string;
  language?: string;
}

const DEV_SCRIPT = /^(dev|start:dev|develop|serve|dev:.+)$/;

const commentOf = (service: ServiceBlock) => {
  service.entry.comment ??= [];
  return service.entry.comment;
};

function serviceFromPlan(name: string, plan: ServerPlan, cwd: string | undefined): ServiceBlock {
  const comment = [...plan.notes, ...plan.problems.map((p) => `Not done: ${p}`)];
  if (plan.framework?.web && !plan.http)
    comment.push('No index.html next to it: ready when its port accepts connections.');
  else if (plan.framework && !plan.http)
    comment.push("Ready when its port accepts connections (an API's / may well be a 404).");
  return {
    name,
    provides: plan.autoPort ? [] : ['PORT'],
    entry: entry(
      name,
      obj(
        entry('run', plan.run),
        cwd !== undefined && entry('cwd', cwd),
        plan.autoPort && entry('ports', obj(entry('primary', 'auto'))),
        cwd !== undefined && plan.build !== undefined && entry('setup', [plan.build]),
        plan.http && entry('readiness', obj(entry('type', 'http'), entry('path', '/'))),
      ),
      comment.map((c) => commentText(c, 200)),
    ),
  };
}

export function appServices(facts: RepoFacts): AppsOutcome {
  const out: AppsOutcome = {
    services: [],
    setup: [],
    teardown: [],
    detected: [],
    problems: [],
    hasServer: false,
    appDirs: new Map(),
    envSetups: [],
  };
  const taken = new Set<string>();
  const pm = facts.packageManager;
  const root = facts.packageJson;

  const conductor = facts.conductor;
  if (conductor) {
    out.detected.push(
      `conductor.json: ${Object.keys(conductor)
        .filter((k) => conductor[k as keyof typeof conductor])
        .join(', ')}`,
    );
    if (conductor.setup)
      out.setup.push({ command: withConductorPaths(conductor.setup), why: "conductor.json's setup script." });
    if (conductor.archive) out.teardown.push(withConductorPaths(conductor.archive));
    if (conductor.run) {
      out.hasServer = true;
      const name = uniqueName('app', taken);
      out.appDirs.set('.', { service: name });
      out.services.push({
        name,
        provides: ['PORT', 'CONDUCTOR_PORT'],
        entry: entry(
          name,
          obj(
            entry('run', withConductorPaths(conductor.run)),
            entry('env', obj(entry('CONDUCTOR_PORT', '$PORT'))),
          ),
          ["conductor.json's run script, given the cell's port as CONDUCTOR_PORT (and PORT)."],
        ),
      });
    }
  }

  // Each runnable app package of a monorepo, in its own folder; root tasks that fan out are left.
  if (pm && facts.workspaces && !conductor?.run) {
    out.detected.push(
      `monorepo (${facts.workspaces.source}): ${facts.workspaces.packages.map((p) => p.dir).join(', ') || 'no packages'}`,
    );
    const unsure: string[] = [];
    for (const pkg of facts.workspaces.packages) {
      const script = serverScript(pkg, { fanOutAllowed: false });
      if (!script) continue;
      const plan = planServer(pm, pkg, script);
      // An app package: a framework runs its server (a bare `node x.js` may be any tool's watcher).
      if (plan.framework?.id === 'node') unsure.push(`${pkg.dir} ("${script}")`);
      if (!plan.framework || plan.framework.id === 'node') continue;
      out.hasServer = true;
      const name = uniqueName(serviceName(path.posix.basename(pkg.dir)), taken);
      out.detected.push(`  ${pkg.dir}: "${script}" (${plan.framework.label}) → service ${name}`);
      out.problems.push(...plan.problems.map((p) => `${name}: ${p}`));
      const service = serviceFromPlan(name, plan, pkg.dir);
      out.services.push(service);
      out.appDirs.set(pkg.dir, { service: name, language: 'Node.js' });
      if (pkg.envExample && !pkg.dotEnv) out.envSetups.push({ pkg, service });
    }
    if (out.services.length === 0 && unsure.length) {
      out.hasServer = true;
      out.problems.push(
        `No package runs a framework init knows; these may be servers: ${unsure.join(', ')}. Add each under services with its cwd.`,
      );
    }
  }

  // The root package's own server, unless a monorepo's apps were found or conductor runs it. A
  // monorepo whose apps init cannot see (nx projects with a project.json and no package.json) runs
  // the root's server script as a single package would, task runner and all (`nx serve`).
  const procfileWeb = facts.procfile?.find((p) => p.name === 'web');
  const noAppSeen = out.services.length === 0 && !out.hasServer;
  if (pm && root && out.services.length === 0) {
    const script = serverScript(root, { fanOutAllowed: !facts.workspaces || noAppSeen });
    // A Procfile's web process stands unless the package has a dev server (preferred for a cell).
    if (script && (!procfileWeb || DEV_SCRIPT.test(script))) {
      out.hasServer = true;
      const plan = planServer(pm, root, script);
      out.detected.push(`package.json script "${script}": ${commentText(root.scripts[script] ?? '', 80)}`);
      out.problems.push(...plan.problems);
      if (plan.build)
        out.setup.push({ command: plan.build, why: plan.notes.at(-1) ?? 'The build it serves.' });
      const name = uniqueName('web', taken);
      const service = serviceFromPlan(name, plan, undefined);
      if (facts.workspaces)
        commentOf(service).unshift(
          `No app package found (${facts.workspaces.source}): the root's "${script}" runs the server instead.`,
        );
      out.services.push(service);
      out.appDirs.set('.', { service: name, language: 'Node.js' });
    }
  }

  const procfile = facts.procfile;
  let procfileUsedWeb = false;
  if (procfile?.length) {
    out.detected.push(`Procfile: ${procfile.map((p) => p.name).join(', ')}`);
    const webTaken = out.services.length > 0;
    let used = false;
    for (const p of procfile) {
      const isWeb = p.name === 'web';
      const alternative = isWeb && webTaken;
      const name = uniqueName(serviceName(alternative ? `procfile-${p.name}` : p.name), taken);
      if (isWeb) out.hasServer = true;
      if (p.name === 'release' || alternative) {
        const why =
          p.name === 'release'
            ? 'Procfile release: a one-off (migrations), better as setup or a database seed.'
            : "Procfile web: the package's dev server runs instead (a cell is for development).";
        out.services.push({ name, entry: entry(name, obj(entry('run', p.command)), [why], true) });
        continue;
      }
      used = true;
      // Heroku's convention: only `web` listens on $PORT; other process types get no port.
      out.services.push({
        name,
        provides: isWeb ? ['PORT'] : [],
        entry: entry(
          name,
          obj(entry('run', goBinary(p, facts.go)?.run ?? p.command), !isWeb && entry('ports', obj())),
          [
            `From the Procfile${isWeb ? '; it gets the port as PORT (as on Heroku)' : ' (no port, as on Heroku)'}.`,
          ],
        ),
      });
      if (isWeb) out.appDirs.set('.', { service: name });
    }
    if (used) out.setup.push(...procfileBuild(procfile, root?.scripts, pm, facts.go));
    procfileUsedWeb = procfile.some((p) => p.name === 'web') && !webTaken;
  }

  // A Go HTTP server, when nothing else runs the repository's program.
  if (facts.go && !procfileUsedWeb) {
    for (const main of facts.go.mains.filter((m) => m.server)) {
      out.hasServer = true;
      const name = uniqueName(main.pkg === '.' && !taken.has('web') ? 'web' : serviceName(main.name), taken);
      out.detected.push(
        `Go main package ${main.pkg} (net/http)${main.readsPort ? ', reads PORT' : ''} → service ${name}`,
      );
      const comment = [
        `A Go server (go.mod, package main in ${main.pkg}): compiled once in setup (Go's build cache makes go run quick).`,
      ];
      if (!main.readsPort) {
        comment.push(
          `Commented out: it does not read PORT. Make it listen on os.Getenv("PORT"), then enable this.`,
        );
        out.problems.push(
          `${name}: the Go server in ${main.pkg} does not read PORT: make it listen on os.Getenv("PORT").`,
        );
      }
      out.services.push({
        name,
        provides: ['PORT'],
        entry: entry(
          name,
          obj(entry('run', `go run ${main.pkg}`), entry('setup', [`go build -o /dev/null ${main.pkg}`])),
          comment,
          !main.readsPort,
        ),
      });
      if (main.readsPort && main.pkg === '.') out.appDirs.set('.', { service: name, language: 'Go' });
    }
  }

  // Whatever ran above, a root server script means the repository has a server: a config that
  // starts none must not pass as ready (draft.ts says so, and init exits 1).
  if (root && serverScript(root, { fanOutAllowed: true })) out.hasServer = true;

  return out;
}
