import semver from 'semver';
import which from 'which';
import { postgresBinDir } from '../databases/server.js';
import { programsOf } from './commandPrograms.js';
import { error, type Finding, warning } from './findings.js';
import { probeExecutable } from './hostChecks.js';
import type { ServiceSpec, Template } from './schema.js';

// The dry run's read-only checks of the programs a template needs on this host: its declared
// executables (with their versions), every program its commands run, PostgreSQL's binaries for a
// database service, and container services (which Hive does not run). None of them changes anything.

export type Services = Array<[string, ServiceSpec]>;

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
