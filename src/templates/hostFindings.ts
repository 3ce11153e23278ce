import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import which from 'which';
import type { Workspace } from '../config/env.js';
import { postgresBinDir } from '../databases/server.js';
import { isSecret, resolveSecret, SecretUnavailable } from '../secrets/refs.js';
import { programsOf } from './commandPrograms.js';
import { error, type Finding, warning } from './findings.js';
import {
  availableMemoryMb,
  freeDiskMb,
  freePortsInRange,
  isGitRepo,
  isPortFree,
  portHolder,
  probeExecutable,
  resolveCommit,
} from './hostChecks.js';
import { portsOf } from './model.js';
import { containedPath, PROMPT_INSIDE_HINT } from './paths.js';
import type { ServiceSpec, Template } from './schema.js';

// The dry run's read-only checks of the real host: executables, ports, capacity, the repository and
// the files a template names. None of them changes anything.

type Services = Array<[string, ServiceSpec]>;

export async function checkExecutables(base: string, template: Template): Promise<Finding[]> {
  const checks = Object.entries(template.requirements.executables).map(async ([name, range]) => {
    const where = `${base}.requirements.executables.${name}`;
    if (!semver.validRange(range)) {
      return [error(where, `"${range}" is not a semver range`, 'Write a range such as ">=14" or "^20.1".')];
    }
    const found = await probeExecutable(name);
    if (!found.path) {
      return [
        error(where, `${name} is not on PATH`, `Install ${name} (${range}) or add its folder to PATH.`),
      ];
    }
    if (!found.version) {
      return range === '*'
        ? []
        : [warning(where, `could not read the version of ${found.path}`, `Make sure it satisfies ${range}.`)];
    }
    if (!semver.satisfies(found.version, range)) {
      return [
        error(
          where,
          `${name} ${found.version} at ${found.path} does not satisfy ${range}`,
          `Install a version matching ${range}, or put it first on PATH.`,
        ),
      ];
    }
    return [];
  });
  return (await Promise.all(checks)).flat();
}

/**
 * Every program the template's commands run (setup, teardown, dependency installs, each enabled
 * service's run, setup and stop) is on this host's PATH. Programs declared under requirements.executables are checked there,
 * with their version, and not again here.
 */
export async function checkCommandPrograms(
  base: string,
  template: Template,
  enabled: Services,
): Promise<Finding[]> {
  const commands: Array<[string, string]> = [
    ...template.setup.map((cmd, i): [string, string] => [`${base}.setup.${i}`, cmd]),
    ...template.teardown.map((cmd, i): [string, string] => [`${base}.teardown.${i}`, cmd]),
    ...template.dependencies.map((set, i): [string, string] => [
      `${base}.dependencies.${i}.install`,
      set.install,
    ]),
    ...Object.entries(template.databases).flatMap(([name, database]) =>
      database.seed.map((cmd, i): [string, string] => [`${base}.services.${name}.seed.${i}`, cmd]),
    ),
  ];
  for (const [name, service] of enabled) {
    const at = `${base}.services.${name}`;
    commands.push([`${at}.run`, service.run]);
    service.setup.forEach((cmd, i) => {
      commands.push([`${at}.setup.${i}`, cmd]);
    });
    if (service.stop !== undefined) commands.push([`${at}.stop`, service.stop]);
  }
  const declared = new Set(Object.keys(template.requirements.executables));
  const found = new Map<string, Promise<string | null>>();
  const lookup = (program: string) => {
    if (!found.has(program)) found.set(program, which(program, { nothrow: true }));
    return found.get(program) as Promise<string | null>;
  };
  const findings: Finding[] = [];
  for (const [where, command] of commands) {
    for (const program of programsOf(command)) {
      if (declared.has(program) || (await lookup(program))) continue;
      findings.push(
        error(
          where,
          `runs ${program}, which is not on this host's PATH`,
          `Install ${program} (or add its folder to the PATH Hive runs with), or change the command. Declaring it under requirements.executables adds a version check.`,
        ),
      );
    }
  }
  return findings;
}

/**
 * Docker and compose services are accepted in the config (Hive's own shape) but not run: a template
 * using one is refused here, saying what it needs, rather than failing at load or at run time.
 */
export function checkContainers(base: string, template: Template): Finding[] {
  return Object.entries(template.containers).map(([name, service]) =>
    error(
      `${base}.services.${name}`,
      `${name} is a ${service.type} service: it needs a container engine, and this Hive runs processes only`,
      service.type === 'docker'
        ? `Run ${service.image} as a process service (a "run" command on this host, e.g. from its Debian package), or run it outside Hive and pass its address in env.`
        : `Define the services of ${service.file} as process services, or run them outside Hive and pass their addresses in env.`,
    ),
  );
}

/** A `postgres` service needs PostgreSQL's server binaries on this host. */
export async function checkDatabases(base: string, template: Template): Promise<Finding[]> {
  const names = Object.keys(template.databases);
  if (names.length === 0 || (await postgresBinDir())) return [];
  return names.map((name) =>
    error(
      `${base}.services.${name}`,
      `${name} is a postgres database, and PostgreSQL is not installed on this host`,
      'Install it (Debian: apt-get install postgresql); Hive runs one server per workspace from its binaries.',
    ),
  );
}

export async function checkPorts(base: string, enabled: Services): Promise<Finding[]> {
  const findings: Finding[] = [];
  const fixed = new Map<number, string>();
  const ranges = new Map<string, { from: number; to: number; wanted: number; where: string }>();
  for (const [name, service] of enabled) {
    for (const [portName, spec] of Object.entries(portsOf(service))) {
      const where = `${base}.services.${name}.ports.${portName}`;
      if (typeof spec === 'number') {
        const twice = fixed.get(spec);
        if (twice) {
          findings.push(
            error(where, `port ${spec} is also fixed at ${twice}`, 'Give each fixed port to one service.'),
          );
          continue;
        }
        fixed.set(spec, where);
        if (!(await isPortFree(spec))) {
          const holder = await portHolder(spec);
          findings.push(
            error(
              where,
              `fixed port ${spec} is in use${holder ? ` by ${holder}` : ''}`,
              `Stop what holds ${spec}, or use a range or "any" for this port.`,
            ),
          );
        }
      } else if (Array.isArray(spec)) {
        const key = `${spec[0]}-${spec[1]}`;
        const entry = ranges.get(key) ?? { from: spec[0], to: spec[1], wanted: 0, where };
        entry.wanted++;
        ranges.set(key, entry);
      }
    }
  }
  for (const { from, to, wanted, where } of ranges.values()) {
    const free = await freePortsInRange(from, to, wanted);
    if (free.length < wanted) {
      findings.push(
        error(
          where,
          `range ${from}-${to} has ${free.length} free port(s); ${wanted} needed`,
          'Widen the range, free ports in it, or use "any".',
        ),
      );
    }
  }
  return findings;
}

export async function checkCapacity(
  base: string,
  template: Template,
  workspace: Workspace,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const { minFreeDiskMb, minFreeMemoryMb } = template.requirements;
  if (minFreeDiskMb !== undefined) {
    const free = await freeDiskMb(workspace.path);
    if (free < minFreeDiskMb) {
      findings.push(
        error(
          `${base}.requirements.minFreeDiskMb`,
          `${free} MB free on the workspace's disk; the template needs ${minFreeDiskMb} MB`,
          'Free disk space, or archive cells you no longer need.',
        ),
      );
    }
  }
  if (minFreeMemoryMb !== undefined) {
    const free = await availableMemoryMb();
    if (free < minFreeMemoryMb) {
      findings.push(
        error(
          `${base}.requirements.minFreeMemoryMb`,
          `${free} MB of memory available; the template needs ${minFreeMemoryMb} MB`,
          'Stop other cells or processes, or lower the requirement if it is too cautious.',
        ),
      );
    }
  }
  return findings;
}

export async function checkRepository(workspace: Workspace, baseRef: string): Promise<Finding[]> {
  if (await resolveCommit(workspace.path, baseRef)) return [];
  if (!(await isGitRepo(workspace.path))) {
    return [
      error(
        'workspace',
        `${workspace.path} is not a git repository`,
        'Run git init there, or register another path.',
      ),
    ];
  }
  return [
    error(
      'baseRef',
      `"${baseRef}" does not name a commit in ${workspace.path}`,
      'Use an existing branch, tag or commit (default HEAD needs at least one commit).',
    ),
  ];
}

/** Prompt files and folders exist and, with symlinks followed, stay inside the workspace. */
export async function checkPrompts(
  base: string,
  template: Template,
  workspace: Workspace,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const [i, prompt] of template.prompts.entries()) {
    const where = `${base}.prompts.${i}`;
    const outside = (file: string, real: string) =>
      error(where, `${file} is outside the workspace (it resolves to ${real})`, PROMPT_INSIDE_HINT);
    const found = await containedPath(workspace.path, prompt);
    if (!found.ok && found.reason === 'outside') {
      findings.push(outside(prompt, found.path));
    } else if (!found.ok) {
      findings.push(
        error(
          where,
          `prompt file or folder ${prompt} does not exist`,
          `Create ${found.path}, or remove it from prompts.`,
        ),
      );
    } else if ((await stat(found.path)).isDirectory()) {
      // A folder's fragments are read too: each must stay inside.
      for (const entry of await readdir(found.path)) {
        const inner = await containedPath(workspace.path, path.join(prompt, entry));
        if (!inner.ok && inner.reason === 'outside')
          findings.push(outside(path.join(prompt, entry), inner.path));
      }
    }
  }
  return findings;
}

/**
 * A service's `cwd` is relative to its worktree and stays inside it: checked here against the
 * workspace (the worktree's source), and again with symlinks followed when the service starts.
 */
export async function checkServiceDirs(
  base: string,
  enabled: Services,
  workspace: Workspace,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const [name, service] of enabled) {
    if (service.cwd === undefined) continue;
    const found = await containedPath(workspace.path, service.cwd);
    if (path.isAbsolute(service.cwd) || (!found.ok && found.reason === 'outside')) {
      findings.push(
        error(
          `${base}.services.${name}.cwd`,
          `${service.cwd} leaves the worktree`,
          'Give a folder of the repository, relative to its root (e.g. "packages/api").',
        ),
      );
    }
  }
  return findings;
}

/**
 * Every secret reference of the template and its enabled services resolves on this host (its value
 * is read and dropped: a finding names the variable and the reference, never a value).
 */
export async function checkSecrets(
  base: string,
  template: Template,
  enabled: Services,
  workspace: Workspace,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const envs: Array<[string, ServiceSpec['env']]> = [
    [base, template.env],
    ...enabled.map(([name, service]): [string, ServiceSpec['env']] => [
      `${base}.services.${name}`,
      service.env,
    ]),
  ];
  for (const [at, env] of envs) {
    for (const [variable, value] of Object.entries(env)) {
      if (!isSecret(value)) continue;
      try {
        await resolveSecret(variable, value.secret, { workspacePath: workspace.path });
      } catch (failure) {
        if (!(failure instanceof SecretUnavailable)) throw failure;
        findings.push(error(`${at}.env.${variable}`, failure.message, failure.hint));
      }
    }
  }
  return findings;
}
